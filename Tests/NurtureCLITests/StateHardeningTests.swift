import Foundation
import NurtureSigning
import Testing

/// State and privacy defects of issue 12, against the real binary, observed through `lead show` and `stats`.
@Suite(.serialized)
struct StateHardeningTests {
    static func emlFiles(_ site: TrackingHTTPTests.Site) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: site.project.path("var/outbox"))) ?? []).filter { $0.hasSuffix(".eml") }
    }

    static func messageID(_ site: TrackingHTTPTests.Site, to email: String) -> String? {
        for name in emlFiles(site) {
            guard let raw = try? String(contentsOfFile: site.project.path("var/outbox/" + name), encoding: .utf8),
                  raw.contains("<\(email)>") else { continue }
            return raw.components(separatedBy: "\r\n").first { $0.hasPrefix("Message-ID: ") }
        }
        return nil
    }

    @Test func anErasedLeadsLinksAndIdsNeverResolveToALaterLead() throws {
        let site = try TrackingHTTPTests.start()
        defer { site.stop() }
        let zoe = try site.mail(to: "zoe@example.fr") // imported last: hers are the highest ids
        let zoeMessageID = try #require(Self.messageID(site, to: "zoe@example.fr"))
        let erased = try site.project.run(["lead", "erase", "zoe@example.fr"])
        #expect(erased.status == 0, "\(erased.stderr)")
        #expect(erased.stdout.contains("1 outbox files removed"), "\(erased.stdout)")
        #expect(Self.emlFiles(site).count == 1) // her copy in the file outbox went with her
        let added = try site.project.run(["lead", "add", "bob@example.com", "--persona", "reader", "--consent", "test", "--field", "first_name=Bob"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(BoundedPoll.until(timeout: 20) { Self.messageID(site, to: "bob@example.com") != nil }, "\(site.serve.stderr())")
        #expect(Self.messageID(site, to: "bob@example.com") != zoeMessageID)
        // Her tokens now name a message that no longer exists: 404, and nothing changes for Bob.
        #expect(try site.http.get("/u/\(zoe.unsubscribe)").status == 404)
        let post = try site.http.request("POST", "/u/\(zoe.unsubscribe)", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                         body: Data("List-Unsubscribe=One-Click".utf8))
        #expect(post.status == 404)
        #expect(try site.http.get("/c/\(zoe.clicks[0])").status == 404)
        _ = try site.http.get("/o/\(zoe.open).gif")
        let totals = try site.project.totals()
        #expect(totals.reasons["unsubscribed"] == nil && totals.leads == 2, "\(totals)") // Ada and Bob; Zoe is gone
        let events = try ["ada@example.com", "bob@example.com"].flatMap { try site.project.lead($0).events }
        #expect(!events.contains { ["open", "click"].contains($0.type) }, "\(events)")
        #expect(try site.project.lead("bob@example.com").score == 0)
    }

    @Test func eventsOutsideTimeAndReservedNamesAreRefused() throws {
        let p = try NurtureProcess()
        let added = try p.run(["lead", "add", "ada@example.com", "--persona", "cto", "--consent", "form", "--field", "first_name=Ada"])
        #expect(added.status == 0, "\(added.stderr)")
        for at in ["1900-01-01T00:00:00Z", "2999-01-01T00:00:00Z"] {
            let r = try p.run(["event", "ada@example.com", "demo_requested", "--at", at])
            #expect(r.status != 0)
            #expect(r.stderr.contains(at.hasPrefix("1900") ? "before the lead was created" : "in the future"), "\(r.stderr)")
        }
        let reserved = try p.run(["event", "ada@example.com", "inactivity"])
        #expect(reserved.status != 0)
        #expect(reserved.stderr.contains("recorded by Nurture itself"), "\(reserved.stderr)")
        #expect(try p.lead("ada@example.com").events.isEmpty) // the one lead: no event stored anywhere
        let ok = try p.run(["event", "ada@example.com", "demo_requested"])
        #expect(ok.status == 0, "\(ok.stderr)")
        // Unchanged rules: a replay of the log agrees with the live score.
        let dry = try p.run(["rescore", "--dry-run"])
        #expect(dry.stdout.contains("0 leads would change"), "\(dry.stdout)")
    }

    @Test func simulateWindowsALeadWithoutAZoneInTheSequencesZone() throws {
        let p = try NurtureProcess()
        try FileManager.default.createDirectory(atPath: p.path("sequences"), withIntermediateDirectories: true)
        try """
            id: ny
            persona: cto
            entry: { require: [email, first_name] }
            window: { days: [mon, tue, wed, thu, fri], hours: "09:00-17:00", timezone: America/New_York }
            steps:
              - { id: welcome, after: 0m, template: cto/whitepaper }
            """.write(toFile: p.path("sequences/ny.yaml"), atomically: true, encoding: .utf8)
        // The sequences the example config's hand-off outcomes and ambassador threshold enroll in must exist too.
        for name in ["customer-onboarding", "ambassador"] {
            try FileManager.default.copyItem(atPath: NurtureProcess.repository + "/sequences/\(name).yaml", toPath: p.path("sequences/\(name).yaml"))
        }
        var config = try String(contentsOfFile: p.path("nurture.yaml"), encoding: .utf8)
        config = config.replacingOccurrences(of: "\nsequences: \(NurtureProcess.repository)/sequences\n", with: "\nsequences: sequences\n")
            .replacingOccurrences(of: "enroll: cto-whitepaper", with: "enroll: ny")
        try config.write(toFile: p.path("nurture.yaml"), atomically: true, encoding: .utf8)
        let r = try p.run(["simulate", "ny", "--lead-json", #"{"first_name":"Ada","company":"A","whitepaper_title":"T"}"#,
                           "--start", "2026-11-23T08:00:00Z", "--json"])
        #expect(r.status == 0, "\(r.stderr)")
        let lines = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]])
        let sent = lines.first { ($0["kind"] as? String) == "sent" }
        #expect(sent?["at"] as? String == "2026-11-23T14:00:00Z", "\(r.stdout)")
    }
}

extension StateHardeningTests {
    @Test func theDaemonsLogNamesLeadsByIDNeverByAddress() throws {
        let port = HTTPProbe.freePort()
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env") // the python3 that has aiosmtpd (scripts/install-deps.sh)
        server.arguments = ["python3", NurtureProcess.repository + "/Tests/Support/smtp_server.py", "capture", "--port", "\(port)",
                            "--rcpt", "gone.person@example.com=550", "--dir", FileManager.default.temporaryDirectory.path + "/smtp-\(port)"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        // SIGKILL and a bounded wait: Foundation's waitUntilExit can spin forever on a child like this one.
        defer { kill(server.processIdentifier, SIGKILL); _ = BoundedPoll.until(timeout: 10) { !server.isRunning } }
        #expect(BoundedPoll.until(timeout: 10) { SystemdTests.accepts(port: port) })
        let p = try MinimalProject.make(leads: 0, transport: "smtp://127.0.0.1:\(port)").project
        let added = try p.run(["lead", "add", "gone.person@example.com", "--persona", "reader", "--consent", "form", "--field", "first_name=Gone"])
        #expect(added.status == 0, "\(added.stderr)")
        let serve = try p.start(["serve"])
        let bounced = BoundedPoll.until(timeout: 30) { (try? p.totals().reasons["bounced"]) == 1 }
        serve.kill(SIGTERM)
        _ = serve.wait()
        #expect(bounced, "\(serve.stderr())")
        let log = serve.stderr()
        #expect(log.contains("hard bounce"), "\(log)")
        #expect(log.contains("lead=1"), "\(log)")
        #expect(!log.contains("gone.person"), "\(log)")
    }
}

extension StateHardeningTests {
    static func run(_ tool: String, _ args: [String]) -> Int32 { (try? Tool.run(tool, args).status) ?? -1 }

    @Test func aFullDiskIsNamedInHealthzAndTheDaemonCatchesUpOnceSpaceIsBackWithoutARestart() throws {
        let disk = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-disk-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: disk, withIntermediateDirectories: true)
        #expect(Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", disk]) == 0, "tests run as root and may mount a tmpfs")
        defer { _ = Self.run("/bin/umount", ["-l", disk]) }
        // Only the database is on the small disk; step two falls due 4 s after step one.
        let made = try MinimalProject.make(leads: 0, secondStep: "4s", database: disk + "/nurture.sqlite")
        let (p, http) = (made.project, made.http)
        #expect(try p.run(["lead", "add", "ada@example.com", "--persona", "reader", "--consent", "form", "--field", "first_name=Ada"]).status == 0)
        let serve = try p.start(["serve"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        func mails() -> Int { ((try? FileManager.default.contentsOfDirectory(atPath: p.path("var/outbox"))) ?? []).filter { $0.hasSuffix(".eml") }.count }
        #expect(BoundedPoll.until(timeout: 20) { mails() == 1 }, "\(serve.stderr())")
        // The disk fills up before step two falls due.
        let fd = open(disk + "/filler", O_WRONLY | O_CREAT, 0o600)
        let chunk = [UInt8](repeating: 0, count: 4096)
        while write(fd, chunk, chunk.count) > 0 {}
        close(fd)
        let reported = BoundedPoll.until(timeout: 20) { (try? http.get("/healthz"))?.text.contains("disk_full") == true }
        #expect(reported, "\(serve.stderr())")
        #expect(try http.get("/healthz").status == 503)
        #expect(mails() == 1)
        try FileManager.default.removeItem(atPath: disk + "/filler")
        #expect(BoundedPoll.until(timeout: 20) { mails() == 2 && (try? http.get("/healthz").status) == 200 }, "\(serve.stderr())")
        let log = serve.stderr()
        #expect(log.components(separatedBy: "scheduler tick failed").count == 2, "logged once: \(log)")
        #expect(log.contains("scheduler recovered"), "\(log)")
        #expect(serve.process.isRunning) // no restart was needed
    }
}
