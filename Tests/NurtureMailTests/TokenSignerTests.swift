import Foundation
@testable import NurtureSigning
import Testing

struct TokenSignerTests {
    let signer = TokenSigner(keys: [Data(repeating: 1, count: 32)])

    @Test func roundTripsAndIsCompact() {
        let token = LinkToken(purpose: .click, outboxID: 123_456_789, link: 7)
        let text = signer.sign(token)
        #expect(text.count == TokenSigner.tokenLength)
        #expect(text.allSatisfy { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" })
        #expect(signer.verify(text, purpose: .click) == token)
    }

    @Test func forgedTruncatedFlippedCrossPurposeAndOversizedTokensAreRefused() {
        let text = signer.sign(LinkToken(purpose: .unsubscribe, outboxID: 42))
        #expect(signer.verify(text, purpose: .open) == nil)                                  // cross-purpose
        #expect(signer.verify(String(text.dropLast()), purpose: .unsubscribe) == nil)        // truncated
        #expect(signer.verify(text + "A", purpose: .unsubscribe) == nil)                     // oversized
        #expect(signer.verify(String(repeating: "A", count: 5_000), purpose: .unsubscribe) == nil)
        for i in text.indices {                                                               // every single-character change
            for replacement in ["A", "z", "-"] where String(text[i]) != replacement {
                var flipped = text
                flipped.replaceSubrange(i...i, with: replacement)
                if let t = signer.verify(flipped, purpose: .unsubscribe) { #expect(t.outboxID == 42, "\(flipped) verified as \(t)") }
            }
        }
        let other = TokenSigner(keys: [Data(repeating: 2, count: 32)])
        #expect(other.verify(text, purpose: .unsubscribe) == nil)                            // another key
        #expect(signer.verify("not a token at all!!!!!!!!!!!!!!!!!!!!", purpose: .unsubscribe) == nil)
    }

    @Test func rotationAcceptsThePreviousKeyAndSignsWithTheNewOne() {
        let old = TokenSigner(keys: [Data(repeating: 1, count: 32)])
        let rotated = TokenSigner(keys: [Data(repeating: 9, count: 32), Data(repeating: 1, count: 32)])
        let issuedBefore = old.sign(LinkToken(purpose: .unsubscribe, outboxID: 5))
        #expect(rotated.verify(issuedBefore, purpose: .unsubscribe)?.outboxID == 5)
        let issuedAfter = rotated.sign(LinkToken(purpose: .unsubscribe, outboxID: 6))
        #expect(old.verify(issuedAfter, purpose: .unsubscribe) == nil)
        #expect(TokenSigner(keys: [Data(repeating: 9, count: 32)]).verify(issuedAfter, purpose: .unsubscribe)?.outboxID == 6)
    }

    @Test func keyFilesAreValidated() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)").path
        try TokenSigner.generateKeyFile(at: dir + "/token.key")
        let attributes = try FileManager.default.attributesOfItem(atPath: dir + "/token.key")
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        _ = try TokenSigner.load(file: dir + "/token.key")
        try "c2hvcnQ=\n".write(toFile: dir + "/short.key", atomically: true, encoding: .utf8)
        #expect(throws: TokenSigner.KeyError.self) { try TokenSigner.load(file: dir + "/short.key") }
    }
}

struct Base64URLTests {
    @Test func roundTripsEveryLengthAndRefusesOtherCharacters() {
        for length in 0..<40 {
            let bytes = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ length) }
            let text = Base64URL.encode(bytes)
            #expect(!text.contains("=") && !text.contains("+") && !text.contains("/"))
            #expect(Base64URL.decode(text) == bytes, "length \(length)")
        }
        #expect(Base64URL.decode("ab+c") == nil)
        #expect(Base64URL.decode("abc=") == nil)
        #expect(Base64URL.decode("A") == nil)   // one character encodes nothing whole
        #expect(Base64URL.decode("AA") == [0])
        #expect(Base64URL.decode("AB") == nil)  // non-zero padding bits: not what an encoder writes
    }
}
