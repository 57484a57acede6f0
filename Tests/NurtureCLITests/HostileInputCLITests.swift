import Foundation
import Testing

/// Hostile input against the real binary: every command survives it, says where the problem is, and loses nothing.
@Suite(.serialized)
struct HostileInputCLITests {
    static func deepTemplate(_ sigil: String) -> String {
        "---\nsubject: Deep\n---\n" + String(repeating: "{{\(sigil)first_name}}", count: 10_000) + "x"
            + String(repeating: "{{/first_name}}", count: 10_000) + "\n"
    }

    @Test func tenThousandNestedSectionsAreALocatedErrorAndAReloadKeepsTheDaemonOnItsOldFiles() throws {
        let site = try TrackingHTTPTests.start()
        defer { site.stop() }
        let file = site.project.path("templates/step.md")
        let before = try String(contentsOfFile: file, encoding: .utf8)
        for sigil in ["#", "^"] {
            try Self.deepTemplate(sigil).write(toFile: file, atomically: true, encoding: .utf8)
            let validate = try site.project.run(["validate"])
            #expect(validate.status == 1, "\(validate.status): \(validate.stderr)")
            let output = validate.stdout + validate.stderr
            #expect(output.contains("templates/step.md:4:1501: error: sections are nested more than 100 levels deep"), "\(output)")
        }
        site.serve.kill(SIGHUP)
        #expect(BoundedPoll.until(timeout: 20) { site.serve.stderr().contains("reload refused") }, "\(site.serve.stderr())")
        #expect(site.serve.process.isRunning)
        #expect(try site.http.get("/healthz").status == 200)
        try before.write(toFile: file, atomically: true, encoding: .utf8)
    }

    @Test func nestedBracketsInMarkdownValidateAndPreviewAtOnce() throws {
        let site = try TrackingHTTPTests.start()
        defer { site.stop() }
        // Ink took 66 s for 26 brackets and crashed on 10 000.
        let body = String(repeating: "[", count: 10_000) + "x {{first_name}}\n"
        try ("---\nsubject: Brackets\n---\n" + body).write(toFile: site.project.path("templates/step.md"), atomically: true, encoding: .utf8)
        let started = Date()
        let preview = try site.project.run(["preview", "guide", "one", "--lead-json", #"{"first_name":"Ada"}"#])
        #expect(preview.status == 0, "\(preview.stderr)")
        #expect(preview.stdout.contains("<p>" + String(repeating: "[", count: 10_000) + "x Ada</p>"))
        #expect(Date().timeIntervalSince(started) < 20)
    }

    @Test func theUnsubscribePagePostsThroughThePublicURLsPath() throws {
        let site = try TrackingHTTPTests.start(publicPath: "/nurture")
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com")
        let raw = try String(contentsOfFile: site.project.path("var/outbox/") + (try FileManager.default.contentsOfDirectory(atPath: site.project.path("var/outbox")).first { $0.hasSuffix(".eml") } ?? ""), encoding: .utf8)
        #expect(raw.contains("/nurture/u/"))
        // The proxy strips the prefix; the page must put it back on its form.
        let page = try site.http.get("/u/\(ada.unsubscribe)")
        #expect(page.status == 200)
        #expect(page.text.contains("<form method=\"post\" action=\"/nurture/u/\(ada.unsubscribe)\">"), "\(page.text)")
    }

    @Test func replayedOpensAndClicksAreScoredOnceAndStoredAFewTimes() throws {
        let site = try TrackingHTTPTests.start()
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com")
        for _ in 0..<300 { #expect(try site.http.get("/o/\(ada.open).gif").status == 200) }
        for _ in 0..<100 { #expect(try site.http.get("/c/\(ada.clicks[0])").status == 302) }
        let lead = try site.project.lead("ada@example.com")
        #expect(lead.ledger.filter { $0.cause.hasPrefix("open") }.count == 1)
        #expect(lead.ledger.filter { $0.cause.hasPrefix("click") }.count == 1)
        // At most ten stored per token an hour; the rest answered and counted in /metrics only. Ada's one message
        // (step one; step two is a month away) is the one these tokens name.
        #expect(lead.sends.filter { $0.status == "sent" }.map(\.id) == [ada.outboxID])
        let ofMessage = lead.events.filter { $0.step == "one" }
        #expect(ofMessage.filter { $0.type == "open" }.count == 10)
        #expect(ofMessage.filter { $0.type == "click" }.count == 10)
        #expect(ofMessage.filter(\.repeated).count == 18)
        let metrics = try site.http.get("/metrics").text
        #expect(metrics.contains("nurture_events_total{origin=\"repeat\",type=\"open\"} 290") || metrics.contains("nurture_events_total{type=\"open\",origin=\"repeat\"} 290"), "\(metrics)")
    }

    @Test func looseJSONIsRefused() throws {
        let p = try NurtureProcess()
        let number = try p.run(["preview", "cto-whitepaper", "whitepaper", "--lead-json", #"{"first_name": 1}"#])
        #expect(number.status != 0 && number.stderr.contains("'first_name' must be a text value"), "\(number.stderr)")
        let twice = try p.run(["preview", "cto-whitepaper", "whitepaper", "--lead-json", #"{"first_name": "A", "first_name": "B"}"#])
        #expect(twice.status != 0 && twice.stderr.contains("duplicate key 'first_name'"), "\(twice.stderr)")
    }

    @Test func csvQuotingRFC4180ForbidsAndBadConsentAddressesNameTheirLineAndTheRestImports() throws {
        let p = try NurtureProcess()
        try p.write("leads.csv", Array(#"""
            email,first_name,consent_ip
            "a@example.com"x,A,
            b@example.com,B"q,
            c@example.com,C,999.1.1.1
            d@example.com,D,1.2.3
            e@example.com,E,203.0.113.7
            "f@example.com","F ""quoted""",2001:db8::1

            """#.utf8))
        let r = try p.run(["lead", "import", "leads.csv", "--consent", "t", "--persona", "cto"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("leads.csv:2: error: stray quote in column 1"), "\(r.stderr)")
        #expect(r.stderr.contains("leads.csv:3: error: stray quote in column 2"), "\(r.stderr)")
        #expect(r.stderr.contains("leads.csv:4: error: bad consent_ip '999.1.1.1'"), "\(r.stderr)")
        #expect(r.stderr.contains("leads.csv:5: error: bad consent_ip '1.2.3'"), "\(r.stderr)")
        #expect(r.stdout.contains("2 added") && r.stdout.contains("4 rejected"), "\(r.stdout)")
        #expect(try p.totals().leads == 2)
        #expect(try ["a", "b", "c", "d", "e", "f"].filter { try p.leadShow("\($0)@example.com") != nil } == ["e", "f"])
        #expect(try p.lead("f@example.com").fields["first_name"] == "F \"quoted\"")
    }

    @Test func absurdOptionsAreRefused() throws {
        let p = try NurtureProcess()
        try p.write("leads.csv", Array("email\na@example.com\n".utf8))
        let batch = try p.run(["lead", "import", "leads.csv", "--consent", "t", "--persona", "cto", "--batch-size", "0"])
        #expect(batch.status != 0 && batch.stderr.contains("--batch-size must be from 1 to 100000"), "\(batch.stderr)")
        let stats = try p.run(["stats", "--sequence", "nosuch"])
        #expect(stats.status != 0 && stats.stderr.contains("unknown sequence 'nosuch'"), "\(stats.stderr)")
        let simulate = try p.run(["simulate", "cto-whitepaper", "--start", "2026-11-27T16:00:00Z", "--event", "converted@2026-11-01T00:00:00Z"])
        #expect(simulate.status != 0 && simulate.stderr.contains("is before --start"), "\(simulate.stderr)")
    }

    @Test func unknownCSVHeadersAreEscapedCappedAndReportedOnce() throws {
        let p = try NurtureProcess()
        var header = "email,\u{1B}]0;pwned\u{07}\u{1B}[2J,nul\u{0}col," + String(repeating: "x", count: 5_000_000)
        for i in 0..<100_000 { header += ",u\(i)" }
        try p.write("leads.csv", Array((header + "\n").utf8))
        let r = try p.run(["lead", "import", "leads.csv", "--consent", "t", "--persona", "cto"])
        #expect(r.status == 1)
        #expect(r.stderr.utf8.count < 4_096, "\(r.stderr.utf8.count) bytes of errors")
        #expect(!r.stderr.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, "a control character reached the terminal")
        #expect(r.stderr.contains("unknown columns '\\u{1B}]0;pwned\\u{7}\\u{1B}[2j', 'nul\\u{0}col'"), "\(r.stderr)")
        #expect(r.stderr.contains("and 99993 more"), "\(r.stderr)")
        #expect(r.stderr.components(separatedBy: "unknown column").count == 2)
    }
}
