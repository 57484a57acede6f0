import FuzzDriver
import Foundation
import NurtureAuthoring

/// CSV reader. Invariants: it ends; every record either parses or names its line; lines rise and stay within
/// the file; a record that parses, exported through CSVWriter, reads back the same.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Data(UnsafeBufferPointer(start: data, count: size))
    let lineCount = bytes.reduce(1) { $0 + ($1 == 10 ? 1 : 0) }
    var reader = CSVReader(data: bytes)
    var last = 0, records = 0
    while let next = reader.next() {
        records += 1
        precondition(records <= size + 1, "more records than bytes")
        let line: Int
        switch next {
        case .success(let r):
            line = r.line
            // One empty cell exports as an empty line, which readers skip: nothing to round-trip.
            guard r.fields != [""] else { break }
            // Written back the way exports write (CSVWriter), it reads back the same, but for the formula guard's '.
            let encoded = r.fields.map(CSVWriter.cell).joined(separator: ",") + "\n"
            var again = CSVReader(data: Data(encoded.utf8))
            guard case .success(let back)? = again.next() else { preconditionFailure("an exported record does not parse: \(encoded.debugDescription)") }
            precondition(back.fields.count == r.fields.count, "exported record has \(back.fields.count) fields, not \(r.fields.count)")
            for (b, f) in zip(back.fields, r.fields) {
                let guarded = f.unicodeScalars.first.map { "=+-@\t\r".unicodeScalars.contains($0) } ?? false
                precondition(b == (guarded ? "'" + f : f), "exported field \(f.debugDescription) reads back as \(b.debugDescription)")
            }
        case .failure(.invalidUTF8(let l, _)), .failure(.unterminatedQuote(let l)), .failure(.strayQuote(let l, _)):
            line = l
        }
        precondition(line >= 1 && line <= lineCount && line > last, "line \(line) after \(last) of \(lineCount)")
        last = line
    }
    return 0
}


@_cdecl("FuzzCSV_main")
func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt { FuzzDriver.run(argc, argv, fuzz) }
