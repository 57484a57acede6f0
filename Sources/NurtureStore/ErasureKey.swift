import Crypto
import Foundation
import GRDB

/// The key of the hashes that keep erased addresses suppressed. It lives in a secret file, not in the database,
/// so a copied database alone cannot be used to test addresses against the suppression hashes.
/// Immutable after load; `SymmetricKey` is not marked Sendable by swift-crypto.
struct ErasureKey: @unchecked Sendable {
    let key: SymmetricKey
    /// HMAC with the key already absorbed; copied per address (value semantics), so the pads are computed once.
    private let keyed: HMAC<SHA256>

    init(key: SymmetricKey) {
        self.key = key
        keyed = HMAC<SHA256>(key: key)
    }

    enum LoadError: Error, CustomStringConvertible {
        case unreadable(String, String)
        case conflicting(String)
        /// PostgreSQL: another process recorded a different key's check in this database.
        case mismatched(String)

        var description: String {
            switch self {
            case let .unreadable(file, why): "cannot use the erasure key file \(file): \(why)"
            case let .conflicting(file): "the database still holds an erasure key that differs from \(file); restore the original file"
            case let .mismatched(file): "the erasure key in \(file) is not the one this database's erasures use; give every node the same secrets.erasure_key_file"
            }
        }
    }

    /// Reads `file`; on first use moves the key older databases kept in `meta` there (then deletes it from the
    /// database), or generates one.
    static func load(file: String, pool: DatabasePool) throws -> ErasureKey {
        let legacy = try pool.read { db in try String.fetchOne(db, sql: SQL.erasureKey) }
        var hex: String
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            hex = text.trimmingCharacters(in: .whitespacesAndNewlines)
            // A key the database generated itself (a new database, an old one without erasures) is simply dropped;
            // one that keyed existing erasure hashes must not be silently replaced.
            if let legacy, legacy != hex, try pool.read({ db in try Bool.fetchOne(db, sql: SQL.hasErasures) ?? false }) {
                throw LoadError.conflicting(file)
            }
        } else if FileManager.default.fileExists(atPath: file) {
            throw LoadError.unreadable(file, "not readable")
        } else {
            hex = legacy ?? Hex.string(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
            try write(hex, to: file)
        }
        guard let bytes = Hex.bytes(hex), bytes.count >= 16 else { throw LoadError.unreadable(file, "expected at least 32 hexadecimal digits") }
        if legacy != nil { try pool.write { db in try db.execute(sql: SQL.deleteLegacyErasureKey) } }
        return ErasureKey(key: SymmetricKey(data: bytes))
    }

    /// Reads `file`, or generates a key there (PostgreSQL's store: no key ever lived in its database).
    static func loadOrCreate(file: String) throws -> ErasureKey {
        let hex: String
        if let text = try? String(contentsOfFile: file, encoding: .utf8) {
            hex = text.trimmingCharacters(in: .whitespacesAndNewlines)
        } else if FileManager.default.fileExists(atPath: file) {
            throw LoadError.unreadable(file, "not readable")
        } else {
            hex = Hex.string(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
            try write(hex, to: file)
        }
        guard let bytes = Hex.bytes(hex), bytes.count >= 16 else { throw LoadError.unreadable(file, "expected at least 32 hexadecimal digits") }
        return ErasureKey(key: SymmetricKey(data: bytes))
    }

    /// Written with mode 0600 and fsynced before the database forgets its copy.
    private static func write(_ hex: String, to file: String) throws {
        let folder = URL(fileURLWithPath: file).deletingLastPathComponent().path
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let fd = open(file, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw LoadError.unreadable(file, String(cString: strerror(errno))) }
        defer { close(fd) }
        let bytes = Array((hex + "\n").utf8)
        guard Foundation.write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw LoadError.unreadable(file, String(cString: strerror(errno)))
        }
    }

    /// `erased:` + hex HMAC of the address key; formatted by hand (Foundation's `String(format:)` dominated imports).
    func hash(_ emailKey: String) -> String {
        var mac = keyed
        var bytes = emailKey
        bytes.withUTF8 { mac.update(data: UnsafeRawBufferPointer($0)) }
        return "erased:" + Hex.string(mac.finalize())
    }
}

/// Lowercase hexadecimal, by hand: fast on hot paths.
enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    static func string<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func bytes(_ hex: String) -> [UInt8]? {
        let u = Array(hex.utf8)
        guard u.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: c - 48
            case 97...102: c - 87
            case 65...70: c - 55
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(u.count / 2)
        for i in stride(from: 0, to: u.count, by: 2) {
            guard let hi = nibble(u[i]), let lo = nibble(u[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
        }
        return out
    }
}
