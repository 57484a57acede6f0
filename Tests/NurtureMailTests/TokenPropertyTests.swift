import Foundation
@testable import NurtureSigning
import Testing

/// The token verifier as a property-based fuzz target (it needs swift-crypto, which the libFuzzer build leaves
/// out): random and mutated texts verify only if they are exactly a token the key signed, for that purpose.
/// `NURTURE_PROPERTY_RUNS` sets the number of inputs (`make fuzz` raises it).
struct TokenPropertyTests {
    static let runs = Int(ProcessInfo.processInfo.environment["NURTURE_PROPERTY_RUNS"] ?? "") ?? 20_000

    @Test func aTokenVerifiesOnlyIfItWasSigned() {
        let signer = TokenSigner(keys: [Data(repeating: 7, count: 32), Data(repeating: 8, count: 32)])
        var rng = SeededGenerator(state: 0x5EED)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.%\u{0}é")
        let purposes: [TokenPurpose] = [.open, .click, .unsubscribe]
        var accepted = 0
        for _ in 0..<Self.runs {
            let real = LinkToken(purpose: purposes.randomElement(using: &rng)!, outboxID: Int64.random(in: 0...Int64.max, using: &rng),
                                 link: UInt16.random(in: 0...UInt16.max, using: &rng))
            var text = Array(signer.sign(real))
            switch Int.random(in: 0..<5, using: &rng) {
            case 0: text = (0..<Int.random(in: 0...60, using: &rng)).map { _ in alphabet.randomElement(using: &rng)! }
            case 1: text[Int.random(in: 0..<text.count, using: &rng)] = alphabet.randomElement(using: &rng)!
            case 2: text.remove(at: Int.random(in: 0..<text.count, using: &rng))
            case 3: text.insert(alphabet.randomElement(using: &rng)!, at: Int.random(in: 0...text.count, using: &rng))
            default: break // unchanged: must verify
            }
            let candidate = String(text)
            for purpose in purposes {
                guard let token = signer.verify(candidate, purpose: purpose) else { continue }
                accepted += 1
                // Verified means: this exact text is what the key signs for this token and purpose.
                #expect(token.purpose == purpose && signer.sign(token) == candidate, "\(candidate.debugDescription) verified as \(token)")
            }
        }
        #expect(accepted >= Self.runs / 5 - Self.runs / 50, "the unchanged fifth must verify: \(accepted)")
    }
}
