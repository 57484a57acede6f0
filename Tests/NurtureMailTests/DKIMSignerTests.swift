import Foundation
import NurtureCore
import NurtureSigning
import Testing
@testable import NurtureMail

/// Every signature is checked by dkimpy (an independent implementation), with the public keys given to it here.
struct DKIMSignerTests {
    static let rsa = try! DKIMKey.parse(pem: try! DKIMKey.generate(.rsa), kind: .rsa)
    static let ed25519 = try! DKIMKey.parse(pem: try! DKIMKey.generate(.ed25519), kind: .ed25519)
    let signer = DKIMSigner(domain: "example.com", signatures: [("rsa", Self.rsa), ("ed", Self.ed25519)])
    let at = Date(timeIntervalSince1970: 1_780_000_000) // in the past: dkimpy refuses a t= in the future
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-dkim-\(UUID().uuidString)").path

    struct Verdict: Decodable {
        struct Signature: Decodable { var a: String; var d: String; var ok: Bool }
        var file: String
        var signatures: [Signature]
    }

    /// dkimpy's verdict on each message, in order.
    func verify(_ messages: [[UInt8]]) throws -> [[Verdict.Signature]] {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        // One DNS record per selector: each key is published (and signed with, in `signBoth`) under its own.
        let recordsFile = folder + "/records.json"
        let published = ["rsa._domainkey.example.com": Self.rsa.dnsRecord, "ed._domainkey.example.com": Self.ed25519.dnsRecord]
        try JSONSerialization.data(withJSONObject: published).write(to: URL(fileURLWithPath: recordsFile))
        var files: [String] = []
        for (i, m) in messages.enumerated() {
            let file = folder + "/m\(i).eml"
            try Data(m).write(to: URL(fileURLWithPath: file))
            files.append(file)
        }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Support").path
        p.arguments = ["python3", support + "/dkim_verify.py", recordsFile] + files
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let out = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0)
        return try String(decoding: out, as: UTF8.self).split(separator: "\n").map {
            try JSONDecoder().decode(Verdict.self, from: Data($0.utf8)).signatures
        }
    }

    /// Signed once with each key, each under its own selector (two DNS records).
    func signBoth(_ message: [UInt8]) throws -> [UInt8] {
        try signer.sign(message, at: at)
    }

    func mime(subject: String = "Hello", toName: String? = "Ada Lovelace", text: String = "Hello,\nworld.\n", html: String = "<p>Hello</p>") throws -> [UInt8] {
        MIMEBuilder.build(MailMessage(fromName: "Nurture Team", from: try EmailAddress(validating: "news@example.com"), toName: toName,
                                      to: try EmailAddress(validating: "ada@example.net"), replyTo: try EmailAddress(validating: "sales@example.com"),
                                      subject: subject, date: at, messageID: "<1.abc@example.com>", unsubscribeURL: "https://example.com/u/tok",
                                      listID: (name: "CTO — white paper", identifier: "cto-whitepaper.example.com"), text: text, html: html))
    }

    static func raw(_ body: String) -> [UInt8] {
        Array(("From: a@example.com\r\nTo: b@example.net\r\nSubject: raw\r\nDate: Thu, 15 Jan 2027 08:00:00 +0000\r\n"
               + "Message-ID: <r@example.com>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n" + body).utf8)
    }

    @Test func rsaAndEd25519SignaturesVerifyWithDkimpyOnAwkwardMessages() throws {
        let long = String(repeating: "a very long subject that has to fold ", count: 6)
        let messages = [
            try mime(),
            try mime(subject: long, toName: String(repeating: "Bartholomew ", count: 8)),
            try mime(subject: "Élodie, votre livre blanc est prêt — 日本語も", toName: "Zoë Ørsted-Łukasz"),
            try mime(text: ".leading dot\nFrom the start\n..two dots\n", html: "<p>.</p>\n."),
            try mime(text: "", html: ""),
            try mime(text: String(repeating: "long line of body text ", count: 40_000), html: String(repeating: "<p>x</p>\n", count: 20_000)),
            Self.raw(""),
            Self.raw(".\r\nFrom here\r\ntrailing spaces   \r\n\t tabs\tinside \t\r\n\r\n\r\n"),
            Self.raw("no final line break"),
        ]
        let verdicts = try verify(try messages.map(signBoth))
        #expect(verdicts.count == messages.count)
        for (i, v) in verdicts.enumerated() {
            #expect(v.map(\.a).sorted() == ["ed25519-sha256", "rsa-sha256"], "message \(i)")
            #expect(v.allSatisfy { $0.ok }, "message \(i): \(v)")
        }
    }

    @Test func aMessageAlteredAfterSigningFailsVerification() throws {
        let signed = try signBoth(try mime(text: "Original body\n"))
        let text = String(decoding: signed, as: UTF8.self)
        let bodyByte = text.replacingOccurrences(of: "Original body", with: "Original bodY")
        let subject = text.replacingOccurrences(of: "Subject: Hello", with: "Subject: Hellp")
        // A From added in transit (above the signed one, where readers look first): over-signing catches it.
        let addedFrom = "From: attacker@example.org\r\n" + text
        let verdicts = try verify([signed, Array(bodyByte.utf8), Array(subject.utf8), Array(addedFrom.utf8)])
        #expect(verdicts[0].count == 2 && verdicts[0].allSatisfy { $0.ok })
        for (name, v) in zip(["body byte", "subject", "added From"], verdicts.dropFirst()) {
            #expect(v.count == 2 && v.allSatisfy { !$0.ok }, "\(name): \(v)")
        }
    }

    @Test func theSignatureCoversTheListHeadersAndOverSignsFrom() throws {
        let signed = String(decoding: try signer.sign(try mime(), at: at), as: UTF8.self)
        let header = signed.components(separatedBy: "\r\n\r\n")[0].replacingOccurrences(of: "\r\n\t", with: " ")
        let h = try #require(header.components(separatedBy: "h=").dropFirst().first?.components(separatedBy: ";").first)
            .replacingOccurrences(of: " ", with: "")
        #expect(h == "from:from:to:subject:date:message-id:mime-version:content-type:reply-to:list-unsubscribe:list-unsubscribe-post:list-id")
        #expect(header.contains("a=rsa-sha256") && header.contains("a=ed25519-sha256") && header.contains("t=1780000000"))
        #expect(header.contains("List-ID: =?UTF-8?B?") && header.contains("<cto-whitepaper.example.com>"))
        // Every line of the signed header stays within 78 characters.
        for line in signed.components(separatedBy: "\r\n\r\n")[0].components(separatedBy: "\r\n") { #expect(line.utf8.count <= 78, "\(line)") }
    }

    @Test func relaxedCanonicalisationFollowsRFC6376() {
        var out: [UInt8] = []
        DKIMCanonical.header(Array("SubJect :  A  \r\n\t b \t".utf8)[...], into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "subject:A b\r\n")
        #expect(DKIMCanonical.body(Array(" C \r\nD \t E\r\n\r\n\r\n".utf8)[...]) == Array(" C\r\nD E\r\n".utf8))
        #expect(DKIMCanonical.body(Array("\r\n\r\n".utf8)[...]).isEmpty)
        #expect(DKIMCanonical.body(Array("x".utf8)[...]) == Array("x\r\n".utf8))
    }

    @Test func keysAreReadFromPEMAndShortOrWrongOnesAreNamed() throws {
        let short = try _shortRSA()
        #expect(throws: DKIMKey.Problem.tooShort(bits: 1024)) { try DKIMKey.parse(pem: short, kind: .rsa) }
        #expect(throws: DKIMKey.Problem.notAKey(.ed25519)) { try DKIMKey.parse(pem: try DKIMKey.generate(.rsa), kind: .ed25519) }
        #expect(throws: DKIMKey.Problem.notAKey(.rsa)) { try DKIMKey.parse(pem: "not a key", kind: .rsa) }
        #expect(throws: DKIMKey.Problem.unreadable("no such file")) { try DKIMKey.load(file: folder + "/missing.key", kind: .rsa) }
        // OpenSSL's own files: PKCS#1 and PKCS#8 RSA, PKCS#8 Ed25519.
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for (args, kind) in [(["genrsa", "-traditional", "-out", folder + "/k1.pem", "2048"], DKIMKey.Kind.rsa),
                             (["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072", "-out", folder + "/k2.pem"], .rsa),
                             (["genpkey", "-algorithm", "ed25519", "-out", folder + "/k3.pem"], .ed25519)] {
            #expect(try openssl(args) == 0)
            let key = try DKIMKey.load(file: args.first { $0.hasSuffix(".pem") }!, kind: kind)
            #expect(key.kind == kind)
        }
    }

    func openssl(_ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = args
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// A 1024-bit key from OpenSSL: swift-crypto will not make one.
    func _shortRSA() throws -> String {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        #expect(try openssl(["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024", "-out", folder + "/short.pem"]) == 0)
        return try String(contentsOfFile: folder + "/short.pem", encoding: .utf8)
    }
}
