import Crypto
import Foundation
import _CryptoExtras

/// A DKIM private key from a PEM file: RSA (PKCS#1 or PKCS#8, at least 2048 bits, RFC 8301) or Ed25519 (PKCS#8,
/// RFC 8463). Only the key and the signature primitive live here; canonicalisation and the header are the mailer's.
/// Unchecked: swift-crypto does not mark Curve25519 keys Sendable, though they are immutable values.
public enum DKIMKey: @unchecked Sendable {
    case rsa(_RSA.Signing.PrivateKey)
    case ed25519(Curve25519.Signing.PrivateKey)

    public enum Kind: String, Sendable, CaseIterable {
        case rsa, ed25519
    }

    public enum Problem: Error, CustomStringConvertible, Equatable {
        case unreadable(String)
        case notAKey(Kind)
        case tooShort(bits: Int)

        public var description: String {
            switch self {
            case .unreadable(let why): "cannot read the key file: \(why)"
            case .notAKey(.rsa): "not an RSA private key in PEM (PKCS#1 'RSA PRIVATE KEY' or PKCS#8 'PRIVATE KEY')"
            case .notAKey(.ed25519): "not an Ed25519 private key in PEM (PKCS#8 'PRIVATE KEY', as `openssl genpkey -algorithm ed25519` writes)"
            case .tooShort(let bits): "the RSA key has \(bits) bits; DKIM verifiers require at least \(DKIMKey.minimumRSABits) (RFC 8301)"
            }
        }
    }

    public static let minimumRSABits = 2048

    /// PKCS#8 `PrivateKeyInfo` of an Ed25519 key up to its 32-byte seed (RFC 8410 §7).
    private static let ed25519Prefix: [UInt8] = [0x30, 0x2E, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]

    public var kind: Kind {
        switch self {
        case .rsa: .rsa
        case .ed25519: .ed25519
        }
    }

    /// The `a=` tag of a signature made with this key.
    public var algorithm: String {
        switch self {
        case .rsa: "rsa-sha256"
        case .ed25519: "ed25519-sha256"
        }
    }

    /// Reads a key file; the text is never logged or echoed, only what is wrong with it.
    public static func load(file: String, kind: Kind) throws -> DKIMKey {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw Problem.unreadable(FileManager.default.fileExists(atPath: file) ? "permission denied" : "no such file")
        }
        guard let pem = String(data: data, encoding: .utf8) else { throw Problem.notAKey(kind) }
        return try parse(pem: pem, kind: kind)
    }

    public static func parse(pem: String, kind: Kind) throws -> DKIMKey {
        switch kind {
        case .rsa:
            // The unsafe initialiser accepts short keys, so that a short one is named as such rather than as unreadable.
            guard let key = try? _RSA.Signing.PrivateKey(unsafePEMRepresentation: pem) else { throw Problem.notAKey(.rsa) }
            guard key.keySizeInBits >= minimumRSABits else { throw Problem.tooShort(bits: key.keySizeInBits) }
            return .rsa(key)
        case .ed25519:
            guard let der = derBytes(pem, label: "PRIVATE KEY"), der.count == 48, Array(der.prefix(16)) == ed25519Prefix,
                  let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: der.suffix(32)) else { throw Problem.notAKey(.ed25519) }
            return .ed25519(key)
        }
    }

    /// Signs the SHA-256 hash of `data`: RSASSA-PKCS1-v1_5 for RSA (RFC 6376 §3.3.1), PureEdDSA over the 32-byte
    /// hash for Ed25519 (RFC 8463 §3).
    public func sign(_ data: [UInt8]) throws -> [UInt8] {
        let digest = SHA256.hash(data: data)
        switch self {
        case .rsa(let key): return Array(try key.signature(for: digest, padding: .insecurePKCS1v1_5).rawRepresentation)
        case .ed25519(let key): return Array(try key.signature(for: Array(digest)))
        }
    }

    /// The `p=` of the key's DNS record: SubjectPublicKeyInfo for RSA, the raw 32 bytes for Ed25519 (RFC 8463 §4.2).
    public var publicKeyBase64: String {
        switch self {
        case .rsa(let key): key.publicKey.derRepresentation.base64EncodedString()
        case .ed25519(let key): key.publicKey.rawRepresentation.base64EncodedString()
        }
    }

    /// The TXT record value to publish at `SELECTOR._domainkey.DOMAIN`.
    public var dnsRecord: String { "v=DKIM1; k=\(kind.rawValue); p=\(publicKeyBase64)" }

    /// A new key, as PKCS#8 PEM.
    public static func generate(_ kind: Kind) throws -> String {
        switch kind {
        case .rsa:
            return try _RSA.Signing.PrivateKey(keySize: .bits2048).pkcs8PEMRepresentation
        case .ed25519:
            let der = ed25519Prefix + Curve25519.Signing.PrivateKey().rawRepresentation
            return pem(der, label: "PRIVATE KEY")
        }
    }

    static func derBytes(_ pem: String, label: String) -> [UInt8]? {
        let lines = pem.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = lines.firstIndex(of: "-----BEGIN \(label)-----"),
              let end = lines[begin...].firstIndex(of: "-----END \(label)-----") else { return nil }
        return Data(base64Encoded: lines[(begin + 1)..<end].joined()).map(Array.init)
    }

    static func pem(_ der: [UInt8], label: String) -> String {
        let base64 = Data(der).base64EncodedString(options: [.lineLength64Characters, .endLineWithLineFeed])
        return "-----BEGIN \(label)-----\n\(base64)\n-----END \(label)-----\n"
    }
}
