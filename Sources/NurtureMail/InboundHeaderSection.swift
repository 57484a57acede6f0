import Foundation

/// An inbound message's (or part's) header fields, unfolded, read the way RFC 5322 says and real mailers write:
/// only LF ends a line (a bare CR is a space, so it can never start a forged header), names are case-insensitive,
/// and the section ends at the first empty line or at the first line that is not a field.
struct InboundHeaderSection: Sendable {
    struct Field: Sendable {
        /// Lower-cased.
        let name: String
        /// Unfolded, with no CR or LF; still raw (8-bit bytes and encoded-words as sent).
        let value: [UInt8]
    }

    private(set) var fields: [Field] = []
    private var index: [String: [Int]] = [:]

    /// Parses the header section at the start of `bytes`; returns it and where the body starts (an index of `bytes`).
    static func parse(_ bytes: ArraySlice<UInt8>) -> (InboundHeaderSection, bodyStart: Int) {
        var section = InboundHeaderSection()
        var pos = bytes.startIndex
        let end = bytes.endIndex
        var name: String?
        var value: [UInt8] = []
        func finish() {
            if let n = name { section.append(Field(name: n, value: value)) }
            name = nil
            value = []
        }
        while pos < end {
            let lf = nextLF(bytes, from: pos)
            var contentEnd = lf
            if contentEnd > pos, bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
            let next = lf < end ? lf + 1 : end
            if contentEnd == pos { // the empty line
                finish()
                return (section, next)
            }
            let first = bytes[pos]
            if first == 0x20 || first == 0x09 {
                if name != nil { appendValue(bytes[pos..<contentEnd], to: &value) }
                pos = next
                continue
            }
            guard let colon = fieldNameEnd(bytes[pos..<contentEnd]) else { // a body without the blank line
                finish()
                return (section, pos)
            }
            finish()
            var nameEnd = colon
            while nameEnd > pos, bytes[nameEnd - 1] == 0x20 || bytes[nameEnd - 1] == 0x09 { nameEnd -= 1 }
            name = String(decoding: bytes[pos..<nameEnd], as: UTF8.self).lowercased()
            appendValue(bytes[(colon + 1)..<contentEnd], to: &value)
            pos = next
        }
        finish()
        return (section, end)
    }

    /// The colon's index when the line starts with a field name (printable ASCII but `:`, then optional white space).
    static func fieldNameEnd(_ line: ArraySlice<UInt8>) -> Int? {
        var i = line.startIndex
        while i < line.endIndex, line[i] >= 33, line[i] <= 126, line[i] != UInt8(ascii: ":") { i += 1 }
        guard i > line.startIndex else { return nil }
        var j = i
        while j < line.endIndex, line[j] == 0x20 || line[j] == 0x09 { j += 1 }
        return j < line.endIndex && line[j] == UInt8(ascii: ":") ? j : nil
    }

    /// The index of the next LF at or after `from`, else `bytes.endIndex` (memchr: large bodies are scanned by line).
    static func nextLF(_ bytes: ArraySlice<UInt8>, from: Int) -> Int {
        let start = bytes.startIndex, end = bytes.endIndex
        return bytes.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) -> Int in
            let offset = from - start
            guard offset < buffer.count, let base = buffer.baseAddress else { return end }
            guard let hit = memchr(UnsafeRawPointer(base + offset), 0x0A, buffer.count - offset) else { return end }
            return start + (UnsafeRawPointer(hit) - UnsafeRawPointer(base))
        }
    }

    private static func appendValue(_ line: ArraySlice<UInt8>, to value: inout [UInt8]) {
        value.reserveCapacity(value.count + line.count)
        for b in line { value.append(b == 0x0D ? 0x20 : b) }
    }

    private mutating func append(_ field: Field) {
        index[field.name, default: []].append(fields.count)
        fields.append(field)
    }

    var isEmpty: Bool { fields.isEmpty }

    func contains(_ name: String) -> Bool { index[name] != nil }

    /// Every value of the field, top first (the order Received and Delivered-To are stacked in).
    func values(_ name: String) -> [[UInt8]] { (index[name] ?? []).map { fields[$0].value } }

    func first(_ name: String) -> [UInt8]? { index[name].map { fields[$0[0]].value } }

    /// A structured field's first value as text: UTF-8 (invalid bytes U+FFFD), control characters as spaces, trimmed.
    func text(_ name: String) -> String? { first(name).map { Self.text($0) } }

    static func text(_ value: some Collection<UInt8>) -> String {
        EncodedWordDecoder.sanitized(String(decoding: value, as: UTF8.self)).trimmingCharacters(in: .whitespaces)
    }

    /// An unstructured field's first value (Subject), RFC 2047 decoded, on one line, trimmed; only its first 16 KB
    /// are read (a subject is for people and patterns, and a hostile one can be megabytes long).
    func unstructured(_ name: String) -> String? {
        first(name).map { EncodedWordDecoder.decode($0.prefix(16_384)).trimmingCharacters(in: .whitespaces) }
    }
}
