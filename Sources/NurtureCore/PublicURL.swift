/// `http.public_url`, checked strictly: every tracking and unsubscribe link is this text plus `/o/`, `/c/` or
/// `/u/` and a token, inserted into HTML attributes and the `List-Unsubscribe` header, so it may hold only
/// characters that need no escaping there, and nothing (query, fragment) that would keep the token from the server.
public struct PublicURL: Hashable, Sendable {
    /// Without a trailing slash: `https://mail.example.com/nurture`.
    public var text: String
    public var scheme: String
    public var host: String
    public var port: Int?
    /// `""` or `/nurture`: where the HTTP server's routes sit behind a proxy.
    public var path: String

    public static let maxLength = 200

    /// Not loopback, not HTTPS: mail clients refuse RFC 8058 one-click unsubscribe over plain HTTP.
    public var isPlainHTTPOnTheInternet: Bool {
        scheme == "http" && !["localhost", "127.0.0.1", "[::1]"].contains(host) && !host.hasPrefix("127.")
    }

    public enum Problem: Error, Equatable, Sendable, CustomStringConvertible {
        case tooLong, scheme, userInfo, host, port, path, queryOrFragment
        public var description: String {
            switch self {
            case .tooLong: "it is longer than \(PublicURL.maxLength) characters"
            case .scheme: "it must start with https:// or http://"
            case .userInfo: "it must not carry a user name or password"
            case .host: "its host must be a DNS name, an IPv4 address or a bracketed IPv6 address"
            case .port: "its port must be a number from 1 to 65535"
            case .path: "its path may hold only letters, digits, '-', '.', '_', '~', '/' and %XX escapes"
            case .queryOrFragment: "it must not have a query (?) or a fragment (#): the links' tokens would not reach the server"
            }
        }
    }

    public static func parse(_ raw: String) -> Result<PublicURL, Problem> {
        guard raw.utf8.count <= maxLength else { return .failure(.tooLong) }
        let lower = raw.lowercased()
        let scheme: String
        if lower.hasPrefix("https://") { scheme = "https" } else if lower.hasPrefix("http://") { scheme = "http" } else { return .failure(.scheme) }
        let rest = Array(raw.utf8.dropFirst(scheme.count + 3))
        if rest.contains(UInt8(ascii: "?")) || rest.contains(UInt8(ascii: "#")) { return .failure(.queryOrFragment) }
        let slash = rest.firstIndex(of: UInt8(ascii: "/")) ?? rest.count
        let authority = Array(rest[..<slash])
        var path = Array(rest[slash...])
        if authority.contains(UInt8(ascii: "@")) { return .failure(.userInfo) }
        var hostBytes = authority, port: Int?
        if authority.first == UInt8(ascii: "[") {
            guard let close = authority.firstIndex(of: UInt8(ascii: "]")) else { return .failure(.host) }
            hostBytes = Array(authority[...close])
            let inner = authority[1..<close]
            guard !inner.isEmpty, inner.allSatisfy({ isHex($0) || $0 == UInt8(ascii: ":") || $0 == UInt8(ascii: ".") }) else { return .failure(.host) }
            let after = authority[(close + 1)...]
            if !after.isEmpty {
                guard after.first == UInt8(ascii: ":") else { return .failure(.host) }
                guard let p = parsePort(after.dropFirst()) else { return .failure(.port) }
                port = p
            }
        } else {
            if let colon = authority.firstIndex(of: UInt8(ascii: ":")) {
                hostBytes = Array(authority[..<colon])
                guard let p = parsePort(authority[(colon + 1)...]) else { return .failure(.port) }
                port = p
            }
            guard isDNSNameOrIPv4(hostBytes) else { return .failure(.host) }
        }
        var i = 0
        while i < path.count {
            let b = path[i]
            if b == UInt8(ascii: "%") {
                guard i + 2 < path.count, isHex(path[i + 1]), isHex(path[i + 2]) else { return .failure(.path) }
                i += 3
                continue
            }
            guard isAlphaNumeric(b) || "-._~/".utf8.contains(b) else { return .failure(.path) }
            i += 1
        }
        while path.last == UInt8(ascii: "/") { path.removeLast() }
        if path.count > 1, zip(path, path.dropFirst()).contains(where: { $0 == UInt8(ascii: "/") && $1 == UInt8(ascii: "/") }) {
            return .failure(.path)
        }
        let host = String(decoding: hostBytes, as: UTF8.self).lowercased()
        let pathText = String(decoding: path, as: UTF8.self)
        let text = scheme + "://" + host + (port.map { ":\($0)" } ?? "") + pathText
        return .success(PublicURL(text: text, scheme: scheme, host: host, port: port, path: pathText))
    }

    static func parsePort(_ digits: some Collection<UInt8>) -> Int? {
        guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
              let n = Int(String(decoding: digits, as: UTF8.self)), (1...65_535).contains(n) else { return nil }
        return n
    }

    static func isDNSNameOrIPv4(_ host: [UInt8]) -> Bool {
        guard !host.isEmpty, host.count <= 253 else { return false }
        let labels = host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != UInt8(ascii: "-") && label.last != UInt8(ascii: "-")
                && label.allSatisfy { isAlphaNumeric($0) || $0 == UInt8(ascii: "-") }
        }
    }

    static func isAlphaNumeric(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
    static func isHex(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) || (0x41...0x46).contains(b) || (0x61...0x66).contains(b) }
}
