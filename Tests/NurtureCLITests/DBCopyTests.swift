import Foundation
import NurtureSigning
import Testing

/// `nurture db copy --to postgresql://…` on real processes: a SQLite installation filled through the real paths
/// (import, delivery over SMTP, opens, clicks, a one-click unsubscribe, an erasure, a hand-off), copied into a
/// fresh database of the test server, then `nurture serve` on PostgreSQL keeps answering the old mail.
@Suite(.serialized, .enabled(if: TestPostgres.url != nil,
                             "NURTURE_TEST_POSTGRES_URL is unset: db copy tests skipped (scripts/pg-test-server.sh start)"))
struct DBCopyTests {
    static let tables = ["meta", "lead", "enrollment", "outbox", "event", "score_ledger", "suppression", "handoff", "pending_enrollment"]

    /// A capturing SMTP server (aiosmtpd) saving each message in `dir`.
    struct Capture {
        let process: Process
        let port: Int
        let dir: String

        static func start() throws -> Capture {
            let port = HTTPProbe.freePort()
            let dir = FileManager.default.temporaryDirectory.path + "/smtp-copy-\(port)-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let server = Process()
            server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            server.arguments = ["python3", NurtureProcess.repository + "/Tests/Support/smtp_server.py", "capture", "--port", "\(port)", "--dir", dir]
            server.standardOutput = FileHandle.nullDevice
            server.standardError = FileHandle.nullDevice
            try server.run()
            #expect(BoundedPoll.until(timeout: 10) { SystemdTests.accepts(port: port) })
            return Capture(process: server, port: port, dir: dir)
        }

        func stop() {
            kill(process.processIdentifier, SIGKILL)
            _ = BoundedPoll.until(timeout: 10) { !process.isRunning }
        }

        /// Every saved message, raw, in arrival order.
        func messages() -> [String] {
            (((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()).compactMap {
                try? String(contentsOfFile: dir + "/" + $0, encoding: .utf8)
            }
        }

        /// The nurture mail sent to `email` (not the sales notification about it).
        func mails(to email: String) -> [Mail] {
            messages().filter { $0.contains("\r\nTo: ") && $0.contains("<\(email)>") && !$0.contains("Subject: Sales-ready lead") }.map(Mail.init)
        }
    }

    /// One delivered message's Message-ID and tracking tokens.
    struct Mail {
        let messageID: String
        let open: String
        let clicks: [String]
        let unsubscribe: String

        init(_ raw: String) {
            let head = raw.components(separatedBy: "\r\n\r\n").first ?? raw
            messageID = head.split(separator: "\r\n").first { $0.lowercased().hasPrefix("message-id:") }
                .map { String($0.dropFirst("Message-ID:".count)).trimmingCharacters(in: .whitespaces) } ?? ""
            // Quoted-printable: soft breaks dropped and "=3D" decoded (tokens are base64url).
            let text = raw.replacingOccurrences(of: "=\r\n", with: "").replacingOccurrences(of: "=3D", with: "=")
            func tokens(_ prefix: String) -> [String] {
                text.components(separatedBy: prefix).dropFirst().map { String($0.prefix(TokenSigner.tokenLength)) }
            }
            open = tokens("/o/").first ?? ""
            var clicks: [String] = []
            for t in tokens("/c/") where !clicks.contains(t) { clicks.append(t) }
            self.clicks = clicks
            unsubscribe = tokens("/u/").first ?? ""
        }
    }


    /// Rows per table in the SQLite file and in the PostgreSQL database, counted by each side's own shell.
    static func counts(_ p: NurtureProcess, sqlite: Bool, url: String) throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in tables {
            // PostgreSQL's meta also holds the check of the erasure key the database recorded for itself.
            let sql = "SELECT count(*) FROM \(table)" + (table == "meta" && !sqlite ? " WHERE key <> 'erasure_key_check'" : "")
            counts[table] = Int(sqlite ? try p.sql(sql) : try TestPostgres.psql(url, sql)) ?? -1
        }
        return counts
    }

    /// The copy's printed table: name → (source, copied, next id).
    static func printed(_ stdout: String) -> [String: (source: Int, copied: Int, next: String)] {
        var rows: [String: (Int, Int, String)] = [:]
        for line in stdout.split(separator: "\n") {
            let w = line.split(separator: " ")
            if w.count == 4, let s = Int(w[1]), let c = Int(w[2]) { rows[String(w[0])] = (s, c, String(w[3])) }
        }
        return rows
    }

    static let extra = """
        scoring:
          points: { open: 1, click: 5, demo_requested: 30 }
          thresholds: [ { at: 30, stage: sql, handoff: true, enroll: followup } ]
        handoff: { email: sales@example.com }
        """

    @Test func aCopiedInstallationKeepsEveryRowAndItsOldLinksAndMessageIDsWorkOnPostgreSQL() throws {
        let smtp = try Capture.start()
        defer { smtp.stop() }
        let made = try MinimalProject.make(leads: 0, transport: "smtp://127.0.0.1:\(smtp.port)", extra: Self.extra)
        let p = made.project
        // A sequence only a threshold enrolls into (no lead has its persona).
        try "id: followup\npersona: nobody\nsteps:\n  - { id: nudge, after: 0m, template: step }\n"
            .write(toFile: p.path("sequences/followup.yaml"), atomically: true, encoding: .utf8)
        try p.write("leads.csv", Array("email,first_name\nlead0@example.com,Ada\nlead1@example.com,Bob\nlead2@example.com,Cy\n".utf8))
        let imported = try p.run(["lead", "import", "leads.csv", "--consent", "test", "--persona", "reader"])
        #expect(imported.status == 0, "\(imported.stderr)")

        // SQLite: step one delivered to the three leads, then an open and a click by lead0 and lead1's one-click unsubscribe.
        let serve = try p.start(["serve"])
        #expect(BoundedPoll.until(timeout: 60) { smtp.messages().count == 3 && (try? made.http.get("/healthz").status) == 200 },
                "\(smtp.messages().count) of 3; \(serve.stderr())")
        let ada = try #require(smtp.mails(to: "lead0@example.com").first), bob = try #require(smtp.mails(to: "lead1@example.com").first)
        let cy = try #require(smtp.mails(to: "lead2@example.com").first)
        #expect(try made.http.get("/o/\(ada.open).gif").status == 200)
        #expect(try made.http.get("/c/\(ada.clicks[0])").status == 302)
        let unsubscribed = try made.http.request("POST", "/u/\(bob.unsubscribe)", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                                 body: Data("List-Unsubscribe=One-Click".utf8))
        #expect(unsubscribed.status == 200)
        serve.kill(SIGTERM)
        #expect(serve.wait() == 0, "\(serve.stderr())")
        // Administration without the daemon: lead2 erased (its ids are gone, never to be reused), and lead0 crosses the
        // hand-off threshold, leaving a hand-off to deliver and an enrollment to make.
        #expect(try p.run(["lead", "erase", "lead2@example.com"]).status == 0)
        let event = try p.run(["event", "lead0@example.com", "demo_requested"])
        #expect(event.status == 0, "\(event.stderr)")

        let url = try PostgresServeTests.freshDatabase()
        let password = try #require(TestPostgres.passwordFile)
        let copy = try p.run(["db", "copy", "--to", url, "--password-file", password])
        #expect(copy.status == 0, "\(copy.stderr)")
        let table = Self.printed(copy.stdout)
        let sqlite = try Self.counts(p, sqlite: true, url: url), postgres = try Self.counts(p, sqlite: false, url: url)
        #expect(sqlite == postgres, "\(sqlite) \(postgres)")
        for name in Self.tables {
            #expect(table[name]?.source == sqlite[name] && table[name]?.copied == sqlite[name], "\(name): \(copy.stdout)")
            // Every table is exercised: none copied empty.
            #expect((sqlite[name] ?? 0) > 0, "\(name) is empty in the source")
        }
        // Ids as they were, and identities continue past the erased lead's (the highest ever given out).
        #expect(try TestPostgres.psql(url, "SELECT string_agg(id::text, ',' ORDER BY id) FROM lead") == "1,2")
        var highest: [String: Int] = [:]
        for name in ["lead", "enrollment", "outbox", "event", "score_ledger", "handoff"] {
            highest[name] = Int(try p.sql("SELECT seq FROM sqlite_sequence WHERE name = '\(name)'")) ?? -1
            #expect(table[name]?.next == "\(highest[name, default: -1] + 1)", "\(name): \(copy.stdout)")
        }
        #expect(table["lead"]?.next == "4", "\(copy.stdout)")
        let instance = try p.sql("SELECT value FROM meta WHERE key = 'instance'")
        #expect(try TestPostgres.psql(url, "SELECT value FROM meta WHERE key = 'instance'") == instance)
        #expect(ada.messageID.contains(".\(instance)@"), "\(ada.messageID)")
        #expect(try TestPostgres.psql(url, "SELECT message_id FROM outbox WHERE id = 1") == ada.messageID)
        // SQLite booleans and JSON arrive as PostgreSQL's own types.
        #expect(try TestPostgres.psql(url, "SELECT count(*) FROM lead WHERE needs_enrollment IS NOT NULL AND fields ? 'first_name'") == "2")

        // The same installation on PostgreSQL: same token key, same erasure key, same HTTP address.
        var config = try String(contentsOfFile: p.path("nurture.yaml"), encoding: .utf8)
        config = config.replacingOccurrences(of: "database: var/nurture.sqlite", with: "database: \(url)")
            .replacingOccurrences(of: "secrets: { token_key_file: var/token.key", with:
                "secrets: { token_key_file: var/token.key, erasure_key_file: var/erasure.key, database_password_file: \(password)")
        try config.write(toFile: p.path("nurture-pg.yaml"), atomically: true, encoding: .utf8)
        let pg = ["--config", p.path("nurture-pg.yaml")]
        let before = try p.run(["lead", "show", "lead0@example.com", "--json"] + pg)
        let eventsBefore = try LeadView.decode(before.stdout).events.count
        let onPostgres = try p.start(["serve"] + pg)
        defer { onPostgres.kill(SIGTERM); _ = onPostgres.wait() }
        #expect(BoundedPoll.until(timeout: 30) { (try? made.http.get("/healthz").status) == 200 }, "\(onPostgres.stderr())")

        // The pending hand-off is delivered, and the requested enrollment made (with an id past the copied ones).
        #expect(BoundedPoll.until(timeout: 30) { smtp.messages().contains { $0.contains("Subject: Sales-ready lead") } }, "\(onPostgres.stderr())")
        // Old links: the pixel and the click are recorded on PostgreSQL, the click goes to the stored link.
        #expect(try made.http.get("/o/\(ada.open).gif").status == 200)
        let click = try made.http.get("/c/\(ada.clicks[0])")
        #expect(click.status == 302 && click.header("Location") == "https://example.com/guide", "\(click.status) \(click.headers)")
        let after = try LeadView.decode(try p.run(["lead", "show", "lead0@example.com", "--json"] + pg).stdout)
        #expect(after.events.count >= eventsBefore + 2, "\(after.events)")
        // The erased lead's links still resolve to nothing.
        #expect(try made.http.get("/c/\(cy.clicks[0])").status == 404)
        // lead0's old unsubscribe link: the confirmation page, then the one-click POST takes effect on PostgreSQL.
        #expect(try made.http.get("/u/\(ada.unsubscribe)").status == 200)
        let leave = try made.http.request("POST", "/u/\(ada.unsubscribe)", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                          body: Data("List-Unsubscribe=One-Click".utf8))
        #expect(leave.status == 200)
        #expect(try LeadView.decode(try p.run(["lead", "show", "lead0@example.com", "--json"] + pg).stdout).suppressed == "unsubscribed")

        // The erased address stays away on PostgreSQL: its keyed hash came along, under the same erasure key.
        let erased = try p.run(["lead", "add", "lead2@example.com", "--persona", "reader", "--consent", "test"] + pg)
        #expect(erased.status == 1 && erased.stderr.contains("is on the suppression list"), "\(erased.stderr)")
        #expect(try TestPostgres.psql(url, "SELECT count(*) FROM suppression WHERE reason = 'erased' AND email_key LIKE 'erased:%'") == "1")
        // A new lead: ids above every copied (and erased) one, so its Message-ID and tokens are new.
        let added = try p.run(["lead", "add", "dee@example.com", "--persona", "reader", "--consent", "test", "--field", "first_name=Dee"] + pg)
        #expect(added.status == 0, "\(added.stderr)")
        #expect(BoundedPoll.until(timeout: 30) { !smtp.mails(to: "dee@example.com").isEmpty }, "\(onPostgres.stderr())")
        let dee = try #require(smtp.mails(to: "dee@example.com").first)
        #expect(try TestPostgres.psql(url, "SELECT id FROM lead WHERE email_key = 'dee@example.com'") == "4")
        let signer = try TokenSigner.load(file: p.path("var/token.key"))
        let deeOutbox = try #require(signer.verify(dee.unsubscribe, purpose: .unsubscribe)).outboxID
        #expect(deeOutbox > Int64(highest["outbox", default: .max]), "\(deeOutbox) \(highest)")
        let oldIDs = Set([ada, bob, cy].map(\.messageID))
        #expect(!oldIDs.contains(dee.messageID) && dee.messageID.contains(".\(instance)@"), "\(dee.messageID) \(oldIDs)")
        let enrollment = Int(dee.messageID.dropFirst().prefix { $0 != "." }) ?? 0
        #expect(enrollment > highest["enrollment", default: .max], "\(dee.messageID) \(highest)")
        onPostgres.kill(SIGTERM)
        #expect(onPostgres.wait() == 0, "\(onPostgres.stderr())")
    }

    @Test func anUnsubscribeStillInTheJournalIsAppliedBeforeTheCopyAndArrives() throws {
        let (made, serve, token) = try UnsubscribeJournalTests.started()
        let p = made.project
        // Answered while another process held SQLite's writer, then the daemon died: only the journal has it.
        let holder = try UnsubscribeJournalTests.WriterHolder(database: p.path("var/nurture.sqlite"))
        let reply = try made.http.request("POST", "/u/\(token)", headers: UnsubscribeJournalTests.oneClick, body: Data("List-Unsubscribe=One-Click".utf8))
        #expect(reply.status == 200)
        serve.kill(SIGKILL)
        _ = serve.wait()
        holder.release()
        #expect(try p.totals().suppressed == 0)
        let url = try PostgresServeTests.freshDatabase()
        let copy = try p.run(["db", "copy", "--to", url, "--password-file", try #require(TestPostgres.passwordFile)])
        #expect(copy.status == 0, "\(copy.stderr)")
        #expect(copy.stderr.contains("applied 1 journaled unsubscribe to"), "\(copy.stderr)")
        #expect(try TestPostgres.psql(url, "SELECT reason FROM suppression") == "unsubscribed")
        #expect(try TestPostgres.psql(url, "SELECT count(*) FROM event WHERE type = 'unsubscribe'") == "1")
    }

    @Test func aCopyIntoADatabaseWhereServeRunsIsRefused() throws {
        let p = try MinimalProject.make(leads: 1).project
        let url = try PostgresServeTests.freshDatabase()
        let password = try #require(TestPostgres.passwordFile)
        // The daemon already given the installation's keys, started a little early on the new database.
        let onTarget = try MinimalProject.make(leads: 0, database: url,
                                               secrets: ", database_password_file: \(password), erasure_key_file: \(p.path("var/erasure.key"))")
        let serve = try onTarget.project.start(["serve"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 30) { (try? onTarget.http.get("/healthz").status) == 200 }, "\(serve.stderr())")
        let copy = try p.run(["db", "copy", "--to", url, "--password-file", password])
        #expect(copy.status == 1)
        #expect(copy.stderr.contains("a nurture serve is running on postgresql://"), "\(copy.stderr)")
        #expect(try TestPostgres.psql(url, "SELECT count(*) FROM lead") == "0")
    }

    @Test func aDatabaseAnotherInstallationOpenedIsRefusedByItsErasureKey() throws {
        let url = try PostgresServeTests.freshDatabase()
        let password = try #require(TestPostgres.passwordFile)
        let other = try MinimalProject.make(leads: 0, database: url, secrets: ", database_password_file: \(password)").project
        #expect(try other.run(["stats"]).status == 0) // opened (migrated, keyed) by the other installation
        let p = try MinimalProject.make(leads: 1).project
        let copy = try p.run(["db", "copy", "--to", url, "--password-file", password])
        #expect(copy.status == 1)
        #expect(copy.stderr.contains("was already opened with another erasure key than"), "\(copy.stderr)")
        #expect(copy.stderr.contains("nothing was copied"), "\(copy.stderr)")
    }

    @Test func aTargetThatAlreadyHoldsDataIsRefusedAndLeftAsItWas() throws {
        let p = try MinimalProject.make(leads: 2).project
        let url = try PostgresServeTests.freshDatabase()
        let password = try #require(TestPostgres.passwordFile)
        #expect(try p.run(["db", "copy", "--to", url, "--password-file", password]).status == 0)
        try p.write("more.csv", Array("email,first_name\nnew@example.com,New\n".utf8))
        #expect(try p.run(["lead", "import", "more.csv", "--consent", "test", "--persona", "reader"]).status == 0)
        let again = try p.run(["db", "copy", "--to", url, "--password-file", password])
        #expect(again.status == 1)
        #expect(again.stderr.contains("is not empty (rows in lead, enrollment") || again.stderr.contains("is not empty (rows in lead"), "\(again.stderr)")
        #expect(again.stderr.contains("nothing was copied"), "\(again.stderr)")
        #expect(try TestPostgres.psql(url, "SELECT count(*) FROM lead") == "2")
    }

    @Test func aCopyWhileServeRunsOnTheSQLiteFileIsRefusedAndTouchesNoTarget() throws {
        let made = try MinimalProject.make(leads: 1)
        let p = made.project
        let serve = try p.start(["serve"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 30) { (try? made.http.get("/healthz").status) == 200 }, "\(serve.stderr())")
        let url = try PostgresServeTests.freshDatabase()
        let copy = try p.run(["db", "copy", "--to", url, "--password-file", try #require(TestPostgres.passwordFile)])
        #expect(copy.status == 1)
        #expect(copy.stderr.contains("nurture serve (pid \(serve.pid)) is running on"), "\(copy.stderr)")
        #expect(copy.stderr.contains("stop it before copying"), "\(copy.stderr)")
        // Refused before connecting: the target has not even been migrated.
        #expect(try TestPostgres.psql(url, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'") == "0")
    }
}

/// The refusals that need no PostgreSQL server.
struct DBCopyArgumentTests {
    @Test func anUnreachableServerIsNamedWithoutItsPasswordAndNothingChanges() throws {
        let p = try MinimalProject.make(leads: 1).project
        let secret = "s3cret-\(UUID().uuidString)"
        try (secret + "\n").write(toFile: p.path("var/db_password"), atomically: true, encoding: .utf8)
        let port = HTTPProbe.freePort()
        let copy = try p.run(["db", "copy", "--to", "postgresql://nurture@127.0.0.1:\(port)/nurture?sslmode=disable", "--password-file", "var/db_password"])
        #expect(copy.status == 1)
        #expect(copy.stderr.contains("cannot open database postgresql://nurture@127.0.0.1:\(port)/nurture"), "\(copy.stderr)")
        #expect(!copy.stderr.contains(secret) && !copy.stdout.contains(secret))
        // The SQLite installation is untouched and usable.
        #expect(try p.totals().leads == 1)
    }

    @Test func aPasswordInTheURLIsRefusedBeforeAnythingIsOpened() throws {
        let p = try MinimalProject.make(leads: 0).project
        let copy = try p.run(["db", "copy", "--to", "postgresql://nurture:hunter2@127.0.0.1:5432/nurture"])
        #expect(copy.status != 0)
        #expect(copy.stderr.contains("must not carry a password"), "\(copy.stderr)")
        #expect(!copy.stderr.contains("hunter2"), "\(copy.stderr)")
    }
}
