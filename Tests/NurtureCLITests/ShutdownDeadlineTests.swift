import Foundation
import Testing

/// SIGTERM always ends the daemon within its drain bound, even while a transfer waits on a relay that took the
/// whole message and never answers; that send is left possibly sent, never marked sent nor forgotten.
extension SystemdTests {
    @Test func aTransferStalledOnASilentRelayIsAbandonedAtTheDrainDeadlineAndTheDaemonExitsCleanly() throws {
        let relay = try SlowRelay(dataDelay: 3_600)
        let made = try MinimalProject.make(leads: 1, transport: "smtp://127.0.0.1:\(relay.port)")
        let p = made.project
        let serve = try p.start(["serve", "--shutdown-grace", "2"])
        #expect(BoundedPoll.until(timeout: 30) { FileManager.default.fileExists(atPath: relay.directory + "/holding") }, "\(serve.stderr())")
        let stop = Date()
        serve.kill(SIGTERM)
        let status = serve.wait(timeout: 15)
        let took = Date().timeIntervalSince(stop)
        #expect(status == 0, "\(serve.stderr())")
        #expect(took < 6, "stopped after \(took) s")
        #expect(serve.stderr().contains("in-flight transfers abandoned"), "\(serve.stderr())")
        #expect(try p.lead("lead0@example.com").sends(step: "one").map(\.status) == ["sending"])
        // At the next start the send is put back, flagged: it may be delivered twice, and is said to be.
        let again = try p.start(["serve"])
        defer { again.kill(SIGKILL); _ = again.wait() }
        #expect(BoundedPoll.until(timeout: 30) { again.stderr().contains("1 sends were in flight at the last stop") }, "\(again.stderr())")
        #expect(try p.lead("lead0@example.com").sends(step: "one").first?.possiblySent == true)
    }
}
