import Foundation
import Testing

/// `sent_at` is when each message was delivered, not when its tick began (machine-open detection counts from it).
@Suite(.serialized)
struct SentAtTests {
    @Test func sentAtIsEachMessagesDeliveryNotTheStartOfItsTick() throws {
        // The file outbox delivers one message per group and fsyncs each: 200 of them take a while in one tick.
        let made = try MinimalProject.make(leads: 200)
        let serve = try made.project.start(["serve"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 60) {
            (try? made.project.sql("SELECT count(*) FROM outbox WHERE step_id = 'one' AND status = 'sent'")) == "200"
        }, "\(serve.stderr())")
        var sentAt: [Int64: Int64] = [:]
        for line in try made.project.sql("SELECT id || ' ' || sent_at FROM outbox WHERE step_id = 'one'").split(separator: "\n") {
            let parts = line.split(separator: " ").compactMap { Int64($0) }
            sentAt[parts[0]] = parts[1]
        }
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
