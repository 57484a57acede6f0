import Foundation
import NurtureSigning
import Testing

/// The HTTP side of a real `nurture serve`: real requests to the running daemon, state checked with `lead show` and `stats`.
@Suite(.serialized)
struct TrackingHTTPTests {
    /// A running daemon that has sent step one of a two-step sequence to two leads (step two is 30 days away).
    struct Site {
        let project: NurtureProcess
        let serve: RunningNurture
        let http: HTTPProbe
        let signer: TokenSigner

        /// Tokens and targets found in the HTML part of the mail sent to `email`.
        func mail(to email: String) throws -> (outboxID: Int64, open: String, clicks: [String], unsubscribe: String) {
            let dir = project.path("var/outbox")
            for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".eml") {
                let raw = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
                guard raw.contains("To: ") && raw.contains("<\(email)>") else { continue }
                // Quoted-printable: drop soft breaks and decode "=3D" (tokens are base64url, nothing else is escaped).
                let text = raw.replacingOccurrences(of: "=\r\n", with: "").replacingOccurrences(of: "=3D", with: "=")
                func tokens(_ prefix: String) -> [String] {
                    text.components(separatedBy: prefix).dropFirst().map { String($0.prefix(TokenSigner.tokenLength)) }
                }
                let open = try #require(tokens("/o/").first)
                let unsubscribe = try #require(tokens("/u/").first)
                let id = try #require(signer.verify(unsubscribe, purpose: .unsubscribe)).outboxID
                var clicks: [String] = []
                for t in tokens("/c/") where !clicks.contains(t) { clicks.append(t) }
                return (id, open, clicks, unsubscribe)
            }
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "no mail to \(email)"])
        }

        static let leads = ["ada@example.com", "zoe@example.fr"]

        /// Nothing recorded: the two leads are the only ones stored (every event belongs to a lead) and have no
        /// events, and no address is suppressed.
        func noEventsAndNoSuppression() throws -> Bool {
            let totals = try project.totals()
            let events = try Self.leads.flatMap { try project.lead($0).events }
            #expect(totals.leads == 2 && totals.suppressed == 0 && events.isEmpty, "\(totals) \(events)")
            return totals.leads == 2 && totals.suppressed == 0 && events.isEmpty
        }

        func stop() {
            serve.kill(SIGTERM)
            #expect(serve.wait() == 0, "\(serve.stderr())")
        }
    }

    static func start(openWithin: String = "0s", clickWithin: String = "0s", publicPath: String = "", http extra: [String] = []) throws -> Site {
        let p = try NurtureProcess()
        let port = HTTPProbe.freePort()
        let fm = FileManager.default
        try fm.createDirectory(atPath: p.path("sequences"), withIntermediateDirectories: true)
        try fm.createDirectory(atPath: p.path("templates"), withIntermediateDirectories: true)
        try fm.createDirectory(atPath: p.path("var"), withIntermediateDirectories: true)
        try """
            database: var/nurture.sqlite
            sequences: sequences
            templates: templates
            timezone: UTC
            locale: en
            fields: [first_name]
            http:
              listen: 127.0.0.1:\(port)
              public_url: http://127.0.0.1:\(port)\(publicPath)
              machine_open_within: \(openWithin)
              machine_click_within: \(clickWithin)
            \(extra.map { "  " + $0 + "\n" }.joined())transport: file://var/outbox
            sender: { name: Track Test, email: track@example.com, postal_address: 1 Test Street }
            throttle: { min_gap: 1s, max: 100 per 1d, rate: 500/s, domain_rate: 500/s, sunset_after: 100, stale_after: 30d }
            secrets: { token_key_file: var/token.key }
            """.write(toFile: p.path("nurture.yaml"), atomically: true, encoding: .utf8)
        try """
            id: guide
            persona: reader
            steps:
              - { id: one, after: 0m, template: step }
              - { id: two, after: 30d, template: step }
            """.write(toFile: p.path("sequences/guide.yaml"), atomically: true, encoding: .utf8)
        try "<html><body>{{{content}}}<a href=\"{{unsubscribe_url}}\">Unsubscribe</a> {{postal_address}}</body></html>\n"
            .write(toFile: p.path("templates/_layout.html"), atomically: true, encoding: .utf8)
        try "{{{content}}}\n{{unsubscribe_url}}\n{{postal_address}}\n".write(toFile: p.path("templates/_layout.txt"), atomically: true, encoding: .utf8)
        try """
            ---
            subject: Hello {{first_name}}
            ---
            Hello {{first_name}}. Read [the guide](https://example.com/guide?a=1&b=2) or [the pricing](https://example.com/pricing).
            Write to [us](mailto:hello@example.com).
            """.write(toFile: p.path("templates/step.md"), atomically: true, encoding: .utf8)
        try TokenSigner.generateKeyFile(at: p.path("var/token.key"))
        try p.write("leads.csv", Array("email,first_name,locale\nada@example.com,Ada,en\nzoe@example.fr,<script>alert(1)</script>,fr\n".utf8))
        let imported = try p.run(["lead", "import", "leads.csv", "--consent", "test", "--persona", "reader"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let serve = try p.start(["serve"])
        let http = HTTPProbe(port: port)
        let ready = BoundedPoll.until(timeout: 30) {
            let sent = (try? FileManager.default.contentsOfDirectory(atPath: p.path("var/outbox")))?.filter { $0.hasSuffix(".eml") }.count ?? 0
            return sent == 2 && (try? http.get("/healthz").status) == 200
        }
        #expect(ready, "\(serve.stderr())")
        return Site(project: p, serve: serve, http: http, signer: try TokenSigner.load(file: p.path("var/token.key")))
    }

    @Test func tokensThatAreNotExactlyRightRecordNothing() throws {
        let site = try Self.start()
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com"), zoe = try site.mail(to: "zoe@example.fr")
        func flip(_ t: String) -> String {
            var chars = Array(t)
            chars[20] = chars[20] == "A" ? "B" : "A"
            return String(chars)
        }
        let forged = String(repeating: "A", count: TokenSigner.tokenLength)
        let otherLink = site.signer.sign(LinkToken(purpose: .click, outboxID: ada.outboxID, link: 7)) // index beyond its links
        let badClicks = [forged, String(ada.clicks[0].dropLast()), flip(ada.clicks[0]), ada.open, ada.unsubscribe,
                         ada.clicks[0] + String(repeating: "A", count: 4_000), otherLink, "..%2F..%2Fetc%2Fpasswd"]
        for token in badClicks {
            #expect(try site.http.get("/c/\(token)").status == 404, "\(token)")
        }
        for token in [forged, String(ada.open.dropLast()), flip(ada.open), ada.clicks[0], zoe.unsubscribe] {
            let reply = try site.http.get("/o/\(token).gif")
            // The pixel is always served, so a mail reader never shows a broken image; nothing is recorded.
            #expect(reply.status == 200 && reply.header("Content-Type") == "image/gif" && reply.body.count == 43)
        }
        for token in [forged, flip(ada.unsubscribe), ada.open, ada.clicks[1]] {
            #expect(try site.http.get("/u/\(token)").status == 404)
            let post = try site.http.request("POST", "/u/\(token)", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                             body: Data("List-Unsubscribe=One-Click".utf8))
            #expect(post.status == 404)
        }
        #expect(try site.noEventsAndNoSuppression())
    }

    @Test func clicksRedirectOnlyToTheMessagesOwnLinks() throws {
        let site = try Self.start()
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com")
        #expect(ada.clicks.count == 2) // the mailto: and unsubscribe links are not rewritten
        let first = try site.http.get("/c/\(ada.clicks[0])")
        #expect(first.status == 302)
        #expect(first.header("Location") == "https://example.com/guide?a=1&b=2")
        // Whatever the request adds, the target is the stored one.
        let tampered = try site.http.get("/c/\(ada.clicks[1])?url=https://evil.example&next=//evil.example")
        #expect(tampered.header("Location") == "https://example.com/pricing")
        for path in ["/c//evil.example", "/c/https:%5C%5Cevil.example", "/c/%2F%2Fevil.example", "/c/"] {
            let reply = try site.http.get(path)
            #expect(reply.status == 404, "\(path)")
            #expect(reply.header("Location") == nil)
        }
        #expect(try site.project.lead("ada@example.com").chronological.map { "\($0.type):\($0.link ?? -1)" } == ["click:0", "click:1"])
        #expect(try site.project.lead("zoe@example.fr").events.isEmpty)
    }

    @Test func machineOpensAndClicksAreRecordedButFlagged() throws {
        let site = try Self.start(openWithin: "1h", clickWithin: "0s")
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com"), zoe = try site.mail(to: "zoe@example.fr")
        // Delivered seconds ago: a privacy prefetch, not a person.
        _ = try site.http.get("/o/\(ada.open).gif")
        // A link scanner: HEAD, or a library's user agent.
        #expect(try site.http.request("HEAD", "/c/\(ada.clicks[0])").status == 302)
        #expect(try site.http.get("/c/\(ada.clicks[1])", userAgent: "python-requests/2.31").status == 302)
        // A burst on every link of a message within seconds: both clicks are a scanner's.
        _ = try site.http.get("/c/\(zoe.clicks[0])")
        _ = try site.http.get("/c/\(zoe.clicks[1])")
        let rows = try Site.leads.flatMap { try site.project.lead($0).chronological }.map { "\($0.type)|\($0.machine ? 1 : 0)|\($0.why ?? "")" }
        #expect(rows.count == 5, "\(rows)")
        #expect(rows[0].hasPrefix("open|1|opened "))
        #expect(rows[1] == "click|1|HEAD request")
        #expect(rows[2] == "click|1|user agent matches 'python-requests'")
        #expect(rows[3] == "click|1|burst on every link of the message")
        #expect(rows[4] == "click|1|burst on every link of the message")
        // Metrics count each click as it was judged when recorded: the burst's first click looked human then.
        let metrics = try site.http.get("/metrics").text
        #expect(metrics.contains("nurture_events_total{type=\"click\",origin=\"machine\"} 3"), "\(metrics)")
        #expect(metrics.contains("nurture_events_total{type=\"open\",origin=\"machine\"} 1"), "\(metrics)")
    }

    @Test func oneClickUnsubscribeInBothEncodingsWhileGETsNeverUnsubscribe() throws {
        let site = try Self.start()
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com"), zoe = try site.mail(to: "zoe@example.fr")
        for _ in 0..<100 { #expect(try site.http.get("/u/\(ada.unsubscribe)").status == 200) }
        #expect(try site.project.totals().suppressed == 0)
        #expect(try Site.leads.flatMap { try site.project.lead($0).sends(step: "two").map(\.status) } == ["scheduled", "scheduled"])

        let form = try site.http.request("POST", "/u/\(ada.unsubscribe)", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                         body: Data("List-Unsubscribe=One-Click".utf8))
        #expect(form.status == 200 && form.header("Location") == nil)
        #expect(form.text.contains("You are unsubscribed"))
        let again = try site.http.request("POST", "/u/\(ada.unsubscribe)", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                          body: Data("List-Unsubscribe=One-Click".utf8))
        #expect(again.status == 200)

        let boundary = "----nurture\(UUID().uuidString)"
        let multipart = "--\(boundary)\r\nContent-Disposition: form-data; name=\"List-Unsubscribe\"\r\n\r\nOne-Click\r\n--\(boundary)--\r\n"
        let gmail = try site.http.request("POST", "/u/\(zoe.unsubscribe)", headers: ["Content-Type": "multipart/form-data; boundary=\(boundary)"],
                                          body: Data(multipart.utf8))
        #expect(gmail.status == 200)
        #expect(gmail.text.contains("Vous êtes désabonné"))
        // A POST without the one-click field changes nothing more (and says why).
        #expect(try site.http.request("POST", "/u/\(zoe.unsubscribe)", body: Data("x=y".utf8)).status == 400)

        #expect(try site.project.totals() == .init(leads: 2, suppressed: 2, reasons: ["unsubscribed": 2]))
        let leads = try Site.leads.map { try site.project.lead($0) }
        #expect(leads.map(\.suppressed) == ["unsubscribed", "unsubscribed"])
        #expect(leads.map { $0.events.filter { $0.type == "unsubscribe" }.count } == [1, 1])
        #expect(leads.flatMap { $0.sends(step: "two").map { "\($0.status):\($0.reason ?? "")" } } == ["cancelled:unsubscribed", "cancelled:unsubscribed"])
        #expect(Set(leads.flatMap { $0.enrollments.map { "\($0.state):\($0.endReason ?? "")" } }) == ["exited:unsubscribed"])
    }

    @Test func pagesEscapeLeadDataAndCarrySecurityHeaders() throws {
        let site = try Self.start()
        defer { site.stop() }
        let zoe = try site.mail(to: "zoe@example.fr")
        let page = try site.http.get("/u/\(zoe.unsubscribe)", userAgent: "<script>alert('ua')</script>")
        #expect(page.status == 200)
        #expect(page.text.contains("<html lang=\"fr\">"))
        #expect(page.text.contains("Bonjour &lt;script&gt;alert(1)&lt;/script&gt;"))
        #expect(!page.text.contains("<script>"))
        #expect(!page.text.contains("alert('ua')"))
        let csp = try #require(page.header("Content-Security-Policy"))
        #expect(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"))
        #expect(page.header("X-Frame-Options") == "DENY" && page.header("X-Content-Type-Options") == "nosniff")
        // Errors say nothing about internals.
        let missing = try site.http.get("/nothing-here")
        #expect(missing.status == 404 && !missing.text.lowercased().contains("error:"))
    }

    @Test func limitsHealthAndMetrics() throws {
        let site = try Self.start()
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com")
        let big = try site.http.request("POST", "/u/\(ada.unsubscribe)", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                        body: Data(("List-Unsubscribe=One-Click&pad=" + String(repeating: "x", count: 200_000)).utf8))
        #expect(big.status == 413)
        let hugeHeader = try? site.http.request("GET", "/healthz", headers: ["X-Pad": String(repeating: "y", count: 20_000)])
        #expect(hugeHeader == nil || hugeHeader!.status >= 400)
        #expect(try site.project.totals().suppressed == 0)

        let health = try site.http.get("/healthz")
        #expect(health.status == 200 && health.text.contains("\"database\":\"ok\"") && health.text.contains("\"scheduler\":\"ok\""))
        _ = try site.http.get("/o/\(ada.open).gif")
        let metrics = try site.http.get("/metrics")
        #expect(metrics.header("Content-Type")?.hasPrefix("text/plain") == true)
        for line in ["nurture_sends_total{result=\"sent\"} 2", "nurture_outbox_messages{status=\"scheduled\"} 2.0",
                     "nurture_events_total{type=\"open\",origin=\"human\"} 1", "http_server_request_duration_bucket"] {
            #expect(metrics.text.contains(line), "\(line)")
        }
    }

    @Test func unsubscribePageWorksInARealBrowser() throws {
        let site = try Self.start()
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com")
        let result = try Self.browse(site.http.base + "/u/\(ada.unsubscribe)")
        #expect((result["title"] as? String) == "Unsubscribe from Track Test?")
        #expect((result["before"] as? String)?.contains("ada@example.com") == true)
        #expect((result["after"] as? String)?.contains("You are unsubscribed") == true)
        #expect((result["console"] as? [String]) == [], "\(result)")
        #expect(try site.project.totals().suppressed == 1)
        #expect(try site.project.lead("ada@example.com").suppressed == "unsubscribed")
    }

    /// Runs the browser script on a page, pressing `choice` (nil: the default unsubscribe button).
    static func browse(_ url: String, choice: String? = nil, screenshot: String? = nil) throws -> [String: Any] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", NurtureProcess.repository + "/Tests/Support/unsubscribe_browser.py", url, choice ?? ""] + (screenshot.map { [$0] } ?? [])
        let out = Pipe(), err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(errors)")
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(errors)")
    }

    /// The CSRF field of a choice's form on the page.
    static func csrf(_ page: String, _ choice: String) throws -> String {
        let form = try #require(page.components(separatedBy: "value=\"\(choice)\">").dropFirst().first)
        let field = try #require(form.components(separatedBy: "name=\"csrf\" value=\"").dropFirst().first)
        return String(field.prefix { $0 != "\"" })
    }

    @Test func theRecipientPausesInARealBrowserOrLeavesOneSequenceAndForgedFormsChangeNothing() throws {
        let site = try Self.start()
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com"), zoe = try site.mail(to: "zoe@example.fr")

        // Headless Chromium, JavaScript off, 375 px wide: the pause button works and the unsubscribe stays first.
        let shot = site.project.path("unsubscribe-375.png")
        let paused = try Self.browse(site.http.base + "/u/\(ada.unsubscribe)", choice: "pause30", screenshot: shot)
        let before = try #require(paused["before"] as? String)
        #expect(before.contains("Stop only this series of emails") && before.contains("Pause all emails for 90 days"))
        #expect(try #require(before.range(of: "Unsubscribe")).lowerBound < (try #require(before.range(of: "Pause all emails for 30 days"))).lowerBound)
        #expect((paused["after"] as? String)?.contains("Emails paused") == true, "\(paused)")
        #expect((paused["console"] as? [String]) == [], "\(paused)")
        #expect(FileManager.default.fileExists(atPath: shot))
        let adaNow = try site.project.lead("ada@example.com")
        #expect(adaNow.suppressed == nil && adaNow.pausedUntil != nil)
        #expect(adaNow.consentHistory.map { "\($0.type) \($0.via ?? "")" } == ["paused unsubscribe page"])
        #expect(adaNow.sends(step: "two").map(\.status) == ["scheduled"], "a pause drops nothing")

        // Forged, swapped, cross-site or missing fields: refused, nothing recorded.
        let page = try site.http.get("/u/\(zoe.unsubscribe)").text
        let leave = try Self.csrf(page, "leave"), pause = try Self.csrf(page, "pause90")
        let form = ["Content-Type": "application/x-www-form-urlencoded"]
        func post(_ body: String, _ headers: [String: String] = form, token: String = zoe.unsubscribe) throws -> Int {
            try site.http.request("POST", "/u/\(token)/choice", headers: headers, body: Data(body.utf8)).status
        }
        let adaPage = try site.http.get("/u/\(ada.unsubscribe)").text
        #expect(try post("choice=leave&csrf=" + String(repeating: "A", count: TokenSigner.tokenLength)) == 403)
        #expect(try post("choice=pause30&csrf=\(pause)") == 403, "a token for another choice")
        #expect(try post("choice=leave&csrf=\(try Self.csrf(adaPage, "leave"))") == 403, "a token for another message")
        #expect(try post("choice=leave&csrf=\(ada.unsubscribe)") == 403, "an unsubscribe token is no CSRF token")
        #expect(try post("choice=leave&csrf=\(leave)", form.merging(["Sec-Fetch-Site": "cross-site"]) { $1 }) == 403)
        #expect(try post("choice=leave") == 400 && post("choice=stop&csrf=\(leave)") == 400)
        #expect(try post("choice=leave&csrf=\(leave)", token: String(repeating: "A", count: TokenSigner.tokenLength)) == 404)
        let untouched = try site.project.lead("zoe@example.fr")
        #expect(untouched.consentHistory.isEmpty && untouched.enrollments.map(\.state) == ["active"])

        // The real form: Zoe leaves this sequence only; pressing it again changes nothing more.
        let left = try site.http.request("POST", "/u/\(zoe.unsubscribe)/choice", headers: form, body: Data("choice=leave&csrf=\(leave)".utf8))
        #expect(left.status == 200 && left.text.contains("Vous avez quitté cette série"))
        #expect(try post("choice=leave&csrf=\(leave)") == 200)
        let zoeNow = try site.project.lead("zoe@example.fr")
        #expect(zoeNow.suppressed == nil)
        #expect(zoeNow.enrollments.map { "\($0.state):\($0.endReason ?? "")" } == ["exited:left by the recipient"])
        #expect(zoeNow.sends(step: "two").map { "\($0.status):\($0.reason ?? "")" } == ["cancelled:left by the recipient"])
        #expect(zoeNow.consentHistory.map(\.type) == ["sequence_left"])

        // One-click stays exactly as it was, after a choice too.
        let oneClick = try site.http.request("POST", "/u/\(ada.unsubscribe)", headers: form, body: Data("List-Unsubscribe=One-Click".utf8))
        #expect(oneClick.status == 200 && oneClick.text.contains("You are unsubscribed"))
        #expect(try site.project.lead("ada@example.com").consentHistory.map(\.type) == ["paused", "unsubscribe"])
        #expect(try post("choice=pause30&csrf=\(try Self.csrf(adaPage, "pause30"))", token: ada.unsubscribe) == 200, "already unsubscribed: the done page")
    }

    @Test func planShowsWhatAnEditWouldDoAndFailsCIOnAResend() throws {
        let site = try Self.start()
        site.stop()
        let unchanged = try site.project.run(["plan"])
        #expect(unchanged.status == 0 && unchanged.stdout.contains("nothing to plan"), "\(unchanged.stdout)\(unchanged.stderr)")
        // Step two renamed: both leads, waiting at it, would get the same template again under its new name.
        try """
            id: guide
            persona: reader
            steps:
              - { id: one, after: 0m, template: step }
              - { id: second, after: 30d, template: step }
            """.write(toFile: site.project.path("sequences/guide.yaml"), atomically: true, encoding: .utf8)
        let text = try site.project.run(["plan"])
        #expect(text.status == 0, "\(text.stderr)")
        #expect(text.stdout.contains("changes: + second, - two") && text.stdout.contains("two                 2  resend    step removed; second sends step again"),
                "\(text.stdout)")
        #expect(try site.project.run(["plan", "--fail-on", "resend,skip"]).status == 2)
        #expect(try site.project.run(["plan", "--fail-on", "exit"]).status == 0)
        #expect(try site.project.run(["plan", "--fail-on", "kept"]).status != 0 && (try site.project.run(["plan", "--fail-on", "kept"]).stderr.contains("--fail-on")))
        let json = try site.project.run(["plan", "--json"])
        let document = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]])
        #expect((document.first?["totals"] as? [String: Int])?["resend"] == 2, "\(json.stdout)")
        // `lead show` says which version a lead runs.
        let version = try #require((document.first?["running"] as? [String: Int])?.keys.first)
        #expect(try site.project.run(["lead", "show", "ada@example.com"]).stdout.contains("version \(version)"))
    }
}
