import Foundation
import Testing

/// `nurture lead add|import|show` against a real SQLite file.
struct LeadCommandTests {
    @Test func addThenShowAsJSON() throws {
        let p = try NurtureProcess()
        let add = try p.run(["lead", "add", " Ada@Example.COM ", "--persona", "cto", "--consent", "webform:whitepaper",
                             "--consent-text", "Send me the paper and related content", "--consent-ip", "192.0.2.7",
                             "--field", "first_name=Ada", "--field", "company=Analytical", "--timezone", "Europe/London"])
        #expect(add.status == 0, "\(add.stderr)")
        #expect(add.stdout == "added Ada@example.com (persona cto)\n")
        #expect(FileManager.default.fileExists(atPath: p.path("var/nurture.sqlite")))
        let again = try p.run(["lead", "add", "ada@example.com", "--persona", "cto", "--consent", "webform:whitepaper",
                               "--field", "first_name=Ada", "--field", "company=Analytical", "--timezone", "Europe/London"])
        #expect(again.stdout.hasPrefix("updated") || again.stdout.hasPrefix("unchanged"))
        let show = try p.run(["lead", "show", "ada@example.com", "--json"])
        #expect(show.status == 0, "\(show.stderr)")
        let json = try #require(try JSONSerialization.jsonObject(with: Data(show.stdout.utf8)) as? [String: Any])
        #expect(json["persona"] as? String == "cto")
        #expect(json["timezone"] as? String == "Europe/London")
        #expect((json["fields"] as? [String: String]) == ["first_name": "Ada", "company": "Analytical"])
        let consent = try #require(json["consent"] as? [String: Any])
        #expect(consent["source"] as? String == "webform:whitepaper")
        #expect(consent["ip"] as? String == "192.0.2.7")
        #expect(consent["text"] as? String == "Send me the paper and related content")
        let text = try p.run(["lead", "show", "ada@example.com"])
        #expect(text.stdout.contains("consent       webform:whitepaper at "))
    }

    @Test func statsEndsWithTheLeadsStoredAndTheSuppressionListBySize() throws {
        let p = try NurtureProcess()
        #expect(try p.run(["stats"]).stdout.hasSuffix("leads: 0 stored; suppression list: 0 addresses\n"))
        for email in ["ada@example.com", "bob@example.com", "cy@example.com"] {
            #expect(try p.run(["lead", "add", email, "--persona", "cto", "--consent", "form"]).status == 0)
        }
        #expect(try p.run(["lead", "erase", "bob@example.com"]).status == 0)
        #expect(try p.run(["stats"]).stdout.hasSuffix("leads: 2 stored; suppression list: 1 address (1 erased)\n"))
        #expect(try p.run(["lead", "erase", "cy@example.com"]).status == 0)
        #expect(try p.totals() == .init(leads: 1, suppressed: 2, reasons: ["erased": 2]))
        // An address never stored can be erased ahead (it stays away): it counts too.
        #expect(try p.run(["lead", "erase", "never@example.com"]).status == 0)
        #expect(try p.totals() == .init(leads: 1, suppressed: 3, reasons: ["erased": 3]))
    }

    @Test func leadsWithoutConsentOrWithControlCharactersAreRefused() throws {
        let p = try NurtureProcess()
        let noConsent = try p.run(["lead", "add", "ada@example.com", "--persona", "cto"])
        #expect(noConsent.status != 0)
        #expect(noConsent.stderr.contains("--consent"))
        let injected = try p.run(["lead", "add", "ada@example.com", "--persona", "cto", "--consent", "form",
                                  "--field", "first_name=Bob\r\nBcc: x@evil.example"])
        #expect(injected.status == 1)
        #expect(injected.stderr.contains("control character"))
        let badAddress = try p.run(["lead", "add", "a@x.com\r\nRCPT TO:<evil@x.example>", "--persona", "cto", "--consent", "form"])
        #expect(badAddress.status == 1)
        let unknownPersona = try p.run(["lead", "add", "ada@example.com", "--persona", "cfo", "--consent", "form"])
        #expect(unknownPersona.stderr.contains("unknown persona 'cfo'"))
        let none = try p.run(["lead", "show", "ada@example.com"])
        #expect(none.status == 1)
        #expect(none.stderr.contains("no lead ada@example.com"))
    }

    @Test func importReportsBadRowsByLineImportsTheRestAndIsIdempotent() throws {
        let p = try NurtureProcess()
        var csv: [UInt8] = []
        func line(_ s: String) { csv += Array(s.utf8) + [0x0A] }
        line("email,first_name,company,persona,timezone,whitepaper_title")          // 1
        line("ada@example.com,Ada,Analytical,cto,Europe/London,Mesh")                // 2 ok
        line("not-an-email,Bob,,cto,,")                                              // 3 bad address
        line("\"carol@example.com\",\"Carol \"\"CJ\"\"\",\"Smith, Jones & Co\",marketing_manager,,") // 4 ok, quoted
        line("dave@example.com,Dave,X,ceo,,")                                        // 5 unknown persona
        csv += Array("erin@example.com,Erin".utf8) + [0xFF, 0xFE] + Array(",X,cto,,".utf8) + [0x0A] // 6 bad UTF-8
        line("frank@example.com,Frank,X,cto")                                        // 7 column count
        line("\"gina@example.com\r\nRCPT TO:<evil@x.example>\",Gina,X,cto,,")         // 8-9 CR/LF in address
        line("hank@example.com,\"Hank\r\nBcc: x@evil.example\",X,cto,,")              // 10-11 CR/LF in a field
        line("ivy@example.com,Ivy,X,cto,Mars/Base,")                                 // 12 unknown zone
        line("ADA@EXAMPLE.COM,Ada,Analytical,cto,Europe/London,Mesh")                // 13 same lead again
        try p.write("leads.csv", csv)

        let first = try p.run(["lead", "import", "leads.csv", "--consent", "import:salon-2026"])
        #expect(first.status == 1)
        let errors = first.stderr.split(separator: "\n").filter { $0.contains(": error: ") }.map(String.init)
        #expect(errors.map { $0.split(separator: ":")[1] } == ["3", "5", "6", "7", "8", "10", "12"], "\(first.stderr)")
        #expect(errors[0].hasPrefix("leads.csv:3: error: 'not-an-email'"))
        #expect(errors[2].contains("invalid UTF-8 in column 2 ('first_name')"))
        #expect(errors[3].contains("expected 6 columns, found 4"))
        #expect(first.stdout.contains("10 rows") && first.stdout.contains("2 added, 0 updated, 1 unchanged, 0 suppressed, 7 rejected"), "\(first.stdout)")

        let carol = try p.run(["lead", "show", "carol@example.com", "--json"])
        let fields = try #require((try JSONSerialization.jsonObject(with: Data(carol.stdout.utf8)) as? [String: Any])?["fields"] as? [String: String])
        #expect(fields == ["first_name": "Carol \"CJ\"", "company": "Smith, Jones & Co"])

        let second = try p.run(["lead", "import", "leads.csv", "--consent", "import:salon-2026"])
        #expect(second.stdout.contains("0 added, 0 updated, 3 unchanged, 0 suppressed, 7 rejected"), "\(second.stdout)")
    }

    @Test func badHeaderImportsNothing() throws {
        let p = try NurtureProcess()
        try p.write("leads.csv", Array("email,first_name,favourite_colour\nada@example.com,Ada,blue\n".utf8))
        let r = try p.run(["lead", "import", "leads.csv", "--consent", "x", "--persona", "cto"])
        #expect(r.status == 1)
        #expect(r.stderr.contains("leads.csv:1: error: unknown column 'favourite_colour'"))
        #expect(try p.run(["lead", "show", "ada@example.com"]).status == 1)
    }

    @Test func semicolonSeparatedFilesWithBOMImport() throws {
        let p = try NurtureProcess()
        try p.write("leads.csv", [0xEF, 0xBB, 0xBF] + Array("Email;First_Name;Company\r\nzoe@example.fr;Zoé;Café SA\r\n".utf8))
        let r = try p.run(["lead", "import", "leads.csv", "--consent", "x", "--persona", "founder", "--delimiter", ";"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("1 added"))
        #expect(try p.run(["lead", "show", "zoe@example.fr"]).stdout.contains("first_name=Zoé"))
    }
}
