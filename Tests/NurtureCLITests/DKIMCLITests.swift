import Foundation
import Testing

/// DKIM through the real binary: keys from `dkim keygen`, records from `dns`, messages from `send-test` into the
/// file outbox, every signature checked by dkimpy.
struct DKIMCLITests {
    static let dkim = "dkim: { domain: acme-analytics.example, selector: nurture, rsa_key_file: keys/nurture.rsa.key, ed25519_key_file: keys/nurture.ed25519.key }\n"

    func keygen(_ p: NurtureProcess) throws -> NurtureProcess.Result {
        try FileManager.default.createDirectory(atPath: p.path("keys"), withIntermediateDirectories: true)
        return try p.run(["dkim", "keygen", "--selector", "nurture", "--directory", "keys", "--domain", "acme-analytics.example"])
    }

    func append(_ p: NurtureProcess, _ text: String) throws {
        let config = try String(contentsOfFile: p.path("nurture.yaml"), encoding: .utf8)
        try (config + text).write(toFile: p.path("nurture.yaml"), atomically: true, encoding: .utf8)
    }

    /// `NAME IN TXT "VALUE"` records of `nurture dns` (a long one split into several strings, as DNS requires,
    /// joined back), as dkim_verify.py takes them.
    func records(_ dns: String) -> [String: String] {
        var out: [String: String] = [:]
        let joined = dns.replacingOccurrences(of: "\n    \"", with: " \"")
        for line in joined.split(separator: "\n") where line.contains(" IN TXT ") {
            let parts = line.components(separatedBy: " IN TXT ")
            let strings = parts[1].components(separatedBy: "\"").enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
            out[parts[0]] = strings.joined()
        }
        return out
    }

    @Test func keygenWritesOwnerOnlyKeysNeverOverwritesOneAndPrintsTheRecordsToPublish() throws {
        let p = try NurtureProcess()
        let first = try keygen(p)
        #expect(first.status == 0, "\(first.stderr)")
        for kind in ["rsa", "ed25519"] {
            let attributes = try FileManager.default.attributesOfItem(atPath: p.path("keys/nurture.\(kind).key"))
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
        }
        let published = records(first.stdout)
        #expect(published["nurture._domainkey.acme-analytics.example."]?.hasPrefix("v=DKIM1; k=rsa; p=MII") == true, "\(first.stdout)")
        #expect(published["nurture-ed25519._domainkey.acme-analytics.example."]?.hasPrefix("v=DKIM1; k=ed25519; p=") == true)
        // An RSA-2048 record is longer than one DNS string (255 bytes): it is split, never cut.
        #expect(first.stdout.contains("nurture._domainkey.acme-analytics.example. IN TXT ( \"v=DKIM1; k=rsa; p="))
        let before = try Data(contentsOf: URL(fileURLWithPath: p.path("keys/nurture.rsa.key")))
        let again = try keygen(p)
        #expect(again.status == 1 && again.stderr.contains("refusing to overwrite"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: p.path("keys/nurture.rsa.key"))) == before)
        // The private key never reaches the terminal.
        let pem = String(decoding: before, as: UTF8.self).split(separator: "\n")[1]
        #expect(!first.stdout.contains(pem) && !first.stderr.contains(pem))
    }

    @Test func everyShippedTemplateGoesOutSignedWithBothKeysAndDkimpyVerifiesThem() throws {
        let p = try NurtureProcess()
        #expect(try keygen(p).status == 0)
        try append(p, Self.dkim)
        let validate = try p.run(["validate"])
        #expect(validate.status == 0, "\(validate.stdout)\(validate.stderr)")
        let dns = try p.run(["dns"])
        #expect(dns.status == 0)
        #expect(dns.stdout.contains("_dmarc.acme-analytics.example. IN TXT \"v=DMARC1; p=none"))
        #expect(dns.stdout.contains("acme-analytics.example. IN TXT \"v=spf1"))
        let published = records(dns.stdout)
        #expect(published.keys.filter { $0.contains("._domainkey.") }.count == 2)
        try JSONSerialization.data(withJSONObject: published).write(to: URL(fileURLWithPath: p.path("records.json")))

        var sent = 0
        let lead = #"{"first_name":"Zoë","last_name":"Ørsted","company":"Acme","whitepaper_title":"Observabilité à l'échelle","job_title":"CTO"}"#
        for file in try FileManager.default.contentsOfDirectory(atPath: NurtureProcess.repository + "/sequences").sorted() {
            let yaml = try String(contentsOfFile: NurtureProcess.repository + "/sequences/" + file, encoding: .utf8)
            let lines = yaml.split(separator: "\n")
            let id = try #require(lines.first { $0.hasPrefix("id: ") }).dropFirst(4)
            for (i, step) in lines.enumerated() where step.hasPrefix("  - id: ") {
                // A wait or a branch sends nothing (send-test says so).
                let body = lines[(i + 1)...].prefix { !$0.hasPrefix("  - id: ") && $0.hasPrefix("    ") }
                if body.contains(where: { $0.hasPrefix("    wait_for:") || $0.hasPrefix("    if:") }) {
                    let refused = try p.run(["send-test", String(id), String(step.dropFirst(8)), "--to", "ada@example.net"])
                    #expect(refused.status != 0 && refused.stderr.contains("sends no mail"), "\(refused.stderr)")
                    continue
                }
                let r = try p.run(["send-test", String(id), String(step.dropFirst(8)), "--to", "ada@example.net", "--lead-json", lead])
                #expect(r.status == 0, "\(id) \(step): \(r.stderr)")
                sent += 1
            }
        }
        let emls = try FileManager.default.contentsOfDirectory(atPath: p.path("var/outbox")).filter { $0.hasSuffix(".eml") }.map { p.path("var/outbox/" + $0) }
        #expect(sent >= 12 && emls.count == sent)
        let out = try Tool.run("/usr/bin/env", ["python3", NurtureProcess.repository + "/Tests/Support/dkim_verify.py", p.path("records.json")] + emls)
        #expect(out.status == 0)
        let verdicts = out.output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        #expect(verdicts.count == emls.count, "\(out.output)")
        for v in verdicts {
            let signatures = v["signatures"] as? [[String: Any]] ?? []
            #expect(signatures.compactMap { $0["a"] as? String }.sorted() == ["ed25519-sha256", "rsa-sha256"], "\(v)")
            #expect(signatures.allSatisfy { $0["ok"] as? Bool == true }, "\(v)")
        }
    }

    @Test func aSequenceSendingFromAnotherDomainIsSignedWithItsOwnKeyAndDnsListsIt() throws {
        let p = try NurtureProcess()
        #expect(try keygen(p).status == 0)
        #expect(try p.run(["dkim", "keygen", "--ed25519", "--selector", "other", "--directory", "keys"]).status == 0)
        try append(p, Self.dkim)
        // A copy of the shipped sequences, one of them sending from another domain with its own key.
        try FileManager.default.createDirectory(atPath: p.path("sequences"), withIntermediateDirectories: true)
        for file in try FileManager.default.contentsOfDirectory(atPath: NurtureProcess.repository + "/sequences") {
            var yaml = try String(contentsOfFile: NurtureProcess.repository + "/sequences/" + file, encoding: .utf8)
            if file == "cto-whitepaper.yaml" {
                yaml = yaml.replacingOccurrences(of: "claire@acme-analytics.example", with: "claire@research.example")
                    + "dkim: { domain: research.example, selector: other, ed25519_key_file: keys/other.ed25519.key }\n"
            }
            try yaml.write(toFile: p.path("sequences/" + file), atomically: true, encoding: .utf8)
        }
        let config = try String(contentsOfFile: p.path("nurture.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "\nsequences: \(NurtureProcess.repository)/sequences\n", with: "\nsequences: sequences\n")
        try config.write(toFile: p.path("nurture.yaml"), atomically: true, encoding: .utf8)
        let validate = try p.run(["validate"])
        #expect(validate.status == 0, "\(validate.stdout)")
        let dns = try p.run(["dns"])
        let published = records(dns.stdout)
        #expect(published["other._domainkey.research.example."]?.contains("k=ed25519") == true, "\(dns.stdout)")
        #expect(published["_dmarc.research.example."] != nil)
        try JSONSerialization.data(withJSONObject: published).write(to: URL(fileURLWithPath: p.path("records.json")))
        let lead = #"{"first_name":"Ada","company":"Acme","whitepaper_title":"Observability"}"#
        for (sequence, step) in [("cto-whitepaper", "whitepaper"), ("founder-event", "invitation")] {
            #expect(try p.run(["send-test", sequence, step, "--to", "ada@example.net", "--lead-json", lead]).status == 0)
        }
        let emls = try FileManager.default.contentsOfDirectory(atPath: p.path("var/outbox")).filter { $0.hasSuffix(".eml") }.map { p.path("var/outbox/" + $0) }
        let out = try Tool.run("/usr/bin/env", ["python3", NurtureProcess.repository + "/Tests/Support/dkim_verify.py", p.path("records.json")] + emls)
        let domains = out.output.split(separator: "\n").compactMap { line -> [String]? in
            let v = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            let signatures = v?["signatures"] as? [[String: Any]] ?? []
            guard signatures.allSatisfy({ $0["ok"] as? Bool == true }) else { return nil }
            return signatures.compactMap { $0["d"] as? String }
        }
        #expect(domains.sorted { $0.count < $1.count } == [["research.example"], ["acme-analytics.example", "acme-analytics.example"]], "\(out.output)")
    }

    @Test func validateNamesAMissingOrShortKeyAnUnalignedSenderAndWarnsOfUnsignedSMTP() throws {
        let p = try NurtureProcess()
        #expect(try keygen(p).status == 0)
        #expect(try Tool.run("/usr/bin/openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", p.path("keys/short.key")]).status == 0)
        try append(p, "dkim: { domain: other.example, selector: s1, rsa_key_file: keys/short.key, ed25519_key_file: keys/missing.key }\n")
        let r = try p.run(["validate"])
        #expect(r.status == 1)
        let line = try String(contentsOfFile: p.path("nurture.yaml"), encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).count - 1
        #expect(r.stdout.contains("nurture.yaml:\(line):"), "\(r.stdout)")
        #expect(r.stdout.contains("the RSA key has 1024 bits; DKIM verifiers require at least 2048"), "\(r.stdout)")
        #expect(r.stdout.contains("keys/missing.key: cannot read the key file: no such file"), "\(r.stdout)")

        let q = try NurtureProcess()
        #expect(try keygen(q).status == 0)
        try append(q, "dkim: { domain: other.example, selector: s1, ed25519_key_file: keys/nurture.ed25519.key }\n")
        let unaligned = try q.run(["validate"])
        #expect(unaligned.status == 1)
        #expect(unaligned.stdout.contains("the sender domain 'acme-analytics.example' is not aligned with the DKIM signing domain 'other.example'"),
                "\(unaligned.stdout)")

        let smtp = try NurtureProcess()
        let config = try String(contentsOfFile: smtp.path("nurture.yaml"), encoding: .utf8)
            .replacingOccurrences(of: "transport: file://var/outbox", with: "transport: smtp://127.0.0.1:2525")
        try config.write(toFile: smtp.path("nurture.yaml"), atomically: true, encoding: .utf8)
        let warned = try smtp.run(["validate"])
        #expect(warned.status == 0 && warned.stdout.contains("warning: no 'dkim': mail goes out unsigned"), "\(warned.stdout)")
        try append(smtp, "dkim: relay\n")
        let relay = try smtp.run(["validate"])
        #expect(relay.status == 0 && !relay.stdout.contains("no 'dkim'"), "\(relay.stdout)")
    }
}

/// `make check-mail`, run by the test suite: SpamAssassin's shipped rules against every shipped template.
struct SpamAssassinTests {
    @Test func everyShippedTemplateScoresAtMostATenthAndHitsNoRuleThatCarriesPoints() throws {
        let r = try Tool.run("/usr/bin/env", ["NURTURE_BIN=\(NurtureProcess.binary)", NurtureProcess.repository + "/scripts/check-mail.sh"])
        #expect(r.status == 0, "\(r.output)")
        #expect(r.output.split(separator: "\n").filter { $0.contains("/") && !$0.contains("FAILED") }.count >= 12, "\(r.output)")
    }
}
