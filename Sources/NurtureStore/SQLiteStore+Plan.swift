import Foundation
import GRDB
import NurtureCore
import NurtureEngine

/// Sequence versions the engine ran, and where each enrollment stands: what `nurture plan` compares.
extension SQLiteStore: PlanStore {
    public func recordSequenceVersions(_ versions: [SequenceVersionRecord], at: Date) async throws {
        let t = Self.millis(at)
        try await write { db in
            for v in versions { try db.execute(sql: SQL.insertSequenceVersion, arguments: [v.sequenceID, v.version, v.source, t]) }
        }
    }

    public func sequenceSources(sequenceID: String) async throws -> [String: String] {
        try await read { db in
            Dictionary(try Row.fetchAll(db, sql: SQL.sequenceSources, arguments: [sequenceID]).map { ($0["version"], $0["source"]) },
                       uniquingKeysWith: { a, _ in a })
        }
    }

    public func planEnrollments(sequenceID: String) async throws -> [PlanEnrollment] {
        try await read { db in
            try Row.fetchAll(db, sql: SQL.planEnrollments, arguments: [sequenceID]).map { r in
                PlanEnrollment(enrollmentID: r["id"], leadKey: (r["email"] as String).lowercased(), version: r["version"],
                               enrolledAt: Self.date(r["enrolled_at"]), stepID: r["step_id"], dueAt: (r["due_at"] as Int64?).map(Self.date),
                               done: Set(((r["done"] as String?) ?? "").split(separator: ",").map(String.init)),
                               events: Set(((r["events"] as String?) ?? "").split(separator: ",").map(String.init)),
                               facts: LeadCondition.Facts(score: r["score"], fit: r["fit"] ?? 0, stage: LifecycleStage(rawValue: r["stage"]) ?? .lead,
                                                          grade: r["fit_grade"]))
            }
        }
    }
}
