/// A validated, normalised mailbox address, safe to put in a header or the SMTP envelope.
///
/// Only dot-atom local parts and hostname domains are accepted: no quoting, comments, domain literals or
/// non-ASCII, so CR/LF, `<`, `>` and `,` can never reach libcurl's `MAIL_RCPT` or a header.
public struct EmailAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Local part as given, domain lowercased.
    public let value: String
    /// Lowercased whole address: what uniqueness and suppression compare.
    public var key: String { value.lowercased() }
    public var localPart: Substring { value[..<value.lastIndex(of: "@")!] }
    public var domain: Substring { value[value.index(after: value.lastIndex(of: "@")!)...] }

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case empty
        case controlCharacter
        case nonASCII
        case missingAt
        case badLocalPart(String)
        case badDomain(String)

        public var description: String {
            switch self {
            case .empty: "address is empty"
            case .controlCharacter: "address contains a control character (CR, LF, NUL, tab, …)"
            case .nonASCII: "address contains non-ASCII characters (internationalised addresses are not supported)"
            case .missingAt: "address must contain exactly one @"
            case .badLocalPart(let why): "bad local part: \(why)"
            case .badDomain(let why): "bad domain: \(why)"
            }
        }
    }

    /// Trims surrounding spaces, lowercases the domain, and refuses anything that is not a plain address.
    /// Works on bytes (every address is checked again on the delivery path): only ASCII can pass anyway.
    public init(validating raw: String) throws(Problem) {
        let all = Array(raw.utf8)
        var start = 0, end = all.count
        while start < end, all[start] == 0x20 { start += 1 }
        while end > start, all[end - 1] == 0x20 { end -= 1 }
        let bytes = all[start..<end]
        guard !bytes.isEmpty else { throw .empty }
        if bytes.contains(where: { $0 < 0x20 || $0 == 0x7F }) { throw .controlCharacter }
        guard !bytes.contains(where: { $0 >= 0x80 }) else { throw .nonASCII }
        let parts = bytes.split(separator: 0x40, omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .missingAt }
        let local = parts[0], domain = parts[1].map { (0x41...0x5A).contains($0) ? $0 + 32 : $0 }
        try Self.checkLocal(local)
        try Self.checkDomain(domain[...])
        value = String(decoding: local, as: UTF8.self) + "@" + String(decoding: domain, as: UTF8.self)
    }

    /// RFC 5322 atext, by byte.
    private static let atext: [Bool] = {
        var table = [Bool](repeating: false, count: 128)
        for b in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-".utf8 { table[Int(b)] = true }
        return table
    }()

    private static func checkLocal(_ local: ArraySlice<UInt8>) throws(Problem) {
        guard !local.isEmpty else { throw .badLocalPart("it is empty") }
        guard local.count <= 64 else { throw .badLocalPart("longer than 64 characters") }
        let dotsSeparate = local.first != 0x2E && local.last != 0x2E && !zip(local, local.dropFirst()).contains { $0 == 0x2E && $1 == 0x2E }
        guard dotsSeparate else { throw .badLocalPart("dots must separate words") }
        if let bad = local.first(where: { $0 != 0x2E && !atext[Int($0)] }) {
            throw .badLocalPart("character '\(Character(Unicode.Scalar(bad)))' is not allowed")
        }
    }

    private static func checkDomain(_ domain: ArraySlice<UInt8>) throws(Problem) {
        guard !domain.isEmpty else { throw .badDomain("it is empty") }
        guard domain.count <= 253 else { throw .badDomain("longer than 253 characters") }
        let labels = domain.split(separator: 0x2E, omittingEmptySubsequences: false)
        guard labels.count >= 2 else { throw .badDomain("'\(String(decoding: domain, as: UTF8.self))' has no dot") }
        func isDigit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) }
        for label in labels {
            guard !label.isEmpty, label.count <= 63 else { throw .badDomain("empty or over-long label") }
            guard label.first != 0x2D, label.last != 0x2D,
                  label.allSatisfy({ (0x61...0x7A).contains($0) || isDigit($0) || $0 == 0x2D }) else {
                throw .badDomain("label '\(String(decoding: label, as: UTF8.self))' is not a host name")
            }
        }
        if labels.last!.allSatisfy(isDigit) { throw .badDomain("top-level label is numeric") }
    }

    public var description: String { value }
    public static func < (a: EmailAddress, b: EmailAddress) -> Bool { a.value < b.value }
}
