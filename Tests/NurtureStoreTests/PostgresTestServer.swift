import Foundation
import Logging
import NurtureStore
import PostgresNIO
import Testing

/// The PostgreSQL server the tests use: `scripts/pg-test-server.sh start` (run by `.ci/run`) exports its URL and
/// password file. Each test gets a database of its own, created here and left to die with the throwaway server.
enum PostgresTestServer {
    static let environment = ProcessInfo.processInfo.environment
    static var url: String? { environment["NURTURE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    static var isAvailable: Bool { url != nil }
    /// CI must run the PostgreSQL half of the suite: there, a missing server is a failure, never a skip.
    static var isCI: Bool { environment["CI"] == "true" }
    static let skipReason: Comment = "NURTURE_TEST_POSTGRES_URL is unset: PostgreSQL tests, and the PostgreSQL cases of StoreContractTests, skipped (scripts/pg-test-server.sh start)"

    static var password: String? {
        environment["NURTURE_TEST_POSTGRES_PASSWORD_FILE"].flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }?
            .trimmingCharacters(in: .newlines)
    }

    static let logger = Logger(label: "nurture.tests.postgres", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Options for a new, empty database on the test server.
    static func freshDatabase(poolSize: Int = 4) async throws -> PostgresStore.Options {
        guard let url else { throw Unavailable() }
        var options = try PostgresStore.Options(url: url, password: password, poolSize: poolSize)
        let name = "nurture_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin(options) { connection in
            // A name made here of hex digits, never input: CREATE DATABASE takes no bound parameter.
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        options.database = name
        return options
    }

    /// Runs `body` on one connection to the options' database.
    static func admin(_ options: PostgresStore.Options, _ body: (PostgresConnection) async throws -> Void) async throws {
        let configuration = PostgresConnection.Configuration(host: options.host, port: options.port, username: options.user,
                                                             password: options.password, database: options.database, tls: .disable)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        do {
            try await body(connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try await connection.close()
    }

    /// A fresh store with its own erasure key file.
    static func open(_ options: PostgresStore.Options? = nil, node: String? = nil) async throws -> PostgresStore {
        let resolved: PostgresStore.Options
        if let options { resolved = options } else { resolved = try await freshDatabase() }
        return try await PostgresStore.open(resolved, erasureKeyFile: keyFile(for: resolved), node: node)
    }

    /// One erasure key per test database, shared by every store opened on it (as every node of a cluster must be).
    static func keyFile(for options: PostgresStore.Options) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("nurture-pg-\(options.database)/erasure.key").path
    }

    struct Unavailable: Error, CustomStringConvertible {
        var description: String { "NURTURE_TEST_POSTGRES_URL is unset" }
    }
}
