import Foundation
import NurtureCore
import NurtureEngine

/// What the administration commands (`lead add/import/show/export/erase`, `event`, `stats`, `rescore`) need from
/// storage, beyond what the API needs.
protocol AdminStore: LeadsAPIStore, InboundStore, StoreLifecycle, PlanStore {
    /// Leads stored and suppressed addresses per reason, for the last line of `nurture stats`.
    func totals() async throws -> StoreTotals
    /// The `nurture serve` nodes registered on the database (PostgreSQL; SQLite has none to list), for `nurture stats`.
    func clusterNodes() async throws -> [ClusterNode]
    /// Recomputes every score from the event log; writes unless `dryRun`. Returns the leads that changed.
    func rescore(rules: ScoringRules, now: Date, dryRun: Bool, chunk: Int) async throws -> [RescoredLead]
    /// Hand-offs per sequence and what sales answered, for `nurture stats`.
    func handoffStats(now: Date) async throws -> [HandoffStats]
}
