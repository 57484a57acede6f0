import Foundation

/// RFC 4180 CSV over raw bytes: quoted fields, doubled quotes, CRLF or LF, newlines inside quotes.
/// Each record carries the line it starts on, so errors can name it; bytes are checked as UTF-8 per field.
public struct CSVReader: Sendable {
    public struct Record: Sendable {
        /// 1-based physical line where the record starts.
        public var line: Int
        public var fields: [String]
    }

    public enum RecordError: Error, Sendable {
        case invalidUTF8(line: Int, column: Int)
        case unterminatedQuote(line: Int)
        /// A quote where RFC 4180 allows none: text after a closing quote (`"a"x`), or a quote inside an unquoted field.
        case strayQuote(line: Int, column: Int)
    }

    /// Kept as given (memory-mapped for files), never copied: a 1 GB import should not need 2 GB.
    let data: Data
    let delimiter: UInt8
    public private(set) var offset: Int
    private var line = 1

    public init(data: Data, delimiter: UInt8 = UInt8(ascii: ",")) {
        self.data = data
        self.delimiter = delimiter
        self.offset = data.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    }

    public var byteCount: Int { data.count }

    /// The next record, nil at the end; a bad record is returned as an error and reading goes on after it.
    public mutating func next() -> Result<Record, RecordError>? {
        data.withUnsafeBytes { raw in next(in: raw.bindMemory(to: UInt8.self)) }
    }

    private mutating func next(in bytes: UnsafeBufferPointer<UInt8>) -> Result<Record, RecordError>? {
        // Skip blank lines between records.
        while offset < bytes.count, bytes[offset] == 0x0A || bytes[offset] == 0x0D {
            if bytes[offset] == 0x0A { line += 1 }
            offset += 1
        }
        guard offset < bytes.count else { return nil }
        let startLine = line
        var fields: [String] = []
        var field: [UInt8] = []
        var badUTF8: Int?
        func finish() {
            if let s = String(validating: field, as: UTF8.self) {  // one check per field: malformed bytes never crash
                fields.append(s)
            } else {
                if badUTF8 == nil { badUTF8 = fields.count + 1 }
                fields.append("")
            }
            field.removeAll(keepingCapacity: true)
        }
        var quoted = false, wasQuoted = false
        var strayQuote: Int?
        func result() -> Result<Record, RecordError> {
            if let column = strayQuote { return .failure(.strayQuote(line: startLine, column: column)) }
            return badUTF8.map { .failure(.invalidUTF8(line: startLine, column: $0)) } ?? .success(Record(line: startLine, fields: fields))
        }
        while offset < bytes.count {
            let b = bytes[offset]
            if quoted {
                if b == 0x22 {
                    if offset + 1 < bytes.count, bytes[offset + 1] == 0x22 {
                        field.append(0x22)
                        offset += 2
                        continue
                    }
                    quoted = false
                } else {
                    if b == 0x0A { line += 1 }
                    field.append(b)
                }
                offset += 1
                continue
            }
            switch b {
            case 0x22 where field.isEmpty && !wasQuoted:
                quoted = true
                wasQuoted = true
            case delimiter:
                finish()
                wasQuoted = false
            case 0x0D where offset + 1 < bytes.count && bytes[offset + 1] == 0x0A:
                break
            case 0x0A:
                offset += 1
                line += 1
                finish()
                return result()
            default:
                // Once a quoted field closes only a separator or the line's end may follow; an unquoted field has no quote.
                if wasQuoted || b == 0x22, strayQuote == nil { strayQuote = fields.count + 1 }
                field.append(b)
            }
            offset += 1
        }
        if quoted { return .failure(.unterminatedQuote(line: startLine)) }
        finish()
        return result()
    }
}
