/// Zone-file text (RFC 1035 §5.1): TXT values over 255 bytes split into several quoted strings, as DNS requires.
enum DNSZone {
    static func txt(name: String, value: String) -> String {
        var chunks: [String] = []
        var rest = Substring(value)
        while !rest.isEmpty {
            chunks.append(String(rest.prefix(255)))
            rest = rest.dropFirst(255)
        }
        let quoted = chunks.map { "\"" + $0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
        return quoted.count == 1 ? "\(name) IN TXT \(quoted[0])" : "\(name) IN TXT ( " + quoted.joined(separator: "\n    ") + " )"
    }
}
