import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureEngine
import NurtureStore

/// The composition root's one choice of store: the only place outside the store module that names one. `database:`
/// is a SQLite file path.
enum StoreOpener {
    /// For the administration commands.
    static func admin(_ config: NurtureConfig) async throws -> any AdminStore {
        try await SQLiteStore.open(path: config.database, erasureKeyFile: config.erasureKeyFile)
    }

    /// For `nurture serve`: the store holds the one-daemon lock on its database until the process exits.
    static func daemon(_ config: NurtureConfig) async throws -> any DaemonStore {
        try await SQLiteStore.open(path: config.database, erasureKeyFile: config.erasureKeyFile, exclusive: true)
    }

    /// A scratch store for `nurture simulate`.
    static func scratch(_ path: String) async throws -> any Simulation.Store {
        try await SQLiteStore.open(path: path)
    }
}

extension SQLiteStore: AdminStore {}
