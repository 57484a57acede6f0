import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureEngine
import NurtureStore

/// The composition root's one choice of store: the only place outside the store module that names one. `database:`
/// is a SQLite file path, or a postgresql:// URL.
enum StoreOpener {
    /// For the administration commands.
    static func admin(_ config: NurtureConfig) async throws -> any AdminStore {
        if config.usesPostgres { return try await postgres(config, node: nil) }
        return try await SQLiteStore.open(path: config.database, erasureKeyFile: config.erasureKeyFile)
    }

    /// For `nurture serve`: on SQLite the store holds the one-daemon lock on its file until the process exits; on
    /// PostgreSQL it is one node of a cluster, with a fresh id per start (its earlier claims are recovered, not resumed).
    static func daemon(_ config: NurtureConfig) async throws -> any DaemonStore {
        if config.usesPostgres {
            let node = ClusterNode.makeID(hostname: ProcessInfo.processInfo.hostName, pid: getpid(), random: UInt32.random(in: 0...UInt32.max))
            return try await postgres(config, node: node)
        }
        return try await SQLiteStore.open(path: config.database, erasureKeyFile: config.erasureKeyFile, exclusive: true)
    }

    /// A scratch store for `nurture simulate`: always a SQLite file, whatever the installation uses.
    static func scratch(_ path: String) async throws -> any Simulation.Store {
        try await SQLiteStore.open(path: path)
    }

    /// The password is read from `secrets.database_password_file` (never from the URL, never logged).
    static func postgres(_ config: NurtureConfig, node: String?) async throws -> PostgresStore {
        var password: String?
        if let file = config.secrets.databasePassword {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw SecretError.unreadable(file) }
            password = text.trimmingCharacters(in: .newlines)
        }
        var options = try PostgresStore.Options(url: config.database, password: password, poolSize: config.postgres.poolSize)
        options.connectTimeout = .seconds(config.postgres.connectTimeout.seconds)
        options.lease = config.postgres.lease
        return try await PostgresStore.open(options, erasureKeyFile: config.erasureKeyFile, node: node)
    }

    enum SecretError: Error, CustomStringConvertible {
        case unreadable(String)
        var description: String {
            switch self { case let .unreadable(file): "cannot read secrets.database_password_file \(file)" }
        }
    }
}

extension SQLiteStore: AdminStore {}
extension PostgresStore: AdminStore {}
