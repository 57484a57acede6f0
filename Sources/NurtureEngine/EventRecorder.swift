import Foundation
import NurtureAuthoring
import NurtureCore

/// Records a lead's events and applies exit rules at once, so no later step of an ended enrollment is sent.
public struct EventRecorder: Sendable {
    let store: EventStore
    let catalog: CatalogHolder

    public init(store: EventStore, catalog: CatalogHolder) {
        self.store = store
        self.catalog = catalog
    }

    /// Returns the enrollments the event ended.
    @discardableResult
    public func record(_ event: NewEvent) async throws -> [EnrollmentEnd] {
        let catalog = self.catalog.current
        var event = event
        if !event.machine { event.goals = GoalPolicy.windows(catalog.sequences.map(\.sequence), event: event.type, at: event.at) }
        let active = try await store.recordEvent(event, scoring: catalog.scoringContext)
        let ends = Self.exitRuleEnds(active, catalog: catalog, at: event.at)
        if !ends.isEmpty { try await store.endEnrollments(ends, now: event.at) }
        return ends
    }

    /// The enrollments an event's exit rules end, judged with the score the event left (every recorded event: posted,
    /// tracked, read from inbound mail).
    static func exitRuleEnds(_ active: [ActiveEnrollment], catalog: Catalog, at: Date) -> [EnrollmentEnd] {
        let context = catalog.scoringContext
        return active.compactMap { a in
            guard let sequence = catalog.sequence(a.sequenceID),
                  let (reason, handoff) = DispatchPolicy.exitRule(of: sequence, events: a.eventsSinceEnrollment, score: a.leadScore,
                                                                 facts: a.facts) else { return nil }
            return EnrollmentEnd(enrollmentID: a.enrollmentID, leadID: a.leadID, reason: reason, handoff: handoff, allOfLead: handoff,
                                 handoffChannels: handoff ? context.crossingChannels : [], handoffDueAt: handoff ? context.sla?.deadline(after: at) : nil)
        }
    }
}
