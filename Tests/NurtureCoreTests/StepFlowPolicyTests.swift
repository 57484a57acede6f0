import Foundation
import NurtureCore
import Testing

/// Where an enrollment goes after each kind of step, and how a due wait is decided.
struct StepFlowPolicyTests {
    static func step(_ id: String, _ flow: StepFlow = .mail, then: Jump? = nil, else otherwise: Jump? = nil) -> Step {
        var s = Step(id: id, after: .zero, template: flow.isMail ? "t" : "")
        s.flow = flow
        s.then = then
        s.otherwise = otherwise
        return s
    }

    static let wait = StepFlow.wait(WaitFor(behaviour: .event("demo_requested"), within: .days(1)))
    static let seq = NurtureSequence(id: "s", persona: "p", name: "s", steps: [
        step("a"), step("w", wait, then: .step("d"), else: .step("a")), step("n", then: .exit), step("d"),
    ])

    @Test func gotosAndTheFileOrderDecideTheNextStep() {
        #expect(StepPlanner.next(in: Self.seq, after: "a", jump: nil, done: [])?.step.id == "w")
        #expect(StepPlanner.next(in: Self.seq, after: "w", jump: .step("d"), done: ["a"])?.step.id == "d")
        #expect(StepPlanner.next(in: Self.seq, after: "n", jump: .exit, done: []) == nil)
        #expect(StepPlanner.next(in: Self.seq, after: "d", jump: nil, done: []) == nil, "the end of the file completes")
        let back = StepPlanner.next(in: Self.seq, after: "w", jump: .step("a"), done: ["a"], visits: ["a": 1, "w": 1])
        #expect(back?.step.id == "a" && back?.visit == 2)
        #expect(StepPlanner.next(in: Self.seq, after: "w", jump: .step("a"), done: ["a"], visits: ["a": StepPlanner.maximumVisits]) == nil)
    }

    static func input(now: Date, events: Set<String> = [], waitUntil: Date?) -> DispatchInput {
        var i = DispatchInput(now: now, dueAt: now, sequence: seq, stepID: "w", leadSuppressed: false, leadScore: 0, eventsSinceEnrollment: events,
                              engagement: Engagement(), recentSends: [], sendsSinceEngagement: 0, zone: .gmt, throttle: ThrottlePolicy())
        i.waitUntil = waitUntil
        return i
    }

    @Test func aDueWaitPassesOnTheBehaviourWaitsOnBeforeItsTimeoutAndTakesElseAfter() {
        let t0 = Date(timeIntervalSince1970: 1_800_000_000), timeout = t0.addingTimeInterval(86_400)
        #expect(DispatchPolicy.decide(Self.input(now: t0, events: ["demo_requested"], waitUntil: timeout)) == .pass(reason: "demo_requested seen", next: .step("d")))
        #expect(DispatchPolicy.decide(Self.input(now: t0, waitUntil: timeout)) == .postpone(until: timeout, reason: "waiting for demo_requested"))
        #expect(DispatchPolicy.decide(Self.input(now: timeout, waitUntil: timeout)) == .pass(reason: "no demo_requested within 1d", next: .step("a")))
        var suppressed = Self.input(now: t0, events: ["demo_requested"], waitUntil: timeout)
        suppressed.leadSuppressed = true
        #expect(DispatchPolicy.decide(suppressed) == .exit(reason: "suppressed", handoff: false, leadWide: true))
    }
}
