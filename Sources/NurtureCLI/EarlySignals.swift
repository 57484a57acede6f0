import Foundation
import Synchronization

/// `serve` traps SIGTERM, SIGINT and SIGHUP once it runs, but the runtime and argument parsing come first, and
/// a signal's default action there killed the daemon without a word. From main's first line a plain handler
/// records such a signal; once the daemon's own handling is in place the signal is raised again, so it is
/// logged and honoured (drain, or reload). Blocking them instead does not hold: async main parks the main
/// thread in sigsuspend with every signal unblocked.
public enum EarlySignals {
    static let caught = Atomic<UInt64>(0)
    static let signals = [SIGTERM, SIGINT, SIGHUP]

    public static func catchForServe(_ arguments: [String] = CommandLine.arguments) {
        guard arguments.dropFirst().first == "serve" else { return }
        _ = caught.load(ordering: .relaxed) // initialized here, never first in the handler
        for s in signals {
            signal(s) { s in _ = EarlySignals.caught.bitwiseOr(1 << UInt64(s), ordering: .relaxed) }
        }
    }

    /// Called once the daemon traps the signals: raises again the ones that arrived before.
    static func replay() {
        let seen = caught.exchange(0, ordering: .relaxed)
        for s in signals where seen & (1 << UInt64(s)) != 0 { kill(getpid(), s) }
    }
}
