import Foundation
import Testing

/// The scheduler under the global rate, measured on the real daemon.
@Suite(.serialized)
struct SchedulerRateTests {
    @Test func aBacklogUnderTheGlobalRateSleepsUntilTheNextTokenInsteadOfSpinning() throws {
        // 600 due sends, more than a due batch (500), at one per second.
        let made = try MinimalProject.make(leads: 600, rate: "1/s")
        let serve = try made.project.start(["serve"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 30) { MinimalProject.outbox(made.project).count >= 2 }, "\(serve.stderr())")
        let before = try #require(MinimalProject.cpuSeconds(pid: serve.pid))
        let started = Date()
        BoundedPoll.wait(seconds: 4)
        let used = try #require(MinimalProject.cpuSeconds(pid: serve.pid)) - before
        let share = used / Date().timeIntervalSince(started)
        #expect(share < 0.10, "the daemon used \(Int(share * 100)) % of a core while waiting for the rate")
        // And it kept sending at the rate: about one message a second.
        let sent = MinimalProject.outbox(made.project).count
        #expect(sent >= 4 && sent <= 9, "\(sent) sent")
    }
}
