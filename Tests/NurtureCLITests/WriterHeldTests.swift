import Foundation
import Synchronization
import Testing

/// Issue #14's acceptance: another process holds SQLite's writer for 10 s while the daemon delivers, a hand-off is
/// pending and the open pixel is under load. The daemon must keep answering (no store call may block Swift's
/// cooperative threads) and lose nothing once the lock is released.
@Suite(.serialized)
struct WriterHeldTests {
    static let leads = 120

    /// The lead's `lead show --json`, decoded.
    static func show(_ p: NurtureProcess, _ email: String) throws -> [String: Any] {
        let out = try p.run(["lead", "show", email, "--json"])
        return (try? JSONSerialization.jsonObject(with: Data(out.stdout.utf8)) as? [String: Any]) ?? [:]
    }

    /// The recipient and open-pixel path of a file-outbox message (quoted-printable undone).
    static func pixel(_ p: NurtureProcess, file: String) throws -> (email: String, path: String) {
        let raw = try String(contentsOfFile: p.path("var/outbox/" + file), encoding: .utf8)
        let text = raw.replacingOccurrences(of: "=\r\n", with: "").replacingOccurrences(of: "=3D", with: "=")
        guard let after = text.components(separatedBy: "/o/").dropFirst().first,
              let to = text.components(separatedBy: "\r\n").first(where: { $0.hasPrefix("To: ") }),
              let email = to.split(separator: "<").last?.split(separator: ">").first else { throw CocoaError(.fileReadCorruptFile) }
        return (String(email), "/o/" + after.prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" } + ".gif")
    }

    static func opens(_ p: NurtureProcess, _ email: String) throws -> Int {
        (try show(p, email)["events"] as? [[String: Any]] ?? []).filter { $0["type"] as? String == "open" }.count
    }

    @Test func healthAnswersWithinASecondWhileAnotherProcessHoldsTheWriterAndEverySendOpenAndHandoffIsRecordedAfter() throws {
        let webhookPort = HTTPProbe.freePort()
        // 12 sends a second: delivery goes on through the whole hold.
        let made = try MinimalProject.make(leads: Self.leads, rate: "12/s", extra: """
            scoring:
              points: { open: 0, machine_open: 0, demo_requested: 30 }
              half_life: none
              thresholds:
                - { at: 25, handoff: true }
            handoff:
              webhook: http://127.0.0.1:\(webhookPort)/hooks
            """)
        let p = made.project
        let log = p.path("webhook.jsonl")
        let webhook = Process()
        webhook.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        webhook.arguments = ["python3", NurtureProcess.repository + "/Tests/Support/webhook_server.py", "\(webhookPort)", log, "0", "3"]
        webhook.standardOutput = FileHandle.nullDevice
        webhook.standardError = FileHandle.nullDevice
        try webhook.run()
        defer { kill(webhook.processIdentifier, SIGKILL) }
        #expect(BoundedPoll.until(timeout: 10) { SystemdTests.accepts(port: webhookPort) })

        let serve = try p.start(["serve"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 30) { MinimalProject.outbox(p).count >= 24 }, "\(serve.stderr())")

        // The hand-off is committed (by the CLI) just before the hold; the receiver answers after 3 s, so the daemon
        // learns of the delivery while the writer is held and can record it only afterwards.
        #expect(try p.run(["event", "lead0@example.com", "demo_requested"]).status == 0)
        let holder = try UnsubscribeJournalTests.WriterHolder(database: p.path("var/nurture.sqlite"))
        let heldAt = Date()
        let sentBefore = MinimalProject.outbox(p).count

        // The pixel under load during the hold: every message sent so far, opened by four clients at once.
        let pixels = try MinimalProject.outbox(p).map { try Self.pixel(p, file: $0) }
        let replies = Mutex<[Int]>([])
        let load = DispatchGroup()
        for client in 0..<4 {
            DispatchQueue.global().async(group: load) {
                for (i, pixel) in pixels.enumerated() where i % 4 == client {
                    let status = (try? made.http.get(pixel.path).status) ?? -1
                    replies.withLock { $0.append(status) }
                }
            }
        }
        // /healthz, every quarter second of the 10 s hold, answers within a second each time.
        var slowest: TimeInterval = 0
        var probes = 0
        var timeline: [String] = []
        while Date().timeIntervalSince(heldAt) < 10 {
            // curl, a client of its own: the load's waiting requests hold this process's dispatch threads, not its.
            let start = Date()
            let answer = try Tool.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "--max-time", "5", "-w", "%{http_code} %{time_total}",
                                                        "http://127.0.0.1:\(made.port)/healthz"]).output.split(separator: " ")
            let status = Int(answer.first ?? "") ?? -1
            let took = Double(answer.last ?? "") ?? Date().timeIntervalSince(start)
            timeline.append(String(format: "%.1f:%d:%.2f", start.timeIntervalSince(heldAt), status, took))
            slowest = max(slowest, took)
            probes += 1
            #expect(status == 200 || status == 503, "healthz answered \(status)")
            BoundedPoll.wait(seconds: 0.25) // spacing between probes of a real process; the 10 s hold is wall time by design
        }
        #expect(slowest < 1, "slowest /healthz: \(slowest) s over \(probes) probes: \(timeline)")
        #expect(try Self.opens(p, pixels[0].email) == 0, "the writer really was held")
        holder.release()

        // Everything delivered during and after the hold is recorded as sent, once; every open that got its reply is stored.
        #expect(load.wait(timeout: .now() + 60) == .success)
        #expect(replies.withLock { $0 }.allSatisfy { $0 == 200 }, "pixel replies: \(replies.withLock { Dictionary(grouping: $0, by: { $0 }).mapValues(\.count) })")
        #expect(BoundedPoll.until(timeout: 60) { MinimalProject.outbox(p).count == Self.leads }, "\(serve.stderr())")
        #expect(MinimalProject.outbox(p).count > sentBefore, "delivery went on")
        // `nurture stats`: the first step recorded as sent once per lead (the second step is 30 days later).
        let everySent = BoundedPoll.until(timeout: 30) {
            let out = (try? p.run(["stats", "--json"]).stdout) ?? ""
            let stats = (try? JSONSerialization.jsonObject(with: Data(out.utf8)) as? [[String: Any]]) ?? []
            let steps = stats.first?["steps"] as? [[String: Any]] ?? []
            return steps.first { $0["step"] as? String == "one" }?["sent"] as? Int == Self.leads
        }
        #expect(everySent, "\(serve.stderr())")
        let lost = try pixels.filter { try Self.opens(p, $0.email) != 1 }.map(\.email)
        #expect(lost.isEmpty, "\(lost.count) of \(pixels.count) opens not recorded once: \(lost); \(serve.stderr().split(separator: "\n").filter { !$0.contains("tick:") }.joined(separator: "\n")); \((try? p.run(["lead", "show", pixels[0].email, "--json"]).stdout) ?? "")")
        // The hand-off reached the webhook and its delivery is recorded.
        #expect(BoundedPoll.until(timeout: 30) {
            let export = (try? p.run(["lead", "export", "lead0@example.com"]).stdout) ?? ""
            let handoffs = (try? JSONSerialization.jsonObject(with: Data(export.utf8)) as? [String: Any])?["handoffs"] as? [[String: Any]]
            return handoffs?.map { $0["status"] as? String } == ["delivered"]
        }, "\(serve.stderr())")
        let deliveries = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(!deliveries.isEmpty && deliveries.allSatisfy { $0.contains("lead0@example.com") })
        #expect(serve.stderr().contains("hand-off 1 delivered by webhook"), "\(serve.stderr())")
    }
}
