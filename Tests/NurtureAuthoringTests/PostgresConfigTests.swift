import Foundation
import Testing
@testable import NurtureAuthoring

/// `database:` as a postgresql:// URL: kept as written, the password from a file, the pool in `postgresql:`, and
/// every mistake reported at its line and column.
struct PostgresConfigTests {
    static func load(_ yaml: String, environment: [String: String] = [:]) throws -> (NurtureConfig?, DiagnosticSink, String) {
        let dir = try ConfigDiscoveryTests.write(yaml)
        let sink = DiagnosticSink()
        return (ConfigLoader.load(path: dir + "/nurture.yaml", sink: sink, environment: environment), sink, dir)
    }

    static let sender = "sender: { name: S, email: s@example.com, postal_address: 1 Street }"

    @Test func aPostgreSQLURLIsKeptAsWrittenWithItsPasswordFileAndPoolSize() throws {
        let (config, sink, dir) = try Self.load("""
            database: postgresql://nurture@db.example.com:5433/nurture?sslmode=require
            postgresql: { pool_size: 16, connect_timeout: 5s, lease: 12s }
            secrets: { database_password_file: db_password }
            \(Self.sender)
            """)
        let c = try #require(config, "\(sink.items)")
        #expect(c.postgres.lease.seconds == 12)
        #expect(c.usesPostgres)
        #expect(c.database == "postgresql://nurture@db.example.com:5433/nurture?sslmode=require")
        #expect(c.postgres.poolSize == 16 && c.postgres.connectTimeout.seconds == 5)
        #expect(c.secrets.databasePassword == dir + "/db_password")
        // Generated keys go to the data folder, not beside a file that does not exist.
        #expect(c.erasureKeyFile == dir + "/erasure.key")
    }

    @Test(arguments: ["1s", "2h"])
    func aNodeLeaseShorterThanThreeSecondsOrLongerThanAnHourIsAnErrorAtItsLine(lease: String) throws {
        let (config, sink, _) = try Self.load("\(Self.sender)\ndatabase: postgresql://nurture@db/nurture\npostgresql: { lease: \(lease) }\n")
        #expect(config == nil)
        #expect(sink.items.map(\.description).contains { $0.hasSuffix(":3:22: error: 'postgresql.lease' must be between 3s and 1h") },
                "\(sink.items)")
    }

    @Test(arguments: [
        ("postgresql://nurture:hunter2@db/nurture", "must not carry a password"),
        ("postgresql://db/nurture", "must name a user"),
        ("postgresql://nurture@db/", "must name one database"),
        ("postgresql://nurture@db/nurture?sslmode=prefer", "sslmode must be disable, require or verify-full"),
        ("postgresql://nurture@db/nurture?host=/tmp", "unknown parameter 'host'"),
    ])
    func aMalformedURLIsAnErrorAtItsLine(url: String, message: String) throws {
        let (config, sink, _) = try Self.load("\(Self.sender)\ndatabase: \(url)\n")
        #expect(config == nil)
        let error = try #require(sink.items.first { $0.severity == .error })
        #expect(error.line == 2 && error.column == 11)
        #expect(error.message.contains(message), "\(error)")
        #expect(!error.message.contains("hunter2"))
    }

    @Test func thePostgreSQLSectionWithASQLiteDatabaseIsAnError() throws {
        let (config, sink, _) = try Self.load("database: nurture.sqlite\npostgresql: { pool_size: 4 }\n\(Self.sender)\n")
        #expect(config == nil)
        #expect(sink.items.contains { $0.severity == .error && $0.line == 2 && $0.message.contains("only when 'database' is a postgresql:// URL") })
    }

    @Test func aPoolSizeOutOfRangeIsAnError() throws {
        let (config, sink, _) = try Self.load("database: postgresql://n@db/n\npostgresql: { pool_size: 0 }\n\(Self.sender)\n")
        #expect(config == nil)
        #expect(sink.items.contains { $0.severity == .error && $0.line == 2 && $0.message.contains("pool_size") })
    }
}
