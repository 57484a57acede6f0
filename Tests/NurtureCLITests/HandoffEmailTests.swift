import Foundation
import Testing

/// The notification email to sales, on a real `nurture serve` with the file outbox.
extension ScoringAPITests {
    @Test func theHandoffEmailToSalesCarriesNoOneClickUnsubscribeHeaders() throws {
        let site = try Self.site()
        let serve = try site.project.start(["serve", "--speed", "1000"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 30) { (try? site.http.get("/healthz").status) == 200 }, "\(serve.stderr())")
        #expect(try site.api("POST", "/leads", json: Self.ada).status == 201)
        _ = try site.api("POST", "/events", json: #"{"email":"ada@example.com","name":"demo_requested"}"#)
        _ = try site.api("POST", "/events", json: #"{"email":"ada@example.com","name":"converted"}"#)
        let dir = site.project.path("var/outbox")
        func salesMail() -> String? {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? [] where name.hasSuffix(".eml") {
                if let raw = try? String(contentsOfFile: dir + "/" + name, encoding: .utf8), raw.contains("Subject: Sales-ready lead") { return raw }
            }
            return nil
        }
        #expect(BoundedPoll.until(timeout: 30) { salesMail() != nil }, "\(serve.stderr())")
        let raw = try #require(salesMail())
        let head = raw.components(separatedBy: "\r\n\r\n").first ?? raw
        #expect(head.contains("To: <sales@acme-analytics.example>"), "\(head)")
        #expect(!head.lowercased().contains("list-unsubscribe"), "\(head)")
    }
}
