import Foundation
import Testing
import NurtureCore
import NurtureEngine
import NurtureStore

/// What `nurture plan` reads, on every store: each version once, and where every active enrollment stands.
extension StoreContractTests {
    func planStore(_ store: any DaemonStore) -> any PlanStore {
        if let s = store as? SQLiteStore { return s }
        return store as! PostgresStore
    }

    @Test(arguments: StoreKind.all)
    func versionsAreKeptOnceAndPlanSeesEachEnrollmentsStepDoneStepsAndEvents(kind: StoreKind) async throws {
        let store = try await kind.open()
        try await store.recordSequenceVersions([SequenceVersionRecord(sequenceID: "s", version: "v1", source: "{\"file\":\"one\"}")], at: now)
        try await store.recordSequenceVersions([SequenceVersionRecord(sequenceID: "s", version: "v1", source: "{\"file\":\"changed?\"}"),
                                                SequenceVersionRecord(sequenceID: "s", version: "v2", source: "{\"file\":\"two\"}")], at: now)
        #expect(try await planStore(store).sequenceSources(sequenceID: "s") == ["v1": "{\"file\":\"one\"}", "v2": "{\"file\":\"two\"}"])
        let next = PlannedSend(stepID: "b", dueAt: now.addingTimeInterval(86_400), messageDomain: "example.com", version: "v2")
        let d = try await mailed(store, "ada@example.com", next: next)
        _ = try await store.recordEvent(NewEvent(email: d.lead.email, type: "webinar_attended", at: now.addingTimeInterval(60)), scoring: scoring)
        let rows = try await planStore(store).planEnrollments(sequenceID: "s")
        #expect(rows.count == 1)
        let e = try #require(rows.first)
        #expect(e.enrollmentID == d.enrollmentID && e.leadKey == "ada@example.com" && e.version == "v2")
        #expect(e.stepID == "b" && e.dueAt == next.dueAt && e.done == ["a"] && e.events.contains("webinar_attended"))
        #expect(try await store.lead(d.lead.email)?.enrollments.first?.version == "v2")
        #expect(try await planStore(store).planEnrollments(sequenceID: "other").isEmpty)
        await store.close()
    }
}
