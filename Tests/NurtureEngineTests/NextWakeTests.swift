import Foundation
import NurtureEngine
import Testing

/// The one decision of when the scheduler ticks next (daemon, `simulate`, test harness).
struct NextWakeTests {
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func aFullBatchRunsAgainAtOnceWhateverElseIsDue() {
        #expect(NextWake.after(moreWork: true, wakeAt: Self.now + 5, nextDue: Self.now + 1, now: Self.now, poll: 1) == .now)
    }

    @Test func withNothingDueTheDaemonPollsAndAVirtualClockIsIdle() {
        #expect(NextWake.after(moreWork: false, wakeAt: nil, nextDue: nil, now: Self.now, poll: 2) == .at(Self.now + 2))
        #expect(NextWake.after(moreWork: false, wakeAt: nil, nextDue: nil, now: Self.now, poll: nil) == .idle)
    }

    @Test func theNextDueSendWakesTheLoopBeforeThePoll() {
        #expect(NextWake.after(moreWork: false, wakeAt: nil, nextDue: Self.now + 0.5, now: Self.now, poll: 2) == .at(Self.now + 0.5))
        #expect(NextWake.after(moreWork: false, wakeAt: nil, nextDue: Self.now + 60, now: Self.now, poll: 2) == .at(Self.now + 2))
        #expect(NextWake.after(moreWork: false, wakeAt: nil, nextDue: Self.now + 60, now: Self.now, poll: nil) == .at(Self.now + 60))
    }

    @Test func sendsHeldByTheGlobalRateWaitForItsNextTokenNotForTheirDueTime() {
        // Already due, but the rate stopped the tick: waking at once would re-read the same batch at a full core.
        #expect(NextWake.after(moreWork: false, wakeAt: Self.now + 0.1, nextDue: Self.now - 10, now: Self.now, poll: 1) == .at(Self.now + 0.1))
        #expect(NextWake.after(moreWork: false, wakeAt: Self.now + 0.1, nextDue: Self.now - 10, now: Self.now, poll: nil) == .at(Self.now + 0.1))
    }

    @Test func aDueSendTheTickLeftWaitingIsNotAReasonToSpin() {
        #expect(NextWake.after(moreWork: false, wakeAt: nil, nextDue: Self.now, now: Self.now, poll: 1) == .at(Self.now + 1))
        #expect(NextWake.after(moreWork: false, wakeAt: nil, nextDue: Self.now, now: Self.now, poll: nil) == .idle)
    }

    @Test func scriptedEventsJoinTheDecision() {
        let idle = NextWake.idle, later = NextWake.at(Self.now + 100)
        #expect(idle.earliest(with: [], now: Self.now) == nil)
        #expect(idle.earliest(with: [Self.now + 7], now: Self.now) == Self.now + 7)
        #expect(later.earliest(with: [Self.now + 7], now: Self.now) == Self.now + 7)
        #expect(NextWake.now.earliest(with: [Self.now + 7], now: Self.now) == Self.now)
    }
}
