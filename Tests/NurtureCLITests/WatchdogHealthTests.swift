import Foundation
import Testing

/// The watchdog and `/healthz` follow the daemon's progress, measured on the real binary with a real relay.
extension SystemdTests {
    /// aiosmtpd from Tests/Support/smtp_server.py, answering the final "." after `dataDelay` seconds.
    final class SlowRelay {
        let process = Process()
        let directory: String
        let port: Int

        init(dataDelay: Double) throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("slow-relay-\(UUID().uuidString)").path
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env") // the python3 that has aiosmtpd
            process.arguments = ["python3", NurtureProcess.repository + "/Tests/Support/smtp_server.py", "capture", "--dir", directory,
                                 "--data-delay", "\(dataDelay)"]
            let out = Pipe()
            process.standardOutput = out
            process.standardError = FileHandle.nullDevice
            try process.run()
            var line = ""
            while !line.contains("\n") {
                let chunk = out.fileHandleForReading.availableData
                if chunk.isEmpty { break }
                line += String(decoding: chunk, as: UTF8.self)
            }
            port = try #require(Int(line.dropFirst("READY ".count).trimmingCharacters(in: .whitespacesAndNewlines)), "\(line)")
        }

        var captured: Int { ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".eml") }.count }

        deinit {
            kill(process.processIdentifier, SIGKILL)
            _ = BoundedPoll.until(timeout: 10) { !process.isRunning }
        }
    }

    @Test func aRelayStallingTwelveSecondsAfterDataKeepsWatchdogPingsUnderTheInterval() throws {
        let relay = try SlowRelay(dataDelay: 12)
        let made = try MinimalProject.make(leads: 1, transport: "smtp://127.0.0.1:\(relay.port)")
        let socket = try NotifySocket(abstract: false)
        let serve = try made.project.start(["serve"], environment: ["NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "4000000"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(socket.until("READY=1", timeout: 30) != nil, "\(serve.stderr())")
        var pings: [Date] = [Date()]
        let deadline = Date().addingTimeInterval(40)
        var deliveredAt: Date?
        while Date() < deadline {
            if let m = socket.receive(timeout: 0.2), m.contains("WATCHDOG=1") { pings.append(Date()) }
            if deliveredAt == nil, relay.captured == 1 { deliveredAt = Date() }
            // Two more seconds after the relay's answer, so the tick's end is covered too.
            if let at = deliveredAt, Date().timeIntervalSince(at) > 2 { break }
        }
        #expect(deliveredAt != nil, "\(serve.stderr())")
        let gaps = zip(pings.dropFirst(), pings).map { $0.timeIntervalSince($1) }
        #expect((gaps.max() ?? 99) < 4, "pings \(gaps.map { String(format: "%.1f", $0) }): \(serve.stderr())")
        #expect(pings.count >= 8)
        #expect(try made.project.lead("lead0@example.com").sends(step: "one").map { "\($0.status):\($0.possiblySent)" } == ["sent:false"])
    }

    @Test func ticksFailingLongerThanTheBoundStopThePingsAndMakeHealthzUnavailableWithTheReason() throws {
        let made = try MinimalProject.make(leads: 0, extra: "health: { scheduler_failing_after: 2s }")
        let socket = try NotifySocket(abstract: false)
        let serve = try made.project.start(["serve"], environment: ["NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "1000000"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(socket.until("READY=1", timeout: 30) != nil, "\(serve.stderr())")
        #expect(try made.http.get("/healthz").status == 200)
        #expect(socket.until("WATCHDOG=1", timeout: 2) != nil)

        // Every tick now throws: the due query finds no outbox table. Fault injection into SQLite's schema itself,
        // which no surface can do: the one probe kept (a PostgreSQL store needs its own way to fail a tick).
        #expect(try made.project.sql("ALTER TABLE outbox RENAME TO outbox_away; SELECT 'moved'") == "moved")
        var failing: HTTPProbe.Reply?
        #expect(BoundedPoll.until(timeout: 15) {
            failing = try? made.http.get("/healthz")
            return failing?.status == 503
        }, "\(serve.stderr())")
        let body = (try? JSONSerialization.jsonObject(with: failing?.body ?? Data())) as? [String: Any]
        #expect(body?["scheduler"] as? String == "failing", "\(failing?.text ?? "")")
        let problems = body?["problems"] as? [[String: String]] ?? []
        #expect(problems.contains { $0["name"] == "scheduler_failing" && $0["reason"]?.contains("no such table") == true }, "\(problems)")
        // The pings have stopped: after a short drain, none for two seconds (twice the interval).
        _ = socket.until("never", timeout: 0.5)
        var late = 0
        let quiet = Date().addingTimeInterval(2)
        while Date() < quiet, let m = socket.receive(timeout: quiet.timeIntervalSinceNow) { if m.contains("WATCHDOG=1") { late += 1 } }
        #expect(late == 0)
        #expect(serve.stderr().contains("watchdog pings stopped: scheduler_failing"))

        // Repaired (the same fault injection, undone): the next tick succeeds, pings resume and /healthz is 200 again.
        #expect(try made.project.sql("ALTER TABLE outbox_away RENAME TO outbox; SELECT 'back'") == "back")
        #expect(socket.until("WATCHDOG=1", timeout: 10) != nil, "\(serve.stderr())")
        #expect(BoundedPoll.until(timeout: 10) { (try? made.http.get("/healthz").status) == 200 })
    }
}
