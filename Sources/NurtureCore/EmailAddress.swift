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
    public init(validating raw: String) throws(Problem) {
        let trimmed = raw.trimmingCharacters(in: " ")
        guard !trimmed.isEmpty else { throw .empty }
        if trimmed.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) { throw .controlCharacter }
        guard trimmed.unicodeScalars.allSatisfy(\.isASCII) else { throw .nonASCII }
        let parts = trimmed.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .missingAt }
        let local = parts[0], domain = parts[1].lowercased()
        try Self.checkLocal(local)
        try Self.checkDomain(domain)
        value = "\(local)@\(domain)"
    }

    private static let atext = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~-")

    private static func checkLocal(_ local: Substring) throws(Problem) {
        guard !local.isEmpty else { throw .badLocalPart("it is empty") }
        guard local.count <= 64 else { throw .badLocalPart("longer than 64 characters") }
        guard local.first != ".", local.last != ".", !local.contains("..") else {
            throw .badLocalPart("dots must separate words")
        }
        if let bad = local.first(where: { $0 != "." && !atext.contains($0) }) {
            throw .badLocalPart("character '\(bad)' is not allowed")
        }
    }

    private static func checkDomain(_ domain: String) throws(Problem) {
        guard !domain.isEmpty else { throw .badDomain("it is empty") }
        guard domain.count <= 253 else { throw .badDomain("longer than 253 characters") }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { throw .badDomain("'\(domain)' has no dot") }
        for label in labels {
            guard !label.isEmpty, label.count <= 63 else { throw .badDomain("empty or over-long label") }
            guard label.first != "-", label.last != "-",
                  label.allSatisfy({ ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }) else {
                throw .badDomain("label '\(label)' is not a host name")
            }
        }
        if labels.last!.allSatisfy(\.isNumber) { throw .badDomain("top-level label is numeric") }
    }

    public var description: String { value }
    public static func < (a: EmailAddress, b: EmailAddress) -> Bool { a.value < b.value }
}
