import Foundation
import Yams
import NurtureCore

/// Reads `scoring.fit`: grades and rules on lead fields or the address's domain, every mistake located.
///
/// ```yaml
/// fit:
///   grades: { A: 40, B: 20, C: 5 }   # default; a fit under every bound gets `below` (default D)
///   below: D
///   rules:
///     - { field: job_title, pattern: '\bcto\b', points: 20 }
///     - { field: company_size, range: 50..5000, points: 10 }
///     - { email_domain: { list: lists/disposable-domains.txt }, points: -30, label: disposable address }
/// ```
enum FitRulesLoader {
    static let ruleKeys = ["field", "in", "pattern", "range", "email_domain", "points", "label"]
    /// Domain list files are read whole at load; beyond this the file is surely not a domain list.
    static let maxListBytes = 16 << 20

    /// `fields` are the lead fields the config knows (built in and declared); list files resolve against `folder`.
    static func read(_ node: Node, fields: Set<String>, folder: String, reader r: NodeReader) -> FitRules? {
        guard let m = r.mapping(node, "'scoring.fit'", allowed: ["grades", "below", "rules"]) else { return nil }
        var fit = FitRules()
        var failed = false
        if let n = m["grades"]?.value {
            if let grades = grades(n, reader: r) { fit.grades = grades } else { failed = true }
        }
        if let n = m["below"]?.value {
            if let letter = r.singleLine(n, "'scoring.fit.below'"), isGradeLetter(letter, n, "'scoring.fit.below'", reader: r) {
                if fit.grades.contains(where: { $0.letter == letter }) {
                    r.error(n, "'scoring.fit.below' grade '\(letter)' is also in 'grades'")
                    failed = true
                } else {
                    fit.belowAll = letter
                }
            } else {
                failed = true
            }
        }
        if let n = m["rules"]?.value, let items = r.list(n, "'scoring.fit.rules'") {
            var rules: [FitRule] = []
            for item in items {
                if let rule = rule(item, fields: fields, folder: folder, reader: r) { rules.append(rule) } else { failed = true }
            }
            fit.rules = uniquelyLabelled(rules)
        }
        return failed ? nil : fit
    }

    /// `{ A: 40, B: 20, C: 5 }`: single capital letters to minimum fits, returned highest first.
    static func grades(_ node: Node, reader r: NodeReader) -> [FitGrade]? {
        guard let entries = r.freeMapping(node, "'scoring.fit.grades'") else { return nil }
        guard !entries.isEmpty else {
            r.error(node, "'scoring.fit.grades' must name at least one grade, e.g. { A: 40, B: 20, C: 5 }")
            return nil
        }
        var grades: [FitGrade] = []
        var ok = true
        for (letter, keyNode, value) in entries {
            guard isGradeLetter(letter, keyNode, "a grade in 'scoring.fit.grades'", reader: r),
                  let minimum = r.number(value, "the minimum fit for grade '\(letter)'") else {
                ok = false
                continue
            }
            if let same = grades.first(where: { $0.minimum == minimum }) {
                r.error(value, "grades '\(same.letter)' and '\(letter)' have the same minimum \(Int(exactly: minimum).map(String.init) ?? String(minimum)): one could never be given")
                ok = false
            }
            grades.append(FitGrade(letter: letter, minimum: minimum))
        }
        return ok ? grades.sorted { $0.minimum > $1.minimum } : nil
    }

    static func isGradeLetter(_ text: String, _ node: Node, _ what: String, reader r: NodeReader) -> Bool {
        guard text.count == 1, let c = text.unicodeScalars.first, ("A"..."Z").contains(c) else {
            r.error(node, "\(what) must be a single capital letter (A to Z), found '\(PrintableText.escaped(text, limit: 20))'")
            return false
        }
        return true
    }

    /// One rule: exactly one of `field` with `in`, `pattern` or `range`, or `email_domain`; and `points`.
    static func rule(_ node: Node, fields: Set<String>, folder: String, reader r: NodeReader) -> FitRule? {
        guard let m = r.mapping(node, "a fit rule", allowed: ruleKeys, required: ["points"]) else { return nil }
        let points = m["points"].flatMap { r.number($0.value, "'points'") }
        let fieldTests = ["in", "pattern", "range"].compactMap { key in m[key].map { (key, $0.key, $0.value) } }
        var test: FitRule.Test?
        var label: String?
        switch (m["field"], m["email_domain"]) {
        case (nil, nil):
            r.error(node, "a fit rule needs 'field' (with 'in', 'pattern' or 'range') or 'email_domain'")
        case (_?, let domain?):
            r.error(domain.key, "a fit rule tests either a 'field' or the 'email_domain', not both")
        case (nil, let domain?):
            if let first = fieldTests.first {
                r.error(first.1, "'\(first.0)' tests a 'field'; an 'email_domain' rule takes no other test")
            } else if let found = domainTest(domain.value, folder: folder, reader: r) {
                (test, label) = (.emailDomain(found.0), found.1)
            }
        case (let field?, nil):
            guard let name = r.singleLine(field.value, "'field'") else { break }
            guard fields.contains(name) else {
                r.error(field.value, "fit rule field '\(name)' is neither built in nor declared in the config's 'fields'")
                break
            }
            guard let first = fieldTests.first else {
                r.error(node, "a fit rule on field '\(name)' needs 'in', 'pattern' or 'range'")
                break
            }
            if fieldTests.count > 1 {
                r.error(fieldTests[1].1, "a fit rule takes one of 'in', 'pattern' or 'range', not several")
                break
            }
            if let found = fieldTest(first.0, first.2, field: name, reader: r) { (test, label) = (.field(name, found.0), found.1) }
        }
        if let n = m["label"]?.value {
            guard let given = r.singleLine(n, "'label'") else { return nil }
            label = given
        }
        guard let test, let points, let label else { return nil }
        return FitRule(test: test, points: points, label: label)
    }

    /// `in: [a, b]`, `pattern: REGEX` or `range: MIN..MAX`, with the rule's default label.
    static func fieldTest(_ key: String, _ node: Node, field: String, reader r: NodeReader) -> (FitRule.FieldTest, String)? {
        switch key {
        case "in":
            guard let items = r.list(node, "'in'", scalarIsList: true) else { return nil }
            let values = items.compactMap { r.singleLine($0, "a value in 'in'")?.trimmingCharacters(in: .whitespaces) }
            guard values.count == items.count else { return nil }
            guard !values.isEmpty, !values.contains(where: \.isEmpty) else {
                r.error(node, "'in' must list at least one value")
                return nil
            }
            return (.oneOf(values), "\(field) in \(values.joined(separator: ", "))")
        case "pattern":
            guard let pattern = r.singleLine(node, "'pattern'") else { return nil }
            guard FitScoring.regex(pattern) != nil else {
                r.error(node, "bad regular expression '\(PrintableText.escaped(pattern))' for 'pattern' (ICU syntax, matched case-insensitively)")
                return nil
            }
            return (.pattern(pattern), "\(field) ~ /\(pattern)/")
        default:
            guard let text = r.singleLine(node, "'range'") else { return nil }
            guard let bounds = range(text) else {
                r.error(node, "bad range '\(PrintableText.escaped(text, limit: 40))': write MIN..MAX, MIN.. or ..MAX (e.g. 50..5000, 1000.., ..49)")
                return nil
            }
            return (.range(min: bounds.0, max: bounds.1), "\(field) \(text.filter { $0 != " " })")
        }
    }

    /// `50..5000`, `1000..`, `..49` (bounds inclusive, `1,000` allowed); nil when malformed, empty or inverted.
    static func range(_ text: String) -> (Double?, Double?)? {
        let parts = text.components(separatedBy: "..")
        guard parts.count == 2 else { return nil }
        let texts = parts.map { $0.trimmingCharacters(in: .whitespaces) }
        let min = texts[0].isEmpty ? nil : FitScoring.number(texts[0])
        let max = texts[1].isEmpty ? nil : FitScoring.number(texts[1])
        guard min != nil || texts[0].isEmpty, max != nil || texts[1].isEmpty, min != nil || max != nil else { return nil }
        if let min, let max, min > max { return nil }
        return (min, max)
    }

    /// `free_mail`, `[rival.example, …]` or `{ list: FILE }` (one domain a line, `#` comments), with the default label.
    static func domainTest(_ node: Node, folder: String, reader r: NodeReader) -> (FitRule.DomainTest, String)? {
        let shapes = "'email_domain' must be free_mail, a list of domains or { list: FILE }"
        switch node {
        case .scalar:
            guard node.scalar?.string == "free_mail" else {
                r.error(node, shapes)
                return nil
            }
            return (.freeMail, "free-mail address")
        case .sequence(let items):
            var domains: [String] = []
            for item in items {
                guard let text = r.singleLine(item, "a domain in 'email_domain'") else { return nil }
                let domain = text.trimmingCharacters(in: .whitespaces).lowercased()
                guard isDomain(domain) else {
                    r.error(item, "'\(PrintableText.escaped(text, limit: 60))' is not a domain name (write rival.com: its subdomains match too)")
                    return nil
                }
                domains.append(domain)
            }
            guard !domains.isEmpty else {
                r.error(node, "'email_domain' must list at least one domain")
                return nil
            }
            let shown = domains.count > 5 ? domains.prefix(5).joined(separator: ", ") + " and \(domains.count - 5) more" : domains.joined(separator: ", ")
            return (.domains(Set(domains)), "email domain in \(shown)")
        case .mapping:
            guard let m = r.mapping(node, "'email_domain'", allowed: ["list"], required: ["list"]),
                  let listNode = m["list"]?.value, let written = r.singleLine(listNode, "'email_domain.list'"),
                  let domains = readList(written, at: listNode, folder: folder, reader: r) else { return nil }
            return (.domains(domains), "email domain in \(written)")
        case .alias:
            r.error(node, shapes)
            return nil
        }
    }

    /// Reads a domain list file: lowercased, one a line, blank lines and `#` comments skipped; bad lines are errors
    /// at their own line of that file.
    static func readList(_ written: String, at node: Node, folder: String, reader r: NodeReader) -> Set<String>? {
        let path = ConfigLoader.resolve(written, against: folder)
        let shown = PrintableText.escaped(written)
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else {
            r.error(node, "cannot read domain list '\(shown)' (\(path)): no such file")
            return nil
        }
        guard attributes[.type] as? FileAttributeType != .typeDirectory else {
            r.error(node, "cannot read domain list '\(shown)' (\(path)): it is a folder")
            return nil
        }
        if let size = attributes[.size] as? Int, size > maxListBytes {
            r.error(node, "domain list '\(shown)' is \(size) bytes; the limit is \(maxListBytes) bytes (16 MiB)")
            return nil
        }
        // Data(contentsOf:) leaks a buffer on an empty file (see YAMLSource.readText).
        let data = attributes[.size] as? Int == 0 ? Data() : (try? Data(contentsOf: URL(fileURLWithPath: path)))
        guard let data else {
            r.error(node, "cannot read domain list '\(shown)' (\(path))")
            return nil
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            r.error(node, "domain list '\(shown)' is not valid UTF-8")
            return nil
        }
        var domains = Set<String>()
        var bad = 0
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = (raw.firstIndex(of: "#").map { raw[..<$0] } ?? raw).trimmingCharacters(in: .whitespacesAndNewlines).lowercased()
            if line.isEmpty { continue }
            if isDomain(line) { domains.insert(line); continue }
            bad += 1
            if bad <= 5 { r.sink.error(path, index + 1, 1, "'\(PrintableText.escaped(line, limit: 60))' is not a domain name") }
        }
        if bad > 5 { r.error(node, "domain list '\(shown)' has \(bad) lines that are not domain names") }
        if bad > 0 { return nil }
        if domains.isEmpty { r.warning(node, "domain list '\(shown)' names no domain: the rule never matches") }
        return domains
    }

    /// A lowercase host name (`rival.com`; a bare label like `edu` matches a whole top-level domain).
    static func isDomain(_ text: String) -> Bool {
        guard !text.isEmpty, text.utf8.count <= 253 else { return false }
        return text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
            !label.isEmpty && label.utf8.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }
        }
    }

    /// Two rules with one label would share a ledger line: later ones get ` (rule N)`, N their place in the list.
    static func uniquelyLabelled(_ rules: [FitRule]) -> [FitRule] {
        var seen = Set<String>()
        return rules.enumerated().map { index, rule in
            var rule = rule
            var label = rule.label
            var n = index + 1
            while seen.contains(label) {
                label = "\(rule.label) (rule \(n))"
                n += 1
            }
            seen.insert(label)
            rule.label = label
            return rule
        }
    }
}
