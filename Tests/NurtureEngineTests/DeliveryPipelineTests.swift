import Foundation
import NurtureCore
@testable import NurtureEngine
import Testing

/// The delivery pipeline's decisions alone: events in, actions out, no store, no transport, no clock.
struct DeliveryPipelineTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    typealias Send = DeliveryPipeline.Send

    /// Sends with outbox ids `ids`, each of its own lead (lead id = outbox id + 1000).
    static func sends(_ ids: [Int64]) -> [Send] { ids.map { Send(outboxID: $0, leadID: $0 + 1_000) } }
    static func sent(_ id: Int64) -> DeliveryOutcome { .deferred(outboxID: id, retryAt: t0, error: "result of \(id)") }

    /// Actions as short text, so expectations read like the protocol.
    static func text(_ action: DeliveryPipeline.Action) -> String {
        switch action {
        case let .claim(i, ids): "claim \(i) \(ids)"
        case .readUnsubscribes(let i): "gate \(i)"
        case let .transfer(i, ids): "transfer \(i) \(ids)"
        case let .commit(results, claim):
            "commit \(results.map(describe))" + (claim.map { " + claim \($0.group) \($0.outboxIDs)" } ?? "")
        case .wait: "wait"
        case .done: "done"
        case let .abort(error, keep, checkpoint): "abort \(error) keep \(keep.map(describe))\(checkpoint ? " checkpoint" : "")"
        }
    }

    static func describe(_ o: DeliveryOutcome) -> String {
        switch o {
        case let .deferred(id, _, error): error.hasPrefix("result of") ? "\(id)" : "\(id) deferred (\(error))"
        case .sent(let id, _, _, _, _, _, _, _, _): "\(id) sent"
        case .failed(let id, _, _, _, _, _, _): "\(id) failed"
        }
    }

    /// Renders group i (ids) and walks it from its claim to its transfer, all claimed; returns the last action.
    static func claimAndTransfer(_ p: inout DeliveryPipeline, _ i: Int, _ ids: [Int64]) -> [String] {
        var trace = [text(p.claimCommitted(i, claimed: Set(ids)))]
        trace.append(text(p.unsubscribesRead(i, pendingLeads: [], at: t0)))
        trace.append(text(p.transferStarted(i)))
        return trace
    }

    struct Boom: Error, CustomStringConvertible { var description: String { "boom" } }

    @Test func aGroupIsClaimedOnlyOnceRenderedAndInOrder() {
        var p = DeliveryPipeline(groups: 2, ahead: 2, now: Self.t0)
        #expect(Self.text(p.groupRendered(1, sends: Self.sends([3, 4]), failed: [])) == "wait")
        #expect(Self.text(p.groupRendered(0, sends: Self.sends([1, 2]), failed: [])) == "claim 0 [1, 2]")
    }

    @Test func withoutOverlapOneGroupIsInFlightAndItsResultsCommitWithTheNextClaim() {
        var p = DeliveryPipeline(groups: 3, ahead: 1, now: Self.t0)
        #expect(Self.text(p.groupRendered(0, sends: Self.sends([1]), failed: [])) == "claim 0 [1]")
        _ = p.groupRendered(1, sends: Self.sends([2]), failed: [])
        _ = p.groupRendered(2, sends: Self.sends([3]), failed: [])
        #expect(Self.claimAndTransfer(&p, 0, [1]) == ["gate 0", "transfer 0 [1]", "wait"])
        #expect(p.outstanding == 1) // at most one group possibly sent after a crash
        #expect(Self.text(p.transferFinished(0, outcomes: [Self.sent(1)])) == "commit [\"1\"] + claim 1 [2]")
        #expect(Self.text(p.commitSucceeded(claimed: [2])) == "gate 1")
        #expect(p.outstanding == 1)
        #expect(Self.text(p.unsubscribesRead(1, pendingLeads: [], at: Self.t0)) == "transfer 1 [2]")
        #expect(Self.text(p.transferStarted(1)) == "wait")
        #expect(Self.text(p.transferFinished(1, outcomes: [Self.sent(2)])) == "commit [\"2\"] + claim 2 [3]")
        _ = p.commitSucceeded(claimed: [3])
        _ = p.unsubscribesRead(2, pendingLeads: [], at: Self.t0)
        _ = p.transferStarted(2)
        #expect(Self.text(p.transferFinished(2, outcomes: [Self.sent(3)])) == "commit [\"3\"]")
        #expect(Self.text(p.commitSucceeded(claimed: [])) == "done")
    }

    @Test func anOverlappingTransportHasTwoGroupsInFlightAndNeverThree() {
        var p = DeliveryPipeline(groups: 4, ahead: 2, now: Self.t0)
        for i in 0..<4 { _ = p.groupRendered(i, sends: Self.sends([Int64(i) * 10]), failed: []) }
        #expect(Self.claimAndTransfer(&p, 0, [0]) == ["gate 0", "transfer 0 [0]", "claim 1 [10]"])
        #expect(Self.claimAndTransfer(&p, 1, [10]) == ["gate 1", "transfer 1 [10]", "wait"])
        #expect(p.outstanding == 2)
        // The second group may come back first: its results carry the next claim, still two in flight.
        #expect(Self.text(p.transferFinished(1, outcomes: [Self.sent(10)])) == "commit [\"10\"] + claim 2 [20]")
        #expect(Self.text(p.commitSucceeded(claimed: [20])) == "gate 2")
        #expect(p.outstanding == 2)
    }

    @Test func aSendTheClaimDidNotReturnNeverGoesOut() {
        var p = DeliveryPipeline(groups: 1, ahead: 1, now: Self.t0)
        _ = p.groupRendered(0, sends: Self.sends([1, 2]), failed: [])
        // Send 2 was cancelled by an unsubscribe while the group rendered: the claim did not take it.
        #expect(Self.text(p.claimCommitted(0, claimed: [1])) == "gate 0")
        #expect(Self.text(p.unsubscribesRead(0, pendingLeads: [], at: Self.t0)) == "transfer 0 [1]")
    }

    @Test func aLeadWhoseUnsubscribeIsInTheJournalIsHeldBackAndReleased() {
        var p = DeliveryPipeline(groups: 1, ahead: 1, now: Self.t0)
        _ = p.groupRendered(0, sends: Self.sends([1, 2]), failed: [])
        _ = p.claimCommitted(0, claimed: [1, 2])
        #expect(Self.text(p.unsubscribesRead(0, pendingLeads: [1_002], at: Self.t0)) == "transfer 0 [1]")
        _ = p.transferStarted(0)
        #expect(Self.text(p.transferFinished(0, outcomes: [Self.sent(1)]))
                == "commit [\"2 deferred (an unsubscribe is being recorded)\", \"1\"]")
    }

    @Test func aGroupWhollyHeldBackIsCommittedWithoutATransfer() {
        var p = DeliveryPipeline(groups: 1, ahead: 1, now: Self.t0)
        _ = p.groupRendered(0, sends: Self.sends([1]), failed: [])
        _ = p.claimCommitted(0, claimed: [1])
        #expect(Self.text(p.unsubscribesRead(0, pendingLeads: [1_001], at: Self.t0)) == "commit [\"1 deferred (an unsubscribe is being recorded)\"]")
        #expect(Self.text(p.commitSucceeded(claimed: [])) == "done")
    }

    @Test func aFailedRenderIsClaimedAndCommittedWithItsGroup() {
        var p = DeliveryPipeline(groups: 1, ahead: 1, now: Self.t0)
        let broken = DeliveryOutcome.failed(outboxID: 9, enrollmentID: 1, leadID: 1_009, sequenceID: "s", error: "template", hardBounce: false, next: nil)
        #expect(Self.text(p.groupRendered(0, sends: Self.sends([1]), failed: [broken])) == "claim 0 [1, 9]")
        _ = p.claimCommitted(0, claimed: [1, 9])
        _ = p.unsubscribesRead(0, pendingLeads: [], at: Self.t0)
        _ = p.transferStarted(0)
        #expect(Self.text(p.transferFinished(0, outcomes: [Self.sent(1)])) == "commit [\"9 failed\", \"1\"]")
    }

    @Test func afterAFailedCommitNothingNewStartsAndDeliveredResultsAreKeptForTheNextTick() {
        var p = DeliveryPipeline(groups: 3, ahead: 2, now: Self.t0)
        _ = p.groupRendered(0, sends: Self.sends([1]), failed: [])
        _ = p.groupRendered(1, sends: Self.sends([2]), failed: [])
        _ = Self.claimAndTransfer(&p, 0, [1])
        _ = Self.claimAndTransfer(&p, 1, [2])
        #expect(Self.text(p.transferFinished(0, outcomes: [Self.sent(1)])) == "commit [\"1\"]") // group 2 is not rendered yet
        #expect(Self.text(p.commitFailed(Boom())) == "wait") // group 1 is still in flight
        #expect(Self.text(p.groupRendered(2, sends: Self.sends([3]), failed: [])) == "wait") // not claimed
        #expect(Self.text(p.transferFinished(1, outcomes: [Self.sent(2)])) == "abort boom keep [\"1\", \"2\"]")
    }

    @Test func aFailedClaimStartsNothing() {
        var p = DeliveryPipeline(groups: 1, ahead: 1, now: Self.t0)
        _ = p.groupRendered(0, sends: Self.sends([1]), failed: [])
        #expect(Self.text(p.commitFailed(Boom())) == "abort boom keep []")
    }

    @Test func aDiskFullCommitFailureAsksForACheckpoint() {
        var p = DeliveryPipeline(groups: 1, ahead: 1, now: Self.t0)
        _ = p.groupRendered(0, sends: Self.sends([1]), failed: [])
        _ = Self.claimAndTransfer(&p, 0, [1])
        _ = p.transferFinished(0, outcomes: [Self.sent(1)])
        #expect(Self.text(p.commitFailed(StoreFailure.diskFull("no space"))) == "abort disk full: no space keep [\"1\"] checkpoint")
    }

    @Test func onCancellationSendsClaimedButNotHandedOverAreReleasedNotPossiblySent() {
        var p = DeliveryPipeline(groups: 3, ahead: 2, now: Self.t0)
        for i in 0..<3 { _ = p.groupRendered(i, sends: Self.sends([Int64(i) + 1]), failed: []) }
        _ = Self.claimAndTransfer(&p, 0, [1])
        #expect(Self.text(p.claimCommitted(1, claimed: [2])) == "gate 1")
        // The shutdown deadline: group 1 never reaches the transport, group 2 is never claimed.
        #expect(Self.text(p.cancelled()) == "commit [\"2 deferred (not sent: the delivery was stopped)\"]")
        #expect(Self.text(p.commitSucceeded(claimed: [])) == "wait") // group 0 is in flight
        // A send given up mid-transfer has no outcome: it stays `sending`, recovered as possibly sent at the next start.
        #expect(Self.text(p.transferFinished(0, outcomes: [])) == "commit []")
        #expect(Self.text(p.commitSucceeded(claimed: [])) == "done")
    }

    @Test func aFailedCommitReleasesSendsClaimedButNeverTransferred() {
        var p = DeliveryPipeline(groups: 2, ahead: 2, now: Self.t0)
        _ = p.groupRendered(0, sends: Self.sends([1]), failed: [])
        _ = p.groupRendered(1, sends: Self.sends([2]), failed: [])
        _ = p.claimCommitted(0, claimed: [1])
        // Group 0 is wholly held back (its commit fails) while nothing is in flight.
        _ = p.unsubscribesRead(0, pendingLeads: [1_001], at: Self.t0)
        #expect(Self.text(p.commitFailed(Boom())) == "abort boom keep [\"1 deferred (an unsubscribe is being recorded)\"]")
    }
}
