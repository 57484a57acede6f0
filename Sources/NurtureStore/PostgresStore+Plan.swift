import Foundation
import NurtureCore
import NurtureEngine

/// As `SQLiteStore+Plan`.
extension PostgresStore: PlanStore {
    public func recordSequenceVersions(_ versions: [SequenceVersionRecord], at: Date) async throws {
        let t = Self.millis(at)
        try await write { tx in
            for v in versions { try await tx.execute(PostgresSQL.insertSequenceVersion(v.sequenceID, version: v.version, source: v.source, at: t)) }
        }
    }

    public func sequenceSources(sequenceID: String) async throws -> [String: String] {
        try await read { tx in
            var out: [String: String] = [:]
            for r in try await tx.rows(PostgresSQL.sequenceSources(sequenceID)) { out[try r["version"]] = try r["source"] }
            return out
        }
    }

    public func planEnrollments(sequenceID: String) async throws -> [PlanEnrollment] {
        try await read { tx in
            try await tx.rows(PostgresSQL.planEnrollments(sequenceID)).map { r in
                PlanEnrollment(enrollmentID: try r["id"], leadKey: (try r["email"] as String).lowercased(), version: try r["version"],
                               enrolledAt: Self.date(try r["enrolled_at"]), stepID: try r["step_id"], dueAt: (try r["due_at"] as Int64?).map(Self.date),
                               done: Set(((try r["done"] as String?) ?? "").split(separator: ",").map(String.init)),
                               events: Set(((try r["events"] as String?) ?? "").split(separator: ",").map(String.init)),
                               facts: LeadCondition.Facts(score: try r["score"], fit: try r["fit"] as Double? ?? 0,
                                                          stage: LifecycleStage(rawValue: try r["stage"]) ?? .lead, grade: try r["fit_grade"]))
            }
        }
    }
}
