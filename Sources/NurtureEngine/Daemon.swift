import Foundation
import Logging
import Metrics
import NurtureAuthoring
import NurtureHTTP
import Prometheus
import Synchronization
import NurtureCore
import NurtureMail
import NurtureSigning
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
        /// Recorded with the node's registration (`nurture stats`, `/metrics`).
        public var version = "unknown"

        public init(configPath: String, clock: NurtureClock) {
            self.configPath = configPath
            self.clock = clock
        }
    }

    public enum StartError: Error, CustomStringConvertible {
        case invalidConfiguration([Diagnostic])
        case unreadableSecret(String)
        case badListenAddress(String)
        case cannotListen(String, String)
        case badMailbox(String, String)

        public var description: String {
            switch self {
            case .invalidConfiguration(let d): "the configuration has errors:\n" + d.map(\.description).joined(separator: "\n")
            case .unreadableSecret(let file): "cannot read the secret file \(file)"
            case .badListenAddress(let a): "http.listen '\(a)' is not HOST:PORT"
            case let .cannotListen(a, why): "cannot listen on \(a) (http.listen): \(why)"
            case let .badMailbox(url, why): "inbound mailbox \(url): \(why)"
            }
        }
    }

    /// - Parameters:
    ///   - stopSignals: SIGTERM/SIGINT, trapped by the caller as early as possible, so a stop request that arrives
    ///     during start-up still ends in a graceful shutdown rather than the default kill.
    ///   - reloadSignals: SIGHUP, trapped as early, for the same reason.
    ///   - openStore: the composition root's choice of store for `database:` (it holds the database's lock).
    public static func run(_ options: Options, openStore: @Sendable (NurtureConfig) async throws -> any DaemonStore,
                           stopSignals: UnixSignalsSequence, reloadSignals: UnixSignalsSequence, logger: Logger) async throws {
        let notifier = SystemdNotifier()
        let (loaded, diagnostics) = CatalogReloader.load(configPath: options.configPath)
        guard let catalog = loaded else { throw StartError.invalidConfiguration(diagnostics) }
        for d in diagnostics { logger.warning("\(d)") }
        let config = catalog.config
        let store = try await openStore(config)
        // Registered before anything is claimed; the first heartbeat tells how many nodes share the limits.
        let cluster = ClusterView(nodeID: store.nodeID)
        try await store.join(hostname: ProcessInfo.processInfo.hostName, version: options.version, now: options.clock.now())
        if store.isShared { cluster.update(try await store.heartbeat(now: options.clock.now())) }
        if cluster.nodes.count > 1 {
            logger.info("nurture serve: node \(store.nodeID) joins \(cluster.nodes.count - 1) other live node(s); limits are shared")
        }
        await UnsubscribeJournalService.applyAtStart(store, scoring: catalog.scoringContext, logger: logger)
        let recovered = try await store.recoverInterrupted(now: options.clock.now())
        if recovered > 0 { logger.warning("\(recovered) sends were in flight at the last stop; they will be retried and are marked possibly sent") }
        let signer = try tokenSigner(config, logger: logger)
        let health = HealthMonitor(limits: .init(failingAfter: .seconds(config.health.schedulerFailingAfter.seconds)))
        let transport = try makeTransport(config, progress: { health.progressed() })
        let holder = CatalogHolder(catalog)
        var settings = Scheduler.Settings()
        settings.clock = { [clock = options.clock] in clock.now() }
        settings.share = { cluster.share }
        let scheduler = Scheduler(store: store, transport: transport, catalog: holder, composer: MessageComposer(signer: signer),
                                  settings: settings, logger: logger)
        let reloader = CatalogReloader(configPath: options.configPath, holder: holder, store: store, logger: logger)
        let registry = Self.metricsRegistry
        let clock = options.clock
        let depth = OutboxDepthGauge()
        let inboundGauge = InboundGauge()
        let handoffGauge = HandoffGauge()
        let tracking = TrackingServer(store: store, signer: signer, site: { Self.site(holder.current.config) }, health: health,
                                      now: { clock.now() }, metricsText: {
                                          await inboundGauge.refreshIfStale(store)
                                          await handoffGauge.refreshIfStale(store, now: clock.now())
                                          return await Self.metricsText(registry, store: store, depth: depth) + Array(cluster.metricsText(now: clock.now()).utf8) },
                                      api: LeadsAPIBackend(store: store, catalog: holder, clock: clock),
                                      apiToken: try Self.secret(config.secrets.apiToken).map { String(decoding: $0, as: UTF8.self) },
                                      storedRepeatsPerHour: config.http.storedRepeatsPerHour, logger: logger)
        let (host, port) = try Self.listenAddress(config.http.listen)
        // Between ticks the loop must turn at least four times per watchdog interval, whatever it is waiting for.
        var poll = options.pollInterval
        if let watchdog = notifier.watchdogInterval { poll = min(poll, watchdog.inSeconds / 4) }
        let sequences = catalog.sequences.count
        let limits = TrackingServer.Limits(headerTimeout: .seconds(config.http.headerTimeout.seconds), maxConnections: config.http.maxConnections,
                                           metricsRequireToken: config.http.metricsRequireToken, metricsElsewhere: config.http.metricsListen != nil)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            // First, so it is shut down last, once nothing uses it; then its threads are joined.
            .init(service: StoreService(store: store), successTerminationBehavior: .ignore),
            // First, so it is shut down last: it keeps pinging while the others drain.
            .init(service: WatchdogService(notifier: notifier, health: health, logger: logger), successTerminationBehavior: .ignore),
            // Before its users, so it is shut down after them: the scheduler's and the hand-offs' transfers finish first.
            .init(service: TransportService(transport), successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: SchedulerService(scheduler: scheduler, store: store, clock: options.clock, pollInterval: poll * options.speed,
                                            health: health, notifier: notifier, logger: logger),
                  successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: UnsubscribeJournalService(store: store, scoring: { holder.current.scoringContext }, logger: logger),
                  successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: ReloadService(reloader: reloader, notifier: notifier, signals: reloadSignals), successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: HandoffService(store: store, catalog: holder, transport: transport, clock: options.clock,
                                          secret: try Self.secret(config.secrets.webhookSecret), pollInterval: poll * options.speed, logger: logger),
                  successTerminationBehavior: .gracefullyShutdownGroup),
            // Before the server, so it is shut down after it: hits the server took are written before the store closes.
            .init(service: tracking.batcher, successTerminationBehavior: .gracefullyShutdownGroup),
            .init(service: tracking.application(host: host, port: port, limits: limits, onListening: {
                logger.info("nurture serve: HTTP listening on \(host):\(port), links point to \(config.http.publicURL)")
                // Everything is in place: database migrated, lock held, sequences loaded, port accepting connections.
                notifier.ready(status: "serving \(sequences) sequences; HTTP on \(host):\(port)")
            }), successTerminationBehavior: .gracefullyShutdownGroup),
        ]
        if store.isShared {
            // Before every user of claims (after the store and the watchdog), so it is shut down after them: leases
            // stay extended while they drain.
            services.insert(.init(service: NodeService(store: store, view: cluster, clock: options.clock, logger: logger),
                                  successTerminationBehavior: .gracefullyShutdownGroup), at: 2)
        }
        if !config.inbound.mailboxes.isEmpty {
            let processor = InboundProcessor(store: store, catalog: holder, signer: signer, clock: options.clock, logger: logger)
            // After the store and the transport, so it is shut down before them: the message in hand is recorded first.
            services.insert(.init(service: InboundService(mailboxes: try Self.mailboxes(config), processor: processor, clock: options.clock,
                                                          interval: { Double(holder.current.config.inbound.pollInterval.seconds) }, logger: logger),
                                  successTerminationBehavior: .gracefullyShutdownGroup), at: services.count - 2)
        }
        if let metricsListen = config.http.metricsListen {
            let (metricsHost, metricsPort) = try Self.listenAddress(metricsListen)
            services.append(.init(service: tracking.metricsApplication(host: metricsHost, port: metricsPort, limits: limits),
                                  successTerminationBehavior: .gracefullyShutdownGroup))
        }
        var configuration = ServiceGroupConfiguration(services: services, logger: logger)
        configuration.maximumGracefulShutdownDuration = options.shutdownGrace
        let group = ServiceGroup(configuration: configuration)
        logger.info("nurture serve: \(catalog.sequences.count) sequences, database \(config.database), transport \(describe(config.transport))")
        let stopping = StopRequest()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                for await signal in stopSignals {
                    stopping.set()
                    notifier.stopping()
                    logger.info("received \(signal): draining")
                    await group.triggerGracefulShutdown()
                    break
                }
            }
            do {
                try await group.run()
            } catch is CancellationError where stopping.isSet {
                // The drain outlived its bound: what was still in flight (a relay that never answers) was abandoned and
                // stays `sending`, recovered as possibly sent at the next start. A stop asked for is still a clean exit.
                logger.warning("the drain took longer than \(options.shutdownGrace): in-flight transfers abandoned; they will be retried and are marked possibly sent")
            } catch where "\(error)".contains("bind(") {
                // NIO's bind error names the system call, not what the operator configured.
                throw StartError.cannotListen(config.http.listen, "\(error)".contains("in use") ? "address already in use" : "\(error)")
            }
            tasks.cancelAll()
        }
        logger.info("nurture serve: stopped")
    }

    /// The `inbound.mailboxes`, their passwords read from their files (never logged); no connection is made here.
    static func mailboxes(_ config: NurtureConfig) throws -> [InboundMailbox] {
        try config.inbound.mailboxes.map { m in
            guard let password = try secret(m.passwordFile) else { throw StartError.unreadableSecret(m.passwordFile) }
            do {
                let settings = try IMAPSettings(url: m.url, username: m.username, password: String(decoding: password, as: UTF8.self),
                                                startTLS: m.startTLS == "off" ? .off : .required, caFile: m.caFile,
                                                processedFolder: m.processedFolder, maxMessageSize: config.inbound.maxMessageSize)
                return IMAPInbox(IMAPMailbox(settings: settings))
            } catch {
                throw StartError.badMailbox(m.url, "\(error)")
            }
        }
    }

    /// A secret file's content (trailing newlines dropped), nil when not configured.
    static func secret(_ path: String?) throws -> Data? {
        guard let path else { return nil }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw StartError.unreadableSecret(path) }
        return Data(text.trimmingCharacters(in: .newlines).utf8)
    }

    /// One Prometheus registry per process, bootstrapped into swift-metrics on first use.
    static let metricsRegistry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    /// Outbox depth is counted at most every 15 s, then the whole registry is rendered from memory.
    static func metricsText(_ registry: PrometheusCollectorRegistry, store: TrackingStore, depth: OutboxDepthGauge) async -> [UInt8] {
        await depth.refreshIfStale(store)
        return registry.emitToBuffer()
    }

    static func site(_ config: NurtureConfig) -> TrackingServer.Site {
        TrackingServer.Site(senderName: config.sender.name, defaultLocale: config.defaultLocale,
                            policy: MachineSignals.Policy(openWithin: TimeInterval(config.http.machineOpenWithin.seconds),
                                                          clickWithin: TimeInterval(config.http.machineClickWithin.seconds)),
                            scoring: ScoringContext(config),
                            publicPath: (try? PublicURL.parse(config.http.publicURL).get())?.path ?? "")
    }

    /// `HOST:PORT`, `[IPv6]:PORT`.
    static func listenAddress(_ listen: String) throws -> (String, Int) {
        guard let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]) else {
            throw StartError.badListenAddress(listen)
        }
        var host = String(listen[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host.isEmpty ? "0.0.0.0" : host, port)
    }

    /// The key from `secrets.token_key_file` (default: beside the database); generated on first run.
    public static func tokenSigner(_ config: NurtureConfig, logger: Logger) throws -> TokenSigner {
        let path = config.secrets.tokenKey ?? URL(fileURLWithPath: config.keyDirectory).appendingPathComponent("token.key").path
        if !FileManager.default.fileExists(atPath: path) {
            try TokenSigner.generateKeyFile(at: path)
            logger.notice("generated a new link-signing key at \(path)")
        }
        return try TokenSigner.load(file: path)
    }

    /// - Parameter progress: called by the SMTP transport's threads while transfers are in progress.
    public static func makeTransport(_ config: NurtureConfig, progress: @escaping @Sendable () -> Void = {}) throws -> Transport {
        switch config.transport {
        case .file(let directory): return try FileTransport(directory: directory)
        case .smtp(let url): return SMTPTransport(settings: try smtpSettings(config, url: url), progress: progress)
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

/// Whether a stop signal arrived: a drain cancelled at its bound then still ends in a clean exit.
final class StopRequest: Sendable {
    private let flag = Mutex(false)
    func set() { flag.withLock { $0 = true } }
    var isSet: Bool { flag.withLock { $0 } }
}
