import Foundation
import Testing

/// Sales' answer coming back, end to end: a running `nurture serve` hands a lead to a CRM (a real webhook
/// receiver) which answers through `POST /api/v1/handoffs/{id}`; the lead moves, the customer sequence takes it,
/// and the answer shows in `lead show`, `stats`, the export and `/metrics`.
@Suite(.serialized)
struct HandoffAnswerServeTests {
    @Test func aCRMAnswersTheWebhookThroughTheAPIAndTheWonLeadStartsOnboarding() throws {
        let site = try ScoringAPITests.site()
        // The example config's outcomes, as shipped: won → customer-onboarding, score reset.
        let log = site.project.path("crm.jsonl")
        let crm = Process()
        crm.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        crm.arguments = [NurtureProcess.repository + "/Tests/Support/crm_server.py", "\(site.webhookPort)", log,
                         site.http.base, site.project.path("var/secrets/api_token"), "won", "signed the yearly plan"]
        crm.standardOutput = FileHandle.nullDevice
        crm.standardError = FileHandle.nullDevice
        try crm.run()
        defer { kill(crm.processIdentifier, SIGKILL); crm.waitUntilExit() }
        #expect(BoundedPoll.until(timeout: 10) { SystemdTests.accepts(port: site.webhookPort) })
        let serve = try site.project.start(["serve"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 30) { (try? site.http.get("/healthz").status) == 200 }, "\(serve.stderr())")
        #expect(try site.api("POST", "/leads", json: ScoringAPITests.ada).status == 201)
        // The CTO sequence's exit rule hands a lead that requests a demo to sales (once the lead is in it).
        func enrollments() -> [[String: Any]] {
            let reply = (try? site.api("GET", "/leads/ada@example.com")) ?? .init(status: 0, headers: [:], body: Data())
            return site.json(reply)["enrollments"] as? [[String: Any]] ?? []
        }
        #expect(BoundedPoll.until(timeout: 30) { enrollments().contains { $0["sequence"] as? String == "cto-whitepaper" } }, "\(serve.stderr())")
        _ = try site.api("POST", "/events", json: #"{"email":"ada@example.com","name":"demo_requested"}"#)

        func entries() -> [[String: Any]] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }
        #expect(BoundedPoll.until(timeout: 30) { entries().contains { $0["answer"] != nil } }, "\(serve.stderr())")
        let hook = try #require(entries().first { $0["webhook"] != nil })
        let id = try #require(hook["webhook"] as? String)
        #expect((hook["body"] as? [String: Any])?["handoff_id"] as? Int == Int(id))
        let answer = try #require(entries().first { $0["answer"] != nil })
        #expect(answer["status"] as? Int == 200, "\(answer)")
        let body = try #require(answer["body"] as? [String: Any])
        #expect(body["result"] as? String == "recorded" && body["outcome"] as? String == "won" && body["stage"] as? String == "customer")

        // The same answer again changes nothing; a forged or missing token, an unknown id, a bad outcome are refused.
        let again = try site.api("POST", "/handoffs/\(id)", json: #"{"outcome":"won"}"#)
        #expect(again.status == 200 && site.json(again)["result"] as? String == "unchanged")
        #expect(try site.api("POST", "/handoffs/\(id)", json: #"{"outcome":"lost"}"#, token: nil).status == 401)
        #expect(try site.api("POST", "/handoffs/\(id)", json: #"{"outcome":"lost"}"#, token: "forged").status == 401)
        #expect(try site.api("POST", "/handoffs/999999", json: #"{"outcome":"won"}"#).status == 404)
        #expect(try site.api("POST", "/handoffs/abc", json: #"{"outcome":"won"}"#).status == 404)
        #expect(try site.api("POST", "/handoffs/\(id)", json: #"{"outcome":"maybe"}"#).status == 422)
        #expect(try site.api("POST", "/handoffs/\(id)", json: #"{"outcome":"won","extra":1}"#).status == 422)

        // The lead is a customer, with its score reset, enrolled in onboarding (its first step queued or sent).
        let lead = site.json(try site.api("GET", "/leads/ada@example.com"))
        #expect(lead["stage"] as? String == "customer" && lead["score"] as? Double == 0, "\(lead)")
        #expect(BoundedPoll.until(timeout: 30) {
            enrollments().contains { $0["sequence"] as? String == "customer-onboarding" && $0["state"] as? String == "active" }
        }, "\(serve.stderr())")
        let show = try site.project.run(["lead", "show", "ada@example.com"]).stdout
        #expect(show.contains("sales: won (signed the yearly plan)") && show.contains("stage → CUSTOMER"), "\(show)")
        let stats = try site.project.run(["stats"]).stdout
        #expect(stats.contains("hand-offs to sales") && stats.contains("100.0%"), "\(stats)")
        #expect(BoundedPoll.until(timeout: 30) { ((try? site.http.get("/metrics").text) ?? "").contains(#"nurture_handoffs{state="won"} 1"#) },
                "\(((try? site.http.get("/metrics").text) ?? "").split(separator: "\n").filter { $0.contains("handoff") })")
        let export = site.json(try site.api("GET", "/leads/ada@example.com/export"))
        #expect((export["handoffs"] as? [[String: Any]])?.contains { $0["outcome"] as? String == "won" } == true)
        #expect((export["events"] as? [[String: Any]])?.contains { $0["type"] as? String == "handoff_won" } == true)

        // The CLI records an answer exactly as the API does.
        let cli = try site.project.run(["handoff", "set", id, "lost", "--reason", "churned"])
        #expect(cli.status == 0 && cli.stdout.contains("won → lost"), "\(cli.stdout)\(cli.stderr)")
        #expect(try site.project.run(["handoff", "set", "424242", "won"]).status == 1)
        #expect(try site.project.run(["handoff", "set", id, "maybe"]).status != 0)
    }
}
