import Foundation
import Testing

/// A reload applies `http.public_url` to the mail sent after it and says so; restart-only settings keep their
/// running value and the log names them.
@Suite(.serialized)
struct ReloadPublicURLTests {
    @Test func aReloadThatChangesPublicURLAppliesItToNewMailAndSaysSoWhileListenWaitsForARestart() throws {
        let made = try MinimalProject.make(leads: 1)
        let p = made.project
        let serve = try p.start(["serve"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 30) { MinimalProject.outbox(p).count == 1 }, "\(serve.stderr())")
        let config = try String(contentsOfFile: p.path("nurture.yaml"), encoding: .utf8)
        let otherPort = HTTPProbe.freePort()
        try config.replacingOccurrences(of: "public_url: http://127.0.0.1:\(made.port)", with: "public_url: https://mail.example.com/n")
            .replacingOccurrences(of: "listen: 127.0.0.1:\(made.port)", with: "listen: 127.0.0.1:\(otherPort)")
            .write(toFile: p.path("nurture.yaml"), atomically: true, encoding: .utf8)
        serve.kill(SIGHUP)
        #expect(BoundedPoll.until(timeout: 20) { serve.stderr().contains("reloaded 1 sequences") }, "\(serve.stderr())")
        let log = serve.stderr()
        #expect(log.contains("http.public_url is now https://mail.example.com/n"), "\(log)")
        #expect(log.contains("http.listen changed; it takes effect at the next restart"), "\(log)")
        #expect(!log.contains("http settings take effect at the next restart"), "\(log)")
        // Still listening where it was.
        #expect(try made.http.get("/healthz").status == 200)

        #expect(try p.run(["lead", "add", "late@example.com", "--persona", "reader", "--consent", "test"]).status == 0)
        #expect(BoundedPoll.until(timeout: 30) { MinimalProject.outbox(p).count == 2 }, "\(serve.stderr())")
        let files = MinimalProject.outbox(p)
        func text(_ name: String) throws -> String {
            try String(contentsOfFile: p.path("var/outbox/" + name), encoding: .utf8).replacingOccurrences(of: "=\r\n", with: "")
        }
        let late = try #require(try files.first { try text($0).contains("late@example.com") })
        let body = try text(late)
        #expect(body.contains("https://mail.example.com/n/u/") && body.contains("List-Unsubscribe: <https://mail.example.com/n/u/"), "\(body)")
        #expect(!body.contains("127.0.0.1:\(made.port)"))
    }
}
