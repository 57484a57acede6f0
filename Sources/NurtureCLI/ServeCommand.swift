import ArgumentParser
import Foundation
import Logging
import NurtureEngine
import UnixSignals

/// `nurture serve`: the daemon. Runs until SIGTERM; SIGHUP reloads config, sequences and templates.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the daemon: enroll leads, send due steps under the throttle, until SIGTERM.",
        discussion: "SIGHUP reloads the configuration, sequences and templates; files with errors are refused and the old ones kept."
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "Demo only: run the clock this many times faster (1440 = a day per minute).") var speed: Double = 1
    @Option(help: "Seconds the drain at SIGTERM may take before in-flight transfers are abandoned (possibly sent); keep it under systemd's TimeoutStopSec (45 s).")
    var shutdownGrace: Double = 20

    func run() async throws {
        // Trap stop signals first: from here on SIGTERM means "drain and exit 0", even during start-up.
        let stopSignals = await UnixSignalsSequence(trapping: .sigterm, .sigint)
        let reloadSignals = await UnixSignalsSequence(trapping: .sighup)
        EarlySignals.replay() // a stop or reload sent while the process was starting
        guard speed >= 1, speed <= 1_000_000 else { throw ValidationError("--speed must be between 1 and 1000000") }
        guard shutdownGrace >= 0.1, shutdownGrace <= 3_600 else { throw ValidationError("--shutdown-grace must be between 0.1 and 3600 seconds") }
        let path = try options.locate()
        let journal = ProcessInfo.processInfo.environment["JOURNAL_STREAM"].map { !$0.isEmpty } ?? false
        LoggingSystem.bootstrap { label in JournalLogHandler(label: label, journal: journal) }
        let logger = Logger(label: "nurture")
        var daemon = Daemon.Options(configPath: path, clock: speed == 1 ? SystemClock() : ScaledClock(factor: speed))
        daemon.speed = speed
        daemon.shutdownGrace = .milliseconds(Int(shutdownGrace * 1_000))
        daemon.version = NurtureCommand.configuration.version
        do {
            try await Daemon.run(daemon, openStore: StoreOpener.daemon, stopSignals: stopSignals, reloadSignals: reloadSignals, logger: logger)
        } catch {
            logger.critical("\(error)")
            throw ExitCode(1)
        }
    }
}
