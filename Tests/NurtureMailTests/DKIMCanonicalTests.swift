import Testing
@testable import NurtureMail

/// The body canonicalisation copies clean lines whole: it must agree, byte for byte, with RFC 6376 §3.4.4 read
/// literally (this reference), on bodies made of the characters that matter.
struct DKIMCanonicalTests {
    /// §3.4.4 step by step: per line, white space runs become one space, trailing white space goes; then empty
    /// lines at the end go; a non-empty result ends in CRLF.
    static func reference(_ body: [UInt8]) -> [UInt8] {
        var lines: [[UInt8]] = []
        var line: [UInt8] = []
        var i = 0
        while i < body.count {
            if body[i] == 0x0D, i + 1 < body.count, body[i + 1] == 0x0A {
                lines.append(line)
                line = []
                i += 2
                continue
            }
            line.append(body[i])
            i += 1
        }
        if !line.isEmpty { lines.append(line) }
        var canonical = lines.map { l -> [UInt8] in
            var out: [UInt8] = []
            var space = false
            for b in l {
                if b == 0x20 || b == 0x09 { space = true; continue }
                if space { out.append(0x20) }
                space = false
                out.append(b)
            }
            return out
        }
        while let last = canonical.last, last.isEmpty { canonical.removeLast() }
        return canonical.flatMap { $0 + [0x0D, 0x0A] }
    }

    @Test func theBodyCanonicalisationAgreesWithTheLiteralReadingOfTheRFCOnRandomBodies() {
        var rng = SeededGenerator(state: 6376)
        let alphabet: [UInt8] = [0x20, 0x20, 0x09, 0x0D, 0x0A, 0x0D, 0x0A, 0x61, 0x62, 0x2E, 0x3D]
        for _ in 0..<20_000 {
            let length = Int(rng.next() % 40)
            let body = (0..<length).map { _ in alphabet[Int(rng.next() % UInt64(alphabet.count))] }
            #expect(DKIMCanonical.body(body[...]) == Self.reference(body), "body \(body)")
        }
    }

    @Test func headerNamesAreMatchedWithoutCaseOrSurroundingWhiteSpace() {
        #expect(DKIMCanonical.name(Array(" List-Unsubscribe-POST :x".utf8)[...]) == "list-unsubscribe-post")
        #expect(DKIMCanonical.name(Array("From: a".utf8)[...]) == "from")
    }
}
