import Crypto
import Foundation

/// Names content by its SHA-256: a sequence's version is the digest of its file and its templates.
public enum ContentDigest {
    /// The first `length` hex digits of the SHA-256 of `parts`, each followed by a NUL (so parts never run together).
    public static func hex(_ parts: [[UInt8]], length: Int = 12) -> String {
        var hasher = SHA256()
        for p in parts {
            hasher.update(data: p)
            hasher.update(data: [0])
        }
        return String(hasher.finalize().map { String(format: "%02x", $0) }.joined().prefix(length))
    }
}
