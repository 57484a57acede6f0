import Foundation

/// The user-visible surfaces the CLI and HTTP tests assert through (`lead show`, `stats`, the database file's
/// bytes), so the same tests hold for any store behind `database:`.
extension NurtureProcess {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// `nurture lead show EMAIL --json`, decoded; nil when there is no such lead.
    func leadShow(_ email: String) throws -> LeadView? {
        let r = try run(["lead", "show", email, "--json"])
        if r.status == 1 && r.stderr.contains("no lead ") { return nil }
        guard r.status == 0 else { throw Failure(description: "lead show \(email): \(r.status) \(r.stderr)") }
        return try LeadView.decode(r.stdout)
    }

    /// `leadShow` for a lead that must exist.
    func lead(_ email: String) throws -> LeadView {
        guard let lead = try leadShow(email) else { throw Failure(description: "no lead \(email)") }
        return lead
    }

    /// The last line of `nurture stats`: leads stored and suppressed addresses per reason.
    struct Totals: Equatable {
        var leads: Int
        var suppressed: Int
        var reasons: [String: Int]
    }

    func totals() throws -> Totals {
        let r = try run(["stats"])
        guard r.status == 0, let line = r.stdout.split(separator: "\n").last(where: { $0.hasPrefix("leads: ") }) else {
            throw Failure(description: "stats: \(r.status) \(r.stdout) \(r.stderr)")
        }
        // leads: 2 stored; suppression list: 3 addresses (1 bounced, 2 unsubscribed)
        let words = line.split(whereSeparator: { " ;:(),".contains($0) })
        guard words.count >= 7, let leads = Int(words[1]), let suppressed = Int(words[5]) else { throw Failure(description: "stats: \(line)") }
        var reasons: [String: Int] = [:]
        var i = 7
        while i + 1 < words.count, let n = Int(words[i]) { reasons[String(words[i + 1])] = n; i += 2 }
        return Totals(leads: leads, suppressed: suppressed, reasons: reasons)
    }

    /// `nurture stats --json`'s count of messages sent for one step.
    func sent(sequence: String, step: String) throws -> Int? {
        let r = try run(["stats", "--json"])
        let all = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [[String: Any]] ?? []
        let steps = all.first { $0["sequence"] as? String == sequence }?["steps"] as? [[String: Any]] ?? []
        return steps.first { $0["step"] as? String == step }?["sent"] as? Int
    }

    /// Whether `text` is anywhere in the database's files (main file and write-ahead log), byte for byte.
    func databaseFilesContain(_ text: String) -> Bool {
        ["var/nurture.sqlite", "var/nurture.sqlite-wal"].contains { name in
            (try? Data(contentsOf: URL(fileURLWithPath: path(name))))?.range(of: Data(text.utf8)) != nil
        }
    }
}
