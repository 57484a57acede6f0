import Foundation
import Testing

/// `nurture serve` on `database: postgresql://…`, end to end: leads imported through the PostgreSQL store, a
/// two-step sequence delivered to a capturing SMTP server, then `lead show` and `stats` read it back.
@Suite(.enabled(if: TestPostgres.url != nil,
                "NURTURE_TEST_POSTGRES_URL is unset: PostgreSQL end-to-end test skipped (scripts/pg-test-server.sh start)"))
struct PostgresServeTests {
    static var url: String? { TestPostgres.url }
    static var passwordFile: String? { TestPostgres.passwordFile }

    /// A new database on the test server (psql, as an operator would), and its URL.
    static func freshDatabase() throws -> String {
        let base = try #require(url.flatMap(URLComponents.init(string:)))
        let name = "nurture_e2e_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        _ = try TestPostgres.psql(try #require(url), "CREATE DATABASE \(name)")
        var made = base
        made.path = "/" + name
        return try #require(made.string)
    }

    @Test func serveOnPostgreSQLDeliversASequenceAndLeadShowAndStatsReadIt() throws {
        let smtpPort = HTTPProbe.freePort()
        let capture = FileManager.default.temporaryDirectory.path + "/smtp-pg-\(smtpPort)"
        try FileManager.default.createDirectory(atPath: capture, withIntermediateDirectories: true)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env") // the python3 that has aiosmtpd (scripts/install-deps.sh)
        server.arguments = ["python3", NurtureProcess.repository + "/Tests/Support/smtp_server.py", "capture", "--port", "\(smtpPort)",
                            "--dir", capture]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL); _ = BoundedPoll.until(timeout: 10) { !server.isRunning } }
        #expect(BoundedPoll.until(timeout: 10) { SystemdTests.accepts(port: smtpPort) })

        let database = try Self.freshDatabase()
        let p = try MinimalProject.make(leads: 3, transport: "smtp://127.0.0.1:\(smtpPort)", secondStep: "0m", database: database,
                                        secrets: ", database_password_file: \(try #require(Self.passwordFile))").project
        let serve = try p.start(["serve"])
        func received() -> [String] {
            ((try? FileManager.default.contentsOfDirectory(atPath: capture)) ?? []).filter { $0.hasSuffix(".eml") }
        }
        let delivered = BoundedPoll.until(timeout: 60) { received().count >= 6 }
        #expect(delivered, "\(received().count) of 6 received; \(serve.stderr())")
        // Both steps of the three leads, each once (its own Message-ID).
        let messageIDs = try received().map { file in
            let text = try String(contentsOfFile: capture + "/" + file, encoding: .utf8)
            return text.split(separator: "\r\n").first { $0.lowercased().hasPrefix("message-id:") }.map(String.init) ?? ""
        }
        #expect(messageIDs.count == 6 && Set(messageIDs).count == 6, "\(messageIDs)")

        let show = try p.run(["lead", "show", "lead0@example.com", "--json"])
        #expect(show.status == 0, "\(show.stderr)")
        let lead = try LeadView.decode(show.stdout)
        #expect(lead.sends.map(\.status) == ["sent", "sent"] && lead.sends.allSatisfy { !$0.possiblySent }, "\(show.stdout)")
        #expect(lead.enrollments.map(\.state) == ["completed"], "\(show.stdout)")

        let stats = try p.run(["stats"])
        #expect(stats.status == 0, "\(stats.stderr)")
        #expect(stats.stdout.contains("guide"), "\(stats.stdout)")
        #expect(stats.stdout.hasSuffix("leads: 3 stored; suppression list: 0 addresses\n"), "\(stats.stdout)")

        serve.kill(SIGTERM)
        #expect(serve.wait() == 0, "\(serve.stderr())")
        // The log names the database without its password.
        let password = try String(contentsOfFile: try #require(Self.passwordFile), encoding: .utf8).trimmingCharacters(in: .newlines)
        #expect(serve.stderr().contains("database postgresql://"))
        #expect(!serve.stderr().contains(password))
    }
}

/// The test server `scripts/pg-test-server.sh start` exported, if any.
enum TestPostgres {
    static let environment = ProcessInfo.processInfo.environment
    static var url: String? { environment["NURTURE_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 } }
    static var passwordFile: String? { environment["NURTURE_TEST_POSTGRES_PASSWORD_FILE"] }

    /// One statement through psql on `url`'s database, as an operator would run it, with the test server's password:
    /// its unaligned output (columns split by `|`); psql's error when it fails.
    static func psql(_ url: String, _ sql: String) throws -> String {
        let base = try #require(URLComponents(string: url))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        p.arguments = ["-qAtX", "-h", base.host ?? "127.0.0.1", "-p", "\(base.port ?? 5432)", "-U", base.user ?? "nurture",
                       "-d", String(base.path.dropFirst()), "-c", sql]
        var env = environment
        env["PGPASSWORD"] = try passwordFile.map { try String(contentsOfFile: $0, encoding: .utf8).trimmingCharacters(in: .newlines) }
        p.environment = env
        let (out, err) = (Pipe(), Pipe())
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let problem = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw PSQLFailed(description: "psql failed (\(sql)): \(problem)") }
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    struct PSQLFailed: Error, CustomStringConvertible { var description: String }
}
