import Foundation
import NurtureCore

/// What recording a lead's event (EventRecorder: `nurture event`, the events API, `simulate`) needs from storage.
public protocol EventStore: Sendable {
    /// Records an event for a lead (scored in the same transaction) and returns the enrollments it found active,
    /// judged with the new score, to apply exit rules at once.
    func recordEvent(_ event: NewEvent, scoring: ScoringContext) async throws -> [ActiveEnrollment]
    /// Ends enrollments and cancels their scheduled sends (exit rules).
    func endEnrollments(_ ends: [EnrollmentEnd], now: Date) async throws
}
