import Foundation
import NurtureCore
import NurtureSigning
import Yams

/// `dkim:` in the config or a sequence: who signs, with the keys already read and checked, so `validate` refuses
/// what the daemon would fail on and a reload re-reads rotated keys.
public struct DKIMSettings: Sendable {
    public enum Mode: Sendable {
        /// `dkim: relay`: the relay signs; Nurture adds no signature.
        case relay
        case sign(DKIMSigning)
    }

    public struct DKIMSigning: Sendable {
        public var domain: String
        public var selector: String
        public var keys: [DKIMKey]
        /// The key files, for `nurture dns`.
        public var keyFiles: [String]

        /// With both keys, the Ed25519 one is published as `SELECTOR-ed25519`: two records under one name would make
        /// verifiers pick one, and many take the first.
        public func selector(for key: DKIMKey) -> String {
            keys.count > 1 && key.kind == .ed25519 ? DKIMSettings.ed25519Selector(selector) : selector
        }

        public var signatures: [(selector: String, key: DKIMKey)] { keys.map { (selector(for: $0), $0) } }
    }

    public static func ed25519Selector(_ selector: String) -> String { selector + "-ed25519" }

    public var mode: Mode
    /// Where it was written, for checks against the sender of each sequence.
    public var file: String
    public var position: SourcePosition

    public var signing: DKIMSigning? {
        if case .sign(let s) = mode { return s }
        return nil
    }

    static let keys = ["domain", "selector", "rsa_key_file", "ed25519_key_file"]

    /// Reads `relay` or `{domain, selector, rsa_key_file, ed25519_key_file}`; key files resolve against `secrets`.
    static func read(_ node: Node, _ what: String, reader r: NodeReader, secrets: String) -> DKIMSettings? {
        let position = r.position(node)
        if case .scalar(let s) = node {
            guard s.string == "relay" else {
                r.error(node, "\(what) must be 'relay' (the relay signs) or a mapping with domain, selector and rsa_key_file and/or ed25519_key_file")
                return nil
            }
            return DKIMSettings(mode: .relay, file: r.file, position: position)
        }
        guard let m = r.mapping(node, what, allowed: keys, required: ["domain", "selector"]) else { return nil }
        var signing = DKIMSigning(domain: "", selector: "", keys: [], keyFiles: [])
        var ok = true
        if let n = m["domain"]?.value, let domain = r.singleLine(n, "'dkim.domain'") {
            if isHostName(domain) { signing.domain = domain.lowercased() } else { r.error(n, "'dkim.domain' must be a domain name such as example.com"); ok = false }
        } else { ok = false }
        if let n = m["selector"]?.value, let selector = r.singleLine(n, "'dkim.selector'") {
            if isSelector(selector) { signing.selector = selector } else {
                r.error(n, "'dkim.selector' must be DNS labels (letters, digits, hyphens, dots), such as 'nurture2026'")
                ok = false
            }
        } else { ok = false }
        for (key, kind) in [("rsa_key_file", DKIMKey.Kind.rsa), ("ed25519_key_file", .ed25519)] {
            guard let n = m[key]?.value, let path = r.singleLine(n, "'dkim.\(key)'") else { continue }
            let file = ConfigLoader.resolve(path, against: secrets)
            do {
                signing.keys.append(try DKIMKey.load(file: file, kind: kind))
                signing.keyFiles.append(file)
            } catch {
                // The path is the operator's; the key's content is never shown.
                r.error(n, "'dkim.\(key)' \(file): \(error)")
                ok = false
            }
        }
        if m["rsa_key_file"] == nil && m["ed25519_key_file"] == nil {
            r.error(node, "\(what) names no key: add rsa_key_file and/or ed25519_key_file (or write 'dkim: relay' if the relay signs)")
            ok = false
        }
        return ok ? DKIMSettings(mode: .sign(signing), file: r.file, position: position) : nil
    }

    /// DMARC alignment (relaxed): the From domain and the signing domain are one, or one is a subdomain of the other.
    public static func aligned(sender: String, signing: String) -> Bool {
        let from = sender.split(separator: "@").last.map { $0.lowercased() } ?? ""
        return from == signing || from.hasSuffix("." + signing) || signing.hasSuffix("." + from)
    }

    static func isHostName(_ s: String) -> Bool {
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        return labels.count >= 2 && s.count <= 253 && labels.allSatisfy(isLabel)
    }

    /// A DKIM selector: DNS labels (RFC 6376 §3.1), at most 63 characters in all.
    public static func isSelector(_ s: String) -> Bool {
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        return !labels.isEmpty && s.count <= 63 && labels.allSatisfy(isLabel)
    }

    private static func isLabel(_ l: Substring) -> Bool {
        !l.isEmpty && l.count <= 63 && l.first != "-" && l.last != "-"
            && l.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || $0 == "-") }
    }
}
