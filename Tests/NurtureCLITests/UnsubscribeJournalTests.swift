import Foundation
import Testing

/// One-click unsubscribes while another process holds SQLite's writer, on the real daemon and database.
@Suite(.serialized)
struct UnsubscribeJournalTests {
    /// tests/Support/hold_writer.py: BEGIN IMMEDIATE on the database until told to let go.
    final class WriterHolder {
        let process = Process()
        let input = Pipe()
        let output = Pipe()

        init(database: String) throws {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            process.arguments = [NurtureProcess.repository + "/Tests/Support/hold_writer.py", database]
            process.standardInput = input
            process.standardOutput = output
            try process.run()
            let line = String(decoding: output.fileHandleForReading.availableData, as: UTF8.self)
            guard line.contains("HELD") else { throw CocoaError(.fileLocking, userInfo: [NSLocalizedDescriptionKey: line]) }
        }

        func release() {
            input.fileHandleForWriting.write(Data("\n".utf8))
            _ = BoundedPoll.until(timeout: 10) { !process.isRunning }
        }

        deinit { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
    }

    static func timed<T>(_ body: () throws -> T) rethrows -> (T, TimeInterval) {
        let start = Date()
        let value = try body()
        return (value, Date().timeIntervalSince(start))
    }

    static let oneClick = ["Content-Type": "application/x-www-form-urlencoded"]
    /// The one lead of `started()`.
    static let email = "lead0@example.com"

    /// Step one sent, step two due four seconds later: the unsubscribe comes in between, while the writer is held.
    static func started() throws -> (MinimalProject.Made, RunningNurture, String) {
        let made = try MinimalProject.make(leads: 1, secondStep: "4s")
        let serve = try made.project.start(["serve"])
        #expect(BoundedPoll.until(timeout: 30) { MinimalProject.outbox(made.project).count == 1 }, "\(serve.stderr())")
        let token = try MinimalProject.unsubscribeToken(made.project, file: try #require(MinimalProject.outbox(made.project).first))
        return (made, serve, token)
    }

    @Test func aOneClickUnsubscribeWhileAnotherProcessHoldsTheWriterIsAnsweredAtOnceAndNothingMoreIsSent() throws {
        let (made, serve, token) = try Self.started()
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        let p = made.project
        let holder = try WriterHolder(database: p.path("var/nurture.sqlite"))
        let (reply, took) = try Self.timed {
            try made.http.request("POST", "/u/\(token)", headers: Self.oneClick, body: Data("List-Unsubscribe=One-Click".utf8))
        }
        #expect(reply.status == 200 && took < 1, "\(reply.status) after \(took) s: \(serve.stderr())")
        let (health, healthTook) = try Self.timed { try made.http.get("/healthz") }
        #expect(healthTook < 1, "\(health.status) after \(healthTook) s")
        // Step two falls due while the writer is still held; the scheduler must not send it afterwards.
        BoundedPoll.wait(seconds: 5)
        #expect(try p.totals().suppressed == 0, "the writer really was held")
        holder.release()
        #expect(BoundedPoll.until(timeout: 15) { (try? p.totals().suppressed) == 1 }, "\(serve.stderr())")
        #expect(BoundedPoll.until(timeout: 10) { (try? p.lead(Self.email).sends(step: "two").map(\.status)) == ["cancelled"] },
                "\((try? p.lead(Self.email).sends.map { "\($0.step) \($0.status) \($0.reason ?? "")" }) ?? [])")
        BoundedPoll.wait(seconds: 1)
        #expect(MinimalProject.outbox(p).count == 1)
        let lead = try p.lead(Self.email) // the one lead
        #expect(lead.events.filter { $0.type == "unsubscribe" }.count == 1)
        #expect(lead.enrollments.map(\.state) == ["exited"])
        let journal = try FileManager.default.attributesOfItem(atPath: p.path("var/nurture.sqlite.unsubscribes"))
        #expect((journal[.size] as? Int) == 0)
    }

    @Test func aJournaledUnsubscribeIsAppliedAtStartUpAfterACrash() throws {
        let (made, serve, token) = try Self.started()
        let p = made.project
        let holder = try WriterHolder(database: p.path("var/nurture.sqlite"))
        let reply = try made.http.request("POST", "/u/\(token)", headers: Self.oneClick, body: Data("List-Unsubscribe=One-Click".utf8))
        #expect(reply.status == 200)
        serve.kill(SIGKILL)
        _ = serve.wait()
        holder.release()
        #expect(try p.totals().suppressed == 0)
        BoundedPoll.wait(seconds: 4) // step two is due by the restart
        let again = try p.start(["serve"])
        defer { again.kill(SIGTERM); _ = again.wait() }
        #expect(BoundedPoll.until(timeout: 30) { again.stderr().contains("applied 1 unsubscribes journaled by the previous run") }, "\(again.stderr())")
        #expect(try p.totals().suppressed == 1)
        #expect(BoundedPoll.until(timeout: 10) { (try? made.http.get("/healthz").status) == 200 })
        #expect(try p.lead(Self.email).sends(step: "two").map(\.status) == ["cancelled"])
        #expect(MinimalProject.outbox(p).count == 1)
    }
}
