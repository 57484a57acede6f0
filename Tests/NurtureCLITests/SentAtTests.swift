import Foundation
import NurtureCore
import NurtureStore
import Testing

/// `sent_at` is when each message was delivered, not when its tick began (machine-open detection counts from it).
@Suite(.serialized)
struct SentAtTests {
    @Test func sentAtIsEachMessagesDeliveryNotTheStartOfItsTick() async throws {
        // The file outbox delivers one message per group and fsyncs each: 200 of them take a while in one tick.
        let made = try MinimalProject.make(leads: 200)
        let serve = try made.project.start(["serve"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 60) { (try? made.project.sent(sequence: "guide", step: "one")) == 200 }, "\(serve.stderr())")
        // To the millisecond, finer than `lead show` prints: read through the store's own protocol (`lead(_:)`).
        let store = try await SQLiteStore.open(path: made.project.path("var/nurture.sqlite"))
        var sentAt: [Int64: Int64] = [:]
        for i in 0..<200 {
            let lead = try #require(try await store.lead(try EmailAddress(validating: "lead\(i)@example.com")))
            for send in lead.sends where send.stepID == "one" {
                if let at = send.sentAt { sentAt[send.outboxID] = Int64((at.timeIntervalSince1970 * 1000).rounded()) }
            }
        }
        await store.close()
        // Each file is named "<ms when its write began>-<outbox id>-<random>.eml".
        var late = 0, early: [String] = []
        for name in MinimalProject.outbox(made.project) {
            let parts = name.split(separator: "-").compactMap { Int64($0) }
            guard parts.count >= 2, let recorded = sentAt[parts[1]] else { continue }
            if recorded < parts[0] { early.append("\(parts[1]): sent_at \(recorded) before its write at \(parts[0])") }
            if recorded - parts[0] > 1_000 { late += 1 }
        }
        #expect(early.isEmpty, "\(early.prefix(5))")
        #expect(late == 0)
        let times = sentAt.values.sorted()
        #expect(times.count == 200 && times.last! > times.first!)
    }
}
