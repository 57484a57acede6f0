import Crypto
import Foundation

/// What a link token authorises; a token signed for one purpose is refused for every other.
public enum TokenPurpose: UInt8, Sendable {
    case open = 1
    case click = 2
    case unsubscribe = 3
    /// The CSRF field of an unsubscribe page's other choices: binds the message and the choice (`link`).
    case choice = 4
}

/// The content of a link token: which sent message, for what, and (for clicks) which of its links.
public struct LinkToken: Hashable, Sendable {
    public var purpose: TokenPurpose
    public var outboxID: Int64
    public var link: UInt16

    public init(purpose: TokenPurpose, outboxID: Int64, link: UInt16 = 0) {
        self.purpose = purpose
        self.outboxID = outboxID
        self.link = link
    }
}

/// Signs and verifies link tokens with HMAC-SHA256. The first key signs; every key verifies, so a key can be
/// rotated without breaking links already in inboxes (unsubscribe links must work for at least 30 days).
///
/// Token: base64url(version · purpose · outbox id (8 bytes) · link (2 bytes) · first 16 bytes of the MAC), 38 characters.
public struct TokenSigner: Sendable {
    static let version: UInt8 = 1
    static let payloadLength = 12
    static let macLength = 16
    public static let tokenLength = 38

    /// Raw key bytes (SymmetricKey is not Sendable; making one per use is cheap).
    let keys: [Data]

    public enum KeyError: Error, CustomStringConvertible {
        case unreadable(String)
        case noKey(String)
        case tooShort(String, line: Int)

        public var description: String {
            switch self {
            case .unreadable(let p): "cannot read the token key file \(p)"
            case .noKey(let p): "the token key file \(p) holds no key"
            case .tooShort(let p, let line): "\(p):\(line): a token key must be at least 32 random bytes, base64-encoded (openssl rand -base64 32)"
            }
        }
    }

    /// - Parameter keys: raw key bytes, current key first.
    public init(keys: [Data]) {
        precondition(!keys.isEmpty, "TokenSigner needs a key")
        self.keys = keys
    }

    /// Reads a key file: one base64 key per line, current first, previous after it during a rotation.
    public static func load(file: String) throws -> TokenSigner {
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw KeyError.unreadable(file) }
        var keys: [Data] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            guard let key = Data(base64Encoded: trimmed), key.count >= 32 else { throw KeyError.tooShort(file, line: index + 1) }
            keys.append(key)
        }
        guard !keys.isEmpty else { throw KeyError.noKey(file) }
        return TokenSigner(keys: keys)
    }

    /// Writes a new random key file (mode 0600), for first runs and `make install`.
    public static func generateKeyFile(at path: String) throws {
        let key = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        guard FileManager.default.createFile(atPath: path, contents: Data((key.base64EncodedString() + "\n").utf8),
                                             attributes: [.posixPermissions: 0o600]) else { throw KeyError.unreadable(path) }
    }

    public func sign(_ token: LinkToken) -> String {
        var payload = [Self.version, token.purpose.rawValue]
        withUnsafeBytes(of: token.outboxID.bigEndian) { payload += $0 }
        withUnsafeBytes(of: token.link.bigEndian) { payload += $0 }
        let mac = HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: keys[0]))
        return Base64URL.encode(payload + Array(mac).prefix(Self.macLength))
    }

    /// The token if it is authentic and of the expected purpose; nil for anything forged, altered, truncated or oversized.
    public func verify(_ text: some StringProtocol, purpose: TokenPurpose) -> LinkToken? {
        guard text.utf8.count == Self.tokenLength, let bytes = Base64URL.decode(text),
              bytes.count == Self.payloadLength + Self.macLength else { return nil }
        let payload = Array(bytes[..<Self.payloadLength]), mac = Array(bytes[Self.payloadLength...])
        // Every key is tried, so timing does not reveal which one matched.
        var valid = false
        for key in keys {
            let expected = Array(HMAC<SHA256>.authenticationCode(for: payload, using: SymmetricKey(data: key))).prefix(Self.macLength)
            valid = Self.constantTimeEqual(Array(expected), mac) || valid
        }
        guard valid, payload[0] == Self.version, payload[1] == purpose.rawValue else { return nil }
        let outboxID = payload[2..<10].reduce(Int64(0)) { $0 << 8 | Int64($1) }
        let link = UInt16(payload[10]) << 8 | UInt16(payload[11])
        guard outboxID > 0 else { return nil }
        return LinkToken(purpose: purpose, outboxID: outboxID, link: link)
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var diff: UInt8 = 0
        for i in a.indices { diff |= a[i] ^ b[i] }
        return diff == 0
    }
}

/// URL-safe base64 without padding (RFC 4648 §5).
enum Base64URL {
    static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// Direct encoding: signing runs once per message on the delivery path.
    static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 4 + 2) / 3)
        var i = 0
        while i < bytes.count {
            let b0 = UInt32(bytes[i]), b1 = i + 1 < bytes.count ? UInt32(bytes[i + 1]) : 0, b2 = i + 2 < bytes.count ? UInt32(bytes[i + 2]) : 0
            let n = b0 << 16 | b1 << 8 | b2
            out.append(alphabet[Int(n >> 18 & 63)])
            out.append(alphabet[Int(n >> 12 & 63)])
            if i + 1 < bytes.count { out.append(alphabet[Int(n >> 6 & 63)]) }
            if i + 2 < bytes.count { out.append(alphabet[Int(n & 63)]) }
            i += 3
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Value of each base64url character, 255 for any other byte.
    static let values: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }()

    /// Direct decoding (every tracking request verifies a token); nil for any character outside the alphabet
    /// or a length no encoding produces.
    static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count * 3 / 4)
        var buffer: UInt32 = 0, bits = 0
        for c in text.utf8 {
            let v = values[Int(c)]
            guard v != 255 else { return nil }
            buffer = buffer << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        // Leftover bits must be padding zeros, and a single leftover character encodes nothing.
        guard bits < 6, buffer & ((1 << UInt32(bits)) - 1) == 0 else { return nil }
        return out
    }
}
