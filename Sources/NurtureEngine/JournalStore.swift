import Foundation
import NurtureCore

/// What moving journaled one-click unsubscribes into the database (UnsubscribeJournalService) needs.
public protocol JournalStore: Sendable {
    /// Unsubscribes answered while the writer was busy wait in the journal.
    var hasJournaledUnsubscribes: Bool { get }
    /// Applies them all; throws (the rest stay journaled) while the writer is busy. Returns how many were applied.
    @discardableResult
    func applyJournaledUnsubscribes(scoring: ScoringContext) async throws -> Int
}
