import Foundation
import NurtureSigning
import Testing

/// Several real `nurture serve` processes on one PostgreSQL database (a fresh one on the test server), delivering
/// to one capturing SMTP server that logs each message it receives (time, Message-ID). The nodes share the
/// project folder, so the same sequences, templates and token.key, as every node of a cluster must.
struct ClusterHarness {
    let project: NurtureProcess
    let database: String
    let smtp: Process
    let smtpLog: String
    let nodes: Int
    /// Each node's HTTP port (its own config file, `nurture-N.yaml`).
    let ports: [Int]

    /// - Parameters:
    ///   - throttle: the config's `throttle:` mapping.
    ///   - steps: each `after:` delay, one step per entry.
    ///   - smtpDelay: seconds the SMTP server waits before answering each message's DATA (transfers long enough to be
    ///     killed in the middle of).
    static func make(nodes: Int, leads: Int, steps: [String], throttle: String, lease: String = "5s", smtpDelay: Double = 0) throws -> ClusterHarness {
        let smtpPort = HTTPProbe.freePort()
        let capture = FileManager.default.temporaryDirectory.path + "/smtp-cluster-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: capture, withIntermediateDirectories: true)
        let log = capture + "/received.log"
        let server = Process()
        server.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        server.arguments = ["python3", NurtureProcess.repository + "/Tests/Support/smtp_server.py", "capture", "--port", "\(smtpPort)",
                            "--dir", capture, "--log", log, "--data-delay", "\(smtpDelay)"]
        server.standardOutput = FileHandle.nullDevice
        server.standardError = FileHandle.nullDevice
        try server.run()
        var made = false
        defer { if !made { kill(server.processIdentifier, SIGKILL) } } // a failed set-up leaves no server behind
        guard BoundedPoll.until(timeout: 10, { SystemdTests.accepts(port: smtpPort) }) else { throw Failure("the SMTP server did not start") }

        let database = try PostgresServeTests.freshDatabase()
        let p = try NurtureProcess()
        let fm = FileManager.default
        for dir in ["sequences", "templates", "var"] { try fm.createDirectory(atPath: p.path(dir), withIntermediateDirectories: true) }
        let ports = (0..<nodes).map { _ in HTTPProbe.freePort() }
        let password = try #require(PostgresServeTests.passwordFile)
        for (i, port) in ports.enumerated() {
            try """
                database: \(database)
                postgresql: { pool_size: 4, lease: \(lease) }
                sequences: sequences
                templates: templates
                timezone: UTC
                locale: en
                fields: [first_name]
                http: { listen: 127.0.0.1:\(port), public_url: http://127.0.0.1:\(port) }
                transport: smtp://127.0.0.1:\(smtpPort)
                smtp: { starttls: off, connections: 2 }
                sender: { name: Cluster Test, email: test@example.com, postal_address: 1 Test Street }
                throttle: \(throttle)
                secrets: { token_key_file: var/token.key, database_password_file: \(password) }
                """.write(toFile: p.path("nurture-\(i).yaml"), atomically: true, encoding: .utf8)
        }
        try? fm.removeItem(atPath: p.path("nurture.yaml")) // NurtureProcess's example config: the administration commands use node 0's
        try fm.copyItem(atPath: p.path("nurture-0.yaml"), toPath: p.path("nurture.yaml"))
        try """
            id: cluster
            persona: reader
            steps:
            \(steps.enumerated().map { "  - { id: s\($0.offset + 1), after: \($0.element), template: step }" }.joined(separator: "\n"))
            """.write(toFile: p.path("sequences/cluster.yaml"), atomically: true, encoding: .utf8)
        try "<html><body>{{{content}}}<a href=\"{{unsubscribe_url}}\">Unsubscribe</a> {{postal_address}}</body></html>\n"
            .write(toFile: p.path("templates/_layout.html"), atomically: true, encoding: .utf8)
        try "{{{content}}}\n{{unsubscribe_url}}\n{{postal_address}}\n".write(toFile: p.path("templates/_layout.txt"), atomically: true, encoding: .utf8)
        try "---\nsubject: Hello {{first_name}}\n---\nHello {{first_name}}.\n".write(toFile: p.path("templates/step.md"), atomically: true, encoding: .utf8)
        try TokenSigner.generateKeyFile(at: p.path("var/token.key"))
        let harness = ClusterHarness(project: p, database: database, smtp: server, smtpLog: log, nodes: nodes, ports: ports)
        if leads > 0 { try harness.importLeads(leads) }
        made = true
        return harness
    }

    func importLeads(_ count: Int, from first: Int = 0) throws {
        let rows = (first..<first + count).map { "lead\($0)@example.com,Lead \($0)" }.joined(separator: "\n")
        try project.write("leads-\(first).csv", Array("email,first_name\n\(rows)\n".utf8))
        let imported = try project.run(["lead", "import", "leads-\(first).csv", "--consent", "test", "--persona", "reader"])
        guard imported.status == 0 else { throw Failure("lead import: \(imported.stderr)") }
    }

    func start(node i: Int) throws -> RunningNurture { try project.start(["serve", "--config", project.path("nurture-\(i).yaml")]) }

    /// `psql -At` on the cluster's database: rows of `|`-separated columns.
    func query(_ sql: String) throws -> [[String]] {
        let text = try TestPostgres.psql(database, sql)
        return text.isEmpty ? [] : text.split(separator: "\n").map { $0.split(separator: "|", omittingEmptySubsequences: false).map(String.init) }
    }

    /// Outbox rows by status.
    func statusCounts() -> [String: Int] {
        var counts: [String: Int] = [:]
        for row in (try? query("SELECT status, count(*) FROM outbox GROUP BY status")) ?? [] where row.count == 2 { counts[row[0]] = Int(row[1]) }
        return counts
    }

    /// True once `expected` sends are `sent` and nothing waits or is in flight.
    func finished(expected: Int) -> Bool {
        let c = statusCounts()
        return c["sent"] == expected && (c["scheduled"] ?? 0) + (c["deferred"] ?? 0) + (c["sending"] ?? 0) == 0
    }

    /// What the SMTP server received: (Unix time, Message-ID), in arrival order.
    func received() -> [(at: Double, messageID: String)] {
        let text = (try? String(contentsOfFile: smtpLog, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let at = Double(parts[0]) else { return nil }
            return (at, String(parts[1]))
        }
    }

    func stop() {
        kill(smtp.processIdentifier, SIGKILL)
        _ = BoundedPoll.until(timeout: 10) { !smtp.isRunning }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}
