import Foundation
import Testing

/// A stop or reload sent while `serve` is still starting (runtime, argument parsing) is logged and honoured.
@Suite(.serialized)
struct EarlySignalTests {
    /// Signals the process catches, from /proc/PID/status.
    static func caught(_ pid: Int32) -> UInt64? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigCgt:") }) else { return nil }
        return UInt64(line.dropFirst("SigCgt:".count).trimmingCharacters(in: .whitespaces), radix: 16)
    }

    /// Starts `serve` and returns as soon as its main has run its first line (SIGTERM, SIGINT and SIGHUP caught),
    /// polling every 0.2 ms; false if that never shows within 3 s.
    static func startHeld(_ p: NurtureProcess) throws -> (RunningNurture, Bool) {
        let serve = try p.start(["serve"])
        let mask: UInt64 = 1 << (UInt64(SIGTERM) - 1) | 1 << (UInt64(SIGHUP) - 1) | 1 << (UInt64(SIGINT) - 1)
        let binary = URL(fileURLWithPath: NurtureProcess.binary).resolvingSymlinksInPath().path
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            // The spawned child blocks every signal until its exec: only the exec'd binary's mask counts.
            let image = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(serve.pid)/exe")) ?? ""
            if image == binary, let c = Self.caught(serve.pid), c & mask == mask { return (serve, true) }
            usleep(200)
        }
        return (serve, false)
    }

    @Test func aSIGTERMAsSoonAsServeStartsIsLoggedAndDrainsCleanly() throws {
        let made = try MinimalProject.make(leads: 0)
        for _ in 0..<3 {
            let (serve, held) = try Self.startHeld(made.project)
            #expect(held, "SIGTERM, SIGINT and SIGHUP are caught from the first line of main")
            serve.kill(SIGTERM)
            #expect(serve.wait() == 0 && serve.process.terminationReason == .exit, "\(serve.stderr())")
            #expect(serve.stderr().contains("received SIGTERM: draining"), "\(serve.stderr())")
            #expect(serve.stderr().contains("nurture serve: stopped"))
        }
    }

    @Test func aSIGHUPAsSoonAsServeStartsReloadsInsteadOfKilling() throws {
        let made = try MinimalProject.make(leads: 0)
        let (serve, held) = try Self.startHeld(made.project)
        #expect(held)
        serve.kill(SIGHUP)
        #expect(BoundedPoll.until(timeout: 30) { serve.stderr().contains("reloaded 1 sequences") }, "\(serve.stderr())")
        #expect(serve.process.isRunning)
        #expect(BoundedPoll.until(timeout: 30) { (try? made.http.get("/healthz").status) == 200 })
        serve.kill(SIGTERM)
        #expect(serve.wait() == 0, "\(serve.stderr())")
    }
}
