import Crypto
import Foundation
import Testing

/// Scoring, hand-off and the leads API on a real `nurture serve`, with a real webhook receiver.
@Suite(.serialized)
struct ScoringAPITests {
    static let token = "test-api-token-0123456789abcdef"
    static let secret = "webhook-secret-for-tests"

    struct Site {
        let project: NurtureProcess
        let http: HTTPProbe
        let webhookPort: Int
        var webhookLog: String { project.path("webhook.jsonl") }

        func api(_ method: String, _ path: String, json: String? = nil, token: String? = ScoringAPITests.token) throws -> HTTPProbe.Reply {
            var headers = ["Content-Type": "application/json"]
            if let token { headers["Authorization"] = "Bearer \(token)" }
            return try http.request(method, "/api/v1" + path, headers: headers, body: json.map { Data($0.utf8) })
        }

        func json(_ reply: HTTPProbe.Reply) -> [String: Any] { (try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any]) ?? [:] }

        func deliveries() -> [[String: Any]] {
            ((try? String(contentsOfFile: webhookLog, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
        }

        /// The receiver, stopped by `stop(_:)`. Its output goes nowhere, so it can never hold the test runner's pipes.
        func startWebhook(failFirst: Int) throws -> Process {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
            p.arguments = [NurtureProcess.repository + "/Tests/Support/webhook_server.py", "\(webhookPort)", webhookLog, "\(failFirst)"]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            #expect(BoundedPoll.until(timeout: 10) { SystemdTests.accepts(port: webhookPort) })
            return p
        }

        /// `status:attempts` of the lead's hand-off on `channel`, from its export (what an operator sees), or nil.
        func handoff(_ email: String, _ channel: String) -> String? {
            guard let reply = try? api("GET", "/leads/\(email)/export"), reply.status == 200,
                  let handoff = (json(reply)["handoffs"] as? [[String: Any]])?.first(where: { $0["channel"] as? String == channel }) else { return nil }
            return "\(handoff["status"] as? String ?? "?"):\(handoff["attempts"] as? Int ?? -1)"
        }
    }

    static func site() throws -> Site {
        let p = try NurtureProcess()
        let port = HTTPProbe.freePort(), webhookPort = HTTPProbe.freePort()
        let fm = FileManager.default
        try fm.createDirectory(atPath: p.path("var/secrets"), withIntermediateDirectories: true)
        try Self.token.write(toFile: p.path("var/secrets/api_token"), atomically: true, encoding: .utf8)
        try (Self.secret + "\n").write(toFile: p.path("var/secrets/webhook"), atomically: true, encoding: .utf8)
        var config = try String(contentsOfFile: p.path("nurture.yaml"), encoding: .utf8)
        config = config.replacingOccurrences(of: "listen: 127.0.0.1:", with: "listen: 127.0.0.1:\(port) #")
        config = config.replacingOccurrences(of: "  # api_token_file: /run/credentials/nurture.service/api-token",
                                             with: "  api_token_file: var/secrets/api_token\n  webhook_secret_file: var/secrets/webhook")
        // The example's own `handoff:` section, with this test's receiver as its webhook.
        config = config.replacingOccurrences(of: "  # webhook: https://crm.example.com/hooks/nurture", with: "  webhook: http://127.0.0.1:\(webhookPort)/hooks/nurture #")
        try config.write(toFile: p.path("nurture.yaml"), atomically: true, encoding: .utf8)
        return Site(project: p, http: HTTPProbe(port: port), webhookPort: webhookPort)
    }

    static let ada = #"{"email":"ada@example.com","persona":"cto","consent":{"source":"api:test"},"fields":{"first_name":"Ada","company":"Robert'); DROP TABLE lead;--","whitepaper_title":"<script>alert(1)</script>"}}"#

    @Test func apiRefusesBadRequestsAndKeepsDataVerbatim() throws {
        let site = try Self.site()
        let serve = try site.project.start(["serve"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 30) { (try? site.http.get("/healthz").status) == 200 }, "\(serve.stderr())")

        #expect(try site.api("POST", "/leads", json: Self.ada, token: nil).status == 401)
        #expect(try site.api("POST", "/leads", json: Self.ada, token: "wrong").status == 401)
        #expect(try site.api("POST", "/leads", json: "{\"email\": ").status == 400)
        #expect(try site.api("POST", "/leads", json: "[1,2]").status == 400)
        #expect(try site.api("POST", "/leads", json: "{\"email\":\"" + String(repeating: "a", count: 70_000) + "\"}").status == 413)
        let noConsent = try site.api("POST", "/leads", json: #"{"email":"bob@example.com","persona":"cto"}"#)
        #expect(noConsent.status == 422 && (site.json(noConsent)["error"] as? String)?.contains("consent") == true)
        #expect(try site.api("POST", "/leads", json: #"{"email":"x@example.com\r\nBcc: y@evil.example","persona":"cto","consent":{"source":"s"}}"#).status == 422)
        #expect(try site.api("POST", "/leads", json: #"{"email":"c@example.com","persona":"cto","consent":{"source":"s"},"fields":{"bogus":"1"}}"#).status == 422)

        let created = try site.api("POST", "/leads", json: Self.ada)
        #expect(created.status == 201, "\(created.text)")
        #expect(try site.api("POST", "/leads", json: Self.ada).status == 200)
        let shown = try site.api("GET", "/leads/ada@example.com")
        let fields = site.json(shown)["fields"] as? [String: String]
        #expect(fields?["company"] == "Robert'); DROP TABLE lead;--")
        #expect(fields?["whitepaper_title"] == "<script>alert(1)</script>")
        #expect(shown.header("Content-Type")?.hasPrefix("application/json") == true)
        #expect(try site.project.totals().leads == 1)

        #expect(try site.api("POST", "/events", json: #"{"email":"ada@example.com","name":"open"}"#).status == 422)
        #expect(try site.api("POST", "/events", json: #"{"email":"ada@example.com","name":"Drop Table"}"#).status == 422)
        #expect(try site.api("POST", "/events", json: #"{"email":"nobody@example.com","name":"replied"}"#).status == 404)
        #expect(try site.api("GET", "/leads/nobody@example.com").status == 404)

        // The stats `nurture stats --json` prints, behind the same token.
        #expect(try site.api("GET", "/stats", token: nil).status == 401)
        var cto: [String: Any]?
        #expect(BoundedPoll.until(timeout: 20) {
            let sequences = (try? site.api("GET", "/stats")).map { site.json($0)["sequences"] as? [[String: Any]] ?? [] } ?? []
            cto = sequences.first { $0["sequence"] as? String == "cto-whitepaper" }
            return cto?["enrolled"] as? Int == 1
        }, "\(String(describing: cto))")
        #expect(cto?["held_out"] as? Int == 0 && cto?["steps"] is [[String: Any]] && cto?["variant_tests"] is [String])
    }

    @Test func crossingTheHandoffThresholdDeliversASignedWebhookDespiteAFirstFailure() throws {
        let site = try Self.site()
        let webhook = try site.startWebhook(failFirst: 1)
        defer { kill(webhook.processIdentifier, SIGKILL); webhook.waitUntilExit() }
        // A fast clock: the five-minute retry takes a third of a second.
        let serve = try site.project.start(["serve", "--speed", "1000"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 30) { (try? site.http.get("/healthz").status) == 200 }, "\(serve.stderr())")
        #expect(try site.api("POST", "/leads", json: Self.ada).status == 201)

        let demo = site.json(try site.api("POST", "/events", json: #"{"email":"ada@example.com","name":"demo_requested"}"#))
        #expect(demo["stage"] as? String == "mql")       // 30 ≥ 20
        let converted = site.json(try site.api("POST", "/events", json: #"{"email":"ada@example.com","name":"converted"}"#))
        #expect(converted["stage"] as? String == "sql")  // 80 ≥ 50: hand-off

        #expect(BoundedPoll.until(timeout: 30) { site.deliveries().count == 2 }, "\(serve.stderr())")
        let deliveries = site.deliveries()
        #expect(deliveries.map { $0["status"] as? Int } == [503, 200])
        let last = try #require(deliveries.last)
        let headers = try #require(last["headers"] as? [String: String])
        let body = try #require(last["body"] as? String)
        let expected = "sha256=" + HMAC<SHA256>.authenticationCode(for: Data(body.utf8), using: SymmetricKey(data: Data(Self.secret.utf8)))
            .map { String(format: "%02x", $0) }.joined()
        #expect(headers["X-Nurture-Signature"] == expected)
        #expect(headers["X-Nurture-Delivery"] == (deliveries.first?["headers"] as? [String: String])?["X-Nurture-Delivery"])
        let payload = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])
        #expect((payload["lead"] as? [String: Any])?["email"] as? String == "ada@example.com")
        #expect((payload["ledger"] as? [[String: Any]])?.contains { ($0["cause"] as? String)?.hasPrefix("converted") == true } == true)
        #expect(BoundedPoll.until(timeout: 10) { site.handoff("ada@example.com", "webhook") == "delivered:2" })
        // And the sales address got its notification through the configured transport (the file outbox here).
        #expect(BoundedPoll.until(timeout: 10) {
            let dir = site.project.path("var/outbox")
            return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).contains { name in
                ((try? String(contentsOfFile: dir + "/" + name, encoding: .utf8)) ?? "").contains("Subject: Sales-ready lead: ada@example.com")
            }
        })
        // The attempts are visible in the lead's export.
        let handoffs = site.json(try site.api("GET", "/leads/ada@example.com/export"))["handoffs"] as? [[String: Any]]
        #expect(handoffs?.first { $0["channel"] as? String == "webhook" }?["attempts"] as? Int == 2)
        // Explained: the ledger says why the lead is hot, and nurturing ended for it.
        let lead = site.json(try site.api("GET", "/leads/ada@example.com"))
        let causes = (lead["ledger"] as? [[String: Any]])?.compactMap { $0["cause"] as? String } ?? []
        #expect(causes.contains("stage → SQL") && causes.contains { $0.hasPrefix("hand-off") } && causes.contains("demo_requested"))
    }

    @Test func aCrashBetweenCrossingAndDeliveryLosesNothing() throws {
        let site = try Self.site()
        let serve = try site.project.start(["serve", "--speed", "1000"])
        #expect(BoundedPoll.until(timeout: 30) { (try? site.http.get("/healthz").status) == 200 }, "\(serve.stderr())")
        #expect(try site.api("POST", "/leads", json: Self.ada).status == 201)
        // The receiver is down: the crossing is committed, the delivery cannot happen yet.
        _ = try site.api("POST", "/events", json: #"{"email":"ada@example.com","name":"demo_requested"}"#)
        _ = try site.api("POST", "/events", json: #"{"email":"ada@example.com","name":"converted"}"#)
        #expect(site.handoff("ada@example.com", "webhook")?.hasPrefix("pending:") == true, "\(site.handoff("ada@example.com", "webhook") ?? "none")")
        serve.kill(SIGKILL)
        _ = serve.wait()
        let webhook = try site.startWebhook(failFirst: 0)
        defer { kill(webhook.processIdentifier, SIGKILL); webhook.waitUntilExit() }
        let again = try site.project.start(["serve", "--speed", "1000"])
        defer { again.kill(SIGTERM); _ = again.wait() }
        #expect(BoundedPoll.until(timeout: 30) { site.handoff("ada@example.com", "webhook")?.hasPrefix("delivered:") == true }, "\(again.stderr())")
        #expect(site.deliveries().filter { $0["status"] as? Int == 200 }.count == 1)
    }

    @Test func eraseThenReaddIsRefusedAndExportHasEverything() throws {
        let site = try Self.site()
        let serve = try site.project.start(["serve"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 30) { (try? site.http.get("/healthz").status) == 200 }, "\(serve.stderr())")
        #expect(try site.api("POST", "/leads", json: Self.ada).status == 201)
        _ = try site.api("POST", "/events", json: #"{"email":"ada@example.com","name":"visited_pricing"}"#)
        let export = site.json(try site.api("GET", "/leads/ada@example.com/export"))
        #expect((export["consent"] as? [String: Any])?["source"] as? String == "api:test")
        #expect((export["events"] as? [[String: Any]])?.contains { $0["type"] as? String == "visited_pricing" } == true)
        #expect((export["score_ledger"] as? [[String: Any]])?.isEmpty == false)

        #expect(site.project.databaseFilesContain("ada@example.com")) // so its absence below means something
        #expect(try site.api("DELETE", "/leads/ada@example.com").status == 200)
        #expect(try site.api("GET", "/leads/ada@example.com").status == 404)
        #expect(try site.api("GET", "/leads/ada@example.com/export").status == 404)
        // No lead, enrollment or send is left to count, and the address is suppressed as erased.
        #expect(try site.project.totals() == .init(leads: 0, suppressed: 1, reasons: ["erased": 1]))
        let stats = try site.project.run(["stats", "--json"]).stdout
        #expect((try? JSONSerialization.jsonObject(with: Data(stats.utf8)) as? [Any])?.isEmpty == true, "\(stats)")
        // Only a keyed hash remains: a file-level check, as no surface may show erased data: neither the address nor
        // the lead's fields, events or ledger causes are anywhere in the database's files.
        for gone in ["ada@example.com", "Robert'); DROP TABLE lead;--", "<script>alert(1)</script>", "visited_pricing"] {
            #expect(!site.project.databaseFilesContain(gone), "\(gone)")
        }
        let readd = try site.api("POST", "/leads", json: Self.ada)
        #expect(readd.status == 409, "\(readd.text)")
        let cli = try site.project.run(["lead", "add", "ADA@example.com", "--persona", "cto", "--consent", "again"])
        #expect(cli.status == 1 && cli.stderr.contains("suppression list"))
    }

    @Test func rescoreAfterARuleChangeReportsWhatChanged() throws {
        let site = try Self.site()
        #expect(try site.project.run(["lead", "add", "ada@example.com", "--persona", "cto", "--consent", "t"]).status == 0)
        let event = try site.project.run(["event", "ada@example.com", "visited_pricing"])
        #expect(event.status == 0 && event.stdout.contains("score 10"), "\(event.stdout)\(event.stderr)")
        var config = try String(contentsOfFile: site.project.path("nurture.yaml"), encoding: .utf8)
        config = config.replacingOccurrences(of: "    visited_pricing: 10", with: "    visited_pricing: 25")
        try config.write(toFile: site.project.path("nurture.yaml"), atomically: true, encoding: .utf8)
        let dry = try site.project.run(["rescore", "--dry-run"])
        #expect(dry.stdout.contains("ada@example.com  10.00 → 25.00  LEAD → MQL") && dry.stdout.contains("1 lead would change"), "\(dry.stdout)\(dry.stderr)")
        let real = try site.project.run(["rescore"])
        #expect(real.stdout.contains("1 lead changed"))
        #expect(try site.project.run(["rescore"]).stdout.contains("0 leads changed"))
        let shown = try site.project.run(["lead", "show", "ada@example.com"])
        #expect(shown.stdout.contains("rescore from the event log"), "\(shown.stdout)")
    }
}
