import Foundation
import NurtureCore

/// The delivery of one tick's sends — claim, gate, transfer, commit, group by group — as decisions without effects
/// (no I/O, no clock: times come with the events), in the shape of Hummingbird's connection state machine. The
/// scheduler performs each returned action and feeds its outcome back as the next event; every action but `wait`,
/// `done` and `abort` is answered by exactly one event before anything else is fed in.
///
/// Guarantees: a group is claimed only once rendered, in order; at most `ahead` groups are claimed and not yet
/// committed (so "possibly sent" after a crash); only sends the claim returned go out; a lead with an unsubscribe
/// still in the journal is held back and released; results commit with the next group's claim; after a failed
/// commit nothing new starts, results are kept and sends claimed but never handed over are released.
struct DeliveryPipeline {
    /// A rendered send: what the unsubscribe gate needs.
    struct Send: Sendable, Hashable {
        var outboxID: Int64
        var leadID: Int64
    }

    enum Action {
        /// Commit group i's sends as `sending`, alone (no results are waiting to carry the claim); answer with
        /// `claimCommitted` or `commitFailed`.
        case claim(Int, outboxIDs: [Int64])
        /// Read which leads have an unsubscribe still in the journal, just before group i's transfer; answer with
        /// `unsubscribesRead`.
        case readUnsubscribes(Int)
        /// Hand these claimed sends of group i to the transport; answer with `transferStarted`, and later with
        /// `transferFinished`.
        case transfer(Int, outboxIDs: [Int64])
        /// Commit these results, and claim the sends of group `thenClaim` in the same transaction; answer with
        /// `commitSucceeded` or `commitFailed`.
        case commit([DeliveryOutcome], thenClaim: (group: Int, outboxIDs: [Int64])?)
        /// Nothing to do until a group is rendered or a transfer finishes.
        case wait
        /// Every group is committed (or, after `cancelled`, what was in flight).
        case done
        /// Stop with the error: `keep` is for the next tick to commit (delivered results, released claims);
        /// `checkpoint` asks to give back the WAL's space (a full disk).
        case abort(any Error, keep: [DeliveryOutcome], checkpoint: Bool)
    }

    private struct Rendered {
        var sends: [Send]
        /// Outcomes decided at rendering (a template that failed), committed with the group's results.
        var failed: [DeliveryOutcome]
        var ids: [Int64] { sends.map(\.outboxID) + failed.map(\.outboxID) }
    }

    /// A group past its claim, until its results are committed.
    private enum Stage {
        case claimed(Set<Int64>)
        /// Gated: `sending` go to the transport, `outcomes` (held back, failed renders) wait for its results.
        case gated(sending: [Int64], outcomes: [DeliveryOutcome])
        case transferring(sending: [Int64], outcomes: [DeliveryOutcome])
    }

    private struct Commit {
        var group: Int?
        var results: [DeliveryOutcome]
        var claim: Int?
    }

    let count: Int
    let ahead: Int
    /// The tick's time: when released sends are due again.
    let now: Date
    private var rendered: [Int: Rendered] = [:]
    private var stages: [Int: Stage] = [:]
    /// The lowest group not claimed yet (groups are claimed in order).
    private var nextClaim = 0
    private var committedGroups = 0
    /// Transfers done (or groups with nothing to transfer) whose results wait for a commit, in the order they came.
    private var finished: [(group: Int?, results: [DeliveryOutcome])] = []
    private var committing: Commit?
    private var failure: (any Error)?
    private var keep: [DeliveryOutcome] = []
    private var cancelling = false

    /// - Parameters:
    ///   - groups: how many groups the tick delivers.
    ///   - ahead: groups claimed before the first transfer ends (2 when the transport overlaps groups).
    init(groups: Int, ahead: Int, now: Date) {
        count = groups
        self.ahead = max(1, ahead)
        self.now = now
    }

    /// Claimed groups whose results are not committed: the groups "possibly sent" if the process died now.
    var outstanding: Int { stages.count }

    // MARK: events

    mutating func groupRendered(_ i: Int, sends: [Send], failed: [DeliveryOutcome]) -> Action {
        rendered[i] = Rendered(sends: sends, failed: failed)
        return next()
    }

    mutating func claimCommitted(_ i: Int, claimed: Set<Int64>) -> Action {
        precondition(committing?.claim == i && committing?.group == nil, "claimCommitted without its claim")
        committing = nil
        claimedGroup(i, claimed)
        return next()
    }

    mutating func unsubscribesRead(_ i: Int, pendingLeads: Set<Int64>, at: Date) -> Action {
        guard case .claimed(let claimed) = stages[i], let group = rendered[i] else { preconditionFailure("group \(i) is not waiting for its gate") }
        let sends = group.sends.filter { claimed.contains($0.outboxID) }
        let held = sends.filter { pendingLeads.contains($0.leadID) }.map(\.outboxID)
        // Claimed, then held back by an unsubscribe not yet in the database: released, and cancelled when it lands.
        let outcomes = group.failed.filter { claimed.contains($0.outboxID) }
            + held.map { DeliveryOutcome.deferred(outboxID: $0, retryAt: at, error: "an unsubscribe is being recorded") }
        let sending = sends.filter { !pendingLeads.contains($0.leadID) }.map(\.outboxID)
        if sending.isEmpty {
            stages[i] = .transferring(sending: [], outcomes: outcomes)
            finished.append((i, outcomes))
        } else {
            stages[i] = .gated(sending: sending, outcomes: outcomes)
        }
        return next()
    }

    mutating func transferStarted(_ i: Int) -> Action {
        guard case let .gated(sending, outcomes) = stages[i] else { preconditionFailure("group \(i) was not ready to transfer") }
        stages[i] = .transferring(sending: sending, outcomes: outcomes)
        return next()
    }

    /// - Parameter outcomes: the transfer's results as outcomes; a send given up mid-transfer has none (it stays
    ///   `sending`, and is recovered as possibly sent at the next start).
    mutating func transferFinished(_ i: Int, outcomes: [DeliveryOutcome]) -> Action {
        guard case let .transferring(_, decided) = stages[i] else { preconditionFailure("group \(i) was not transferring") }
        if failure != nil {
            stages[i] = nil
            keep += decided + outcomes
        } else {
            finished.append((i, decided + outcomes))
        }
        return next()
    }

    mutating func commitSucceeded(claimed: Set<Int64>) -> Action {
        guard let c = committing else { preconditionFailure("commitSucceeded without a commit") }
        committing = nil
        if let g = c.group {
            stages[g] = nil
            committedGroups += 1
        }
        if let j = c.claim { claimedGroup(j, claimed) }
        return next()
    }

    mutating func commitFailed(_ error: any Error) -> Action {
        guard let c = committing else { preconditionFailure("commitFailed without a commit") }
        committing = nil
        if let g = c.group { stages[g] = nil }
        keep += c.results
        failure = failure ?? error
        return next()
    }

    /// The tick's task was cancelled (the shutdown deadline): nothing new starts; what is in flight is awaited and
    /// committed, sends claimed but not handed over are released.
    mutating func cancelled() -> Action {
        cancelling = true
        return next()
    }

    // MARK: decisions

    private mutating func claimedGroup(_ j: Int, _ claimed: Set<Int64>) {
        precondition(j == nextClaim)
        nextClaim += 1
        stages[j] = .claimed(claimed)
    }

    /// Sends of claimed groups never handed to the transport, back in the queue (not possibly sent), with the
    /// outcomes already decided for them.
    private mutating func releaseUntransferred(_ why: String) -> [DeliveryOutcome] {
        var released: [DeliveryOutcome] = []
        for (g, stage) in stages.sorted(by: { $0.key < $1.key }) {
            switch stage {
            case .claimed(let claimed):
                released += claimed.sorted().map { .deferred(outboxID: $0, retryAt: now, error: why) }
            case let .gated(sending, outcomes):
                released += outcomes + sending.map { .deferred(outboxID: $0, retryAt: now, error: why) }
            case .transferring:
                continue
            }
            stages[g] = nil
        }
        return released
    }

    /// The next claimable group once `freed` outstanding groups are committed: the lowest unclaimed, if rendered.
    private func claimable(freeing freed: Int) -> Int? {
        guard !cancelling, failure == nil, nextClaim < count, rendered[nextClaim] != nil, outstanding - freed < ahead else { return nil }
        return nextClaim
    }

    private mutating func next() -> Action {
        if let failure {
            keep += finished.flatMap(\.results)
            for f in finished { if let g = f.group { stages[g] = nil } }
            finished = []
            if stages.values.contains(where: { if case .transferring = $0 { true } else { false } }) { return .wait }
            let released = releaseUntransferred("not sent: an earlier commit failed")
            defer { keep = [] }
            return .abort(failure, keep: keep + released, checkpoint: { if case .diskFull = failure as? StoreFailure { true } else { false } }())
        }
        if cancelling {
            let released = releaseUntransferred("not sent: the delivery was stopped")
            if !released.isEmpty { finished.append((nil, released)) }
        }
        if !finished.isEmpty {
            let (group, results) = finished.removeFirst()
            let claim = group == nil ? nil : claimable(freeing: 1)
            committing = Commit(group: group, results: results, claim: claim)
            return .commit(results, thenClaim: claim.map { ($0, rendered[$0]!.ids) })
        }
        if !cancelling {
            if let g = stages.keys.sorted().first(where: { if case .claimed = stages[$0]! { true } else { false } }) {
                return .readUnsubscribes(g)
            }
            if let g = stages.keys.sorted().first(where: { if case .gated = stages[$0]! { true } else { false } }),
               case let .gated(sending, _) = stages[g]! {
                return .transfer(g, outboxIDs: sending)
            }
            if let j = claimable(freeing: 0) {
                committing = Commit(group: nil, results: [], claim: j)
                return .claim(j, outboxIDs: rendered[j]!.ids)
            }
            if committedGroups == count { return .done }
            return .wait
        }
        return stages.isEmpty ? .done : .wait
    }
}

extension DeliveryOutcome {
    var outboxID: Int64 {
        switch self {
        case .sent(let id, _, _, _, _, _, _, _, _), .deferred(let id, _, _), .failed(let id, _, _, _, _, _, _): id
        }
    }
}
