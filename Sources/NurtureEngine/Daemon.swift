import Foundation
import Logging
import NurtureAuthoring
import NurtureCore
import NurtureMail
import NurtureSigning
import NurtureStore
import ServiceLifecycle
import UnixSignals

/// Assembles and runs `nurture serve`: lock, store, crash recovery, transport, and the services in one group.
public enum Daemon {
    public struct Options: Sendable {
        public var configPath: String
        public var clock: NurtureClock
        /// Real seconds between polls for new leads; multiplied by the clock's speed.
        public var pollInterval: TimeInterval = 1
        public var speed: Double = 1
        /// Bound on the drain at SIGTERM before in-flight work is cancelled.
        public var shutdownGrace: Duration = .seconds(20)

        public init(configPath: String, clock: NurtureClock) {
            self.configPath = configPath
            self.clock = clock
        }
    }

    public enum StartError: Error, CustomStringConvertible {
        case invalidConfiguration([Diagnostic])
        case unreadableSecret(String)

        public var description: String {
            switch self {
            case .invalidConfiguration(let d): "the configuration has errors:\n" + d.map(\.description).joined(separator: "\n")
            case .unreadableSecret(let file): "cannot read the secret file \(file)"
            }
        }
    }

    /// - Parameter stopSignals: SIGTERM/SIGINT, trapped by the caller as early as possible, so a stop request
    ///   that arrives during start-up still ends in a graceful shutdown rather than the default kill.
    public static func run(_ options: Options, stopSignals: UnixSignalsSequence, logger: Logger) async throws {
        let (loaded, diagnostics) = CatalogReloader.load(configPath: options.configPath)
        guard let catalog = loaded else { throw StartError.invalidConfiguration(diagnostics) }
        for d in diagnostics { logger.warning("\(d)") }
        let config = catalog.config
        let lock = try DaemonLock(path: config.database + ".lock")
        let store = try SQLiteStore(path: config.database)
        let recovered = try store.recoverInterrupted(now: options.clock.now())
        if recovered > 0 { logger.warning("\(recovered) sends were in flight at the last stop; they will be retried and are marked possibly sent") }
        let signer = try tokenSigner(config, logger: logger)
        let transport = try makeTransport(config)
        let holder = CatalogHolder(catalog)
        let scheduler = Scheduler(store: store, transport: transport, catalog: holder, composer: MessageComposer(signer: signer), logger: logger)
        let reloader = CatalogReloader(configPath: options.configPath, holder: holder, store: store, logger: logger)
        let services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: SchedulerService(scheduler: scheduler, store: store, clock: options.clock,
                                            pollInterval: options.pollInterval * options.speed, logger: logger),
                  successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: ReloadService(reloader: reloader), successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.maximumGracefulShutdownDuration = options.shutdownGrace
        let group = ServiceGroup(configuration: configuration)
        logger.info("nurture serve: \(catalog.sequences.count) sequences, database \(config.database), transport \(describe(config.transport))")
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await signal in stopSignals {
                    logger.info("received \(signal): draining")
                    await group.triggerGracefulShutdown()
                    break
                }
            }
            try await group.run()
            tasks.cancelAll()
        }
        logger.info("nurture serve: stopped")
        withExtendedLifetime(lock) {}
    }

    /// The key from `secrets.token_key_file` (default: beside the database); generated on first run.
    static func tokenSigner(_ config: NurtureConfig, logger: Logger) throws -> TokenSigner {
        let path = config.secrets.tokenKey ?? URL(fileURLWithPath: config.database).deletingLastPathComponent().appendingPathComponent("token.key").path
        if !FileManager.default.fileExists(atPath: path) {
            try TokenSigner.generateKeyFile(at: path)
            logger.notice("generated a new link-signing key at \(path)")
        }
        return try TokenSigner.load(file: path)
    }

    public static func makeTransport(_ config: NurtureConfig) throws -> Transport {
        switch config.transport {
        case .file(let directory): return try FileTransport(directory: directory)
        case .smtp(let url): return SMTPTransport(settings: try smtpSettings(config, url: url))
        }
    }

    /// SMTP settings from the config, with the password read from its secret file.
    static func smtpSettings(_ config: NurtureConfig, url: String) throws -> SMTPSettings {
        let o = config.smtp
        var password: String?
        if let file = config.secrets.smtpPassword {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw StartError.unreadableSecret(file) }
            password = text.trimmingCharacters(in: .newlines)
        }
        return SMTPSettings(url: url, startTLS: SMTPSettings.StartTLS(rawValue: o.startTLS) ?? .required, username: o.username,
                            password: password, connections: o.connections, connectTimeout: TimeInterval(o.connectTimeout.seconds),
                            responseTimeout: TimeInterval(o.responseTimeout.seconds), caFile: o.caFile, heloName: o.helo)
    }

    static func describe(_ t: NurtureConfig.TransportSettings) -> String {
        switch t {
        case .file(let d): "file://\(d)"
        case .smtp(let u): u
        }
    }
}
