import Foundation
import NurtureSigning

/// A small project for hardening tests: one two-step sequence (step two 30 days later), a file outbox by default,
/// and `count` leads imported; each test overrides the config lines it is about.
enum MinimalProject {
    struct Made {
        let project: NurtureProcess
        let port: Int
        let http: HTTPProbe
    }

    static func make(leads count: Int, transport: String = "file://var/outbox", rate: String = "500/s", secondStep: String = "30d",
                     extra: String = "", database: String = "var/nurture.sqlite", secrets: String = "") throws -> Made {
        let p = try NurtureProcess()
        let port = HTTPProbe.freePort()
        let fm = FileManager.default
        for dir in ["sequences", "templates", "var"] { try fm.createDirectory(atPath: p.path(dir), withIntermediateDirectories: true) }
        try """
            database: \(database)
            sequences: sequences
            templates: templates
            timezone: UTC
            locale: en
            fields: [first_name]
            http:
              listen: 127.0.0.1:\(port)
              public_url: http://127.0.0.1:\(port)
            transport: \(transport)
            smtp: { starttls: off, connections: 1 }
            sender: { name: Hardening Test, email: test@example.com, postal_address: 1 Test Street }
            throttle: { min_gap: 1s, max: 100 per 1d, rate: \(rate), domain_rate: 500/s, sunset_after: 100, stale_after: 30d }
            secrets: { token_key_file: var/token.key\(secrets) }
            \(extra)
            """.write(toFile: p.path("nurture.yaml"), atomically: true, encoding: .utf8)
        try """
            id: guide
            persona: reader
            steps:
              - { id: one, after: 0m, template: step }
              - { id: two, after: \(secondStep), template: step }
            """.write(toFile: p.path("sequences/guide.yaml"), atomically: true, encoding: .utf8)
        try "<html><body>{{{content}}}<a href=\"{{unsubscribe_url}}\">Unsubscribe</a> {{postal_address}}</body></html>\n"
            .write(toFile: p.path("templates/_layout.html"), atomically: true, encoding: .utf8)
        try "{{{content}}}\n{{unsubscribe_url}}\n{{postal_address}}\n".write(toFile: p.path("templates/_layout.txt"), atomically: true, encoding: .utf8)
        try "---\nsubject: Hello {{first_name}}\n---\nHello {{first_name}}, read [the guide](https://example.com/guide).\n"
            .write(toFile: p.path("templates/step.md"), atomically: true, encoding: .utf8)
        try TokenSigner.generateKeyFile(at: p.path("var/token.key"))
        if count > 0 {
            let rows = (0..<count).map { "lead\($0)@example.com,Lead \($0)" }.joined(separator: "\n")
            try p.write("leads.csv", Array("email,first_name\n\(rows)\n".utf8))
            let imported = try p.run(["lead", "import", "leads.csv", "--consent", "test", "--persona", "reader"])
            guard imported.status == 0 else { throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: imported.stderr]) }
        }
        return Made(project: p, port: port, http: HTTPProbe(port: port))
    }

    /// The one-click unsubscribe token in the mail (quoted-printable undone: tokens are base64url).
    static func unsubscribeToken(_ p: NurtureProcess, file: String) throws -> String {
        let raw = try String(contentsOfFile: p.path("var/outbox/" + file), encoding: .utf8)
        let text = raw.replacingOccurrences(of: "=\r\n", with: "").replacingOccurrences(of: "=3D", with: "=")
        guard let after = text.components(separatedBy: "/u/").dropFirst().first else { throw CocoaError(.fileReadCorruptFile) }
        return String(after.prefix(TokenSigner.tokenLength))
    }

    /// `.eml` files in the file outbox.
    /// The outbox's messages; a `.tmp-` file is one the file transport is still writing (renamed when complete).
    static func outbox(_ p: NurtureProcess) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: p.path("var/outbox"))) ?? []).filter { $0.hasSuffix(".eml") && !$0.hasPrefix(".tmp-") }.sorted()
    }

    /// CPU seconds (user + system) a process has used, from /proc/PID/stat.
    static func cpuSeconds(pid: Int32) -> Double? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        // Fields after the command name: state is field 3, utime 14, stime 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
