import Crypto
import Foundation
import NurtureSigning

/// Signs an encoded message (RFC 6376, relaxed/relaxed), once per key: RSA and Ed25519 side by side when both are
/// configured, so verifiers that know only RSA still pass. Part of composing, so every transport delivers the same
/// signed bytes.
public struct DKIMSigner: Sendable {
    public let domain: String
    /// Each key under its own selector: one DNS record per name, so a verifier never has to pick between two.
    public let signatures: [(selector: String, key: DKIMKey)]

    /// The fields covered, in this order, when present. `from` is listed once more than it occurs (over-signed): a
    /// From added in transit then breaks the signature instead of being shown beside the signed one.
    public static let signedFields = ["from", "to", "subject", "date", "message-id", "mime-version", "content-type", "reply-to",
                                      "list-unsubscribe", "list-unsubscribe-post", "list-id"]

    public init(domain: String, signatures: [(selector: String, key: DKIMKey)]) {
        self.domain = domain
        self.signatures = signatures
    }

    /// The message with a `DKIM-Signature` field per key in front. `at` is the `t=` tag.
    public func sign(_ message: [UInt8], at: Date) throws -> [UInt8] {
        let (fields, bodyStart) = DKIMCanonical.split(message)
        let bodyHash = Data(SHA256.hash(data: DKIMCanonical.body(message[bodyStart...]))).base64EncodedString()
        var byName: [String: [ArraySlice<UInt8>]] = [:]
        for field in fields { byName[DKIMCanonical.name(field), default: []].append(field) }
        var names: [String] = []
        for name in Self.signedFields {
            let count = byName[name]?.count ?? 0
            names += Array(repeating: name, count: name == "from" ? count + 1 : count)
        }
        // Instances are taken from the bottom up (RFC 6376 §5.4.2); a name listed once more than it occurs adds nothing.
        var hashed: [UInt8] = []
        var used: [String: Int] = [:]
        for name in names {
            let instances = byName[name] ?? []
            let n = used[name, default: 0]
            used[name] = n + 1
            if n < instances.count { DKIMCanonical.header(instances[instances.count - 1 - n], into: &hashed) }
        }
        var out: [UInt8] = []
        for (selector, key) in signatures {
            let head = "DKIM-Signature: v=1; a=\(key.algorithm); c=relaxed/relaxed;\r\n\td=\(domain); s=\(selector); "
                + "t=\(Int(at.timeIntervalSince1970));\r\n\th=\(Self.fold(names));\r\n\tbh=\(bodyHash);\r\n\tb="
            var input = hashed
            var own: [UInt8] = []
            DKIMCanonical.header(Array(head.utf8)[...], into: &own)
            input += own.dropLast(2) // the signature's own field goes in without its CRLF (§3.7)
            let signature = Data(try key.sign(input)).base64EncodedString()
            out += head.utf8
            out += Self.foldBase64(signature).utf8
            out += "\r\n".utf8
        }
        return out + message
    }

    /// `h=` folded at colons, so no line of the field passes 78 characters.
    static func fold(_ names: [String]) -> String {
        var lines: [String] = [], line = ""
        for name in names {
            let piece = line.isEmpty ? name : ":" + name
            if line.count + piece.count > 60, !line.isEmpty {
                lines.append(line + ":")
                line = name
            } else {
                line += piece
            }
        }
        lines.append(line)
        return lines.joined(separator: "\r\n\t ")
    }

    /// The `b=` value in lines of 72: white space inside it is ignored by verifiers (§3.5).
    static func foldBase64(_ text: String) -> String {
        var lines: [Substring] = []
        var rest = Substring(text)
        while rest.count > 72 {
            lines.append(rest.prefix(72))
            rest = rest.dropFirst(72)
        }
        lines.append(rest)
        return lines.joined(separator: "\r\n\t ")
    }
}
