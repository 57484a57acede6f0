import Foundation
import NurtureCore

/// One sequence version as the database keeps it: `source` is the `SequenceSnapshot` JSON.
public struct SequenceVersionRecord: Sendable, Hashable {
    public var sequenceID: String
    public var version: String
    public var source: String

    public init(sequenceID: String, version: String, source: String) {
        self.sequenceID = sequenceID
        self.version = version
        self.source = source
    }
}

/// An active enrollment as `plan` sees it: where it stands, what it did, and what its exit rules would judge.
public struct PlanEnrollment: Sendable, Hashable {
    public var enrollmentID: Int64
    public var leadKey: String
    /// The version its latest step was planned under (nil: before versions were recorded).
    public var version: String?
    public var enrolledAt: Date
    /// The step waiting in the outbox (scheduled, deferred or in flight) and when it is due; nil while none is.
    public var stepID: String?
    public var dueAt: Date?
    public var done: Set<String>
    /// Event types since the enrollment began (exit rules, goals).
    public var events: Set<String>
    public var facts: LeadCondition.Facts

    public init(enrollmentID: Int64, leadKey: String, version: String?, enrolledAt: Date, stepID: String?, dueAt: Date?, done: Set<String>,
                events: Set<String>, facts: LeadCondition.Facts) {
        self.enrollmentID = enrollmentID
        self.leadKey = leadKey
        self.version = version
        self.enrolledAt = enrolledAt
        self.stepID = stepID
        self.dueAt = dueAt
        self.done = done
        self.events = events
        self.facts = facts
    }
}

/// What `nurture plan` reads: the enrollments of a sequence and the versions recorded for it.
public protocol PlanStore: Sendable {
    func planEnrollments(sequenceID: String) async throws -> [PlanEnrollment]
    /// version → recorded source (`SequenceSnapshot` JSON).
    func sequenceSources(sequenceID: String) async throws -> [String: String]
}
