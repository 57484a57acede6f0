import Crypto
import Foundation

/// VERP envelope senders carry a MAC beside the outbox id (`bounces+42-3f9a0c51d2@…`): outbox ids are sequential,
/// so without it anyone could bounce a guessed id and suppress an address we mailed. Lower-case hex, because some
/// MTAs fold the local part's case.
extension TokenSigner {
    static let verpTagLength = 10

    /// The local part of message `outboxID`'s envelope sender.
    public func verpLocalPart(outboxID: Int64) -> String {
        "bounces+\(outboxID)-\(verpTag(outboxID, key: keys[0]))"
    }

    /// The outbox id a VERP address names, when its tag is authentic under any key; nil for anything else.
    public func verifyVERP(_ address: String) -> Int64? {
        let local = address.split(separator: "@", maxSplits: 1).first.map { $0.lowercased() } ?? ""
        guard local.hasPrefix("bounces+") else { return nil }
        let rest = local.dropFirst("bounces+".count)
        let parts = rest.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count <= 18, let id = Int64(parts[0]), id > 0, parts[1].count == Self.verpTagLength else { return nil }
        var valid = false
        for key in keys {
            valid = Self.constantTimeEqual(Array(verpTag(id, key: key).utf8), Array(parts[1].utf8)) || valid
        }
        return valid ? id : nil
    }

    private func verpTag(_ outboxID: Int64, key: Data) -> String {
        var payload = Array("verp".utf8)
        withUnsafeBytes(of: outboxID.bigEndian) { payload += $0 }
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: key))
        return Array(mac).prefix(Self.verpTagLength / 2).map { String(format: "%02x", $0) }.joined()
    }
}
