import Foundation
import NurtureCore
import Testing
@testable import NurtureMail

struct QuotedPrintableTests {
    @Test func encodesPerRFC2045WithCRLF() {
        #expect(QuotedPrintable.encode("Hello = world") == "Hello =3D world")
        #expect(QuotedPrintable.encode("trailing space \nnext") == "trailing space=20\r\nnext")
        #expect(QuotedPrintable.encode("a\r\nb\rc\nd") == "a\r\nb\r\nc\r\nd")
        #expect(QuotedPrintable.encode("café") == "caf=C3=A9")
        #expect(QuotedPrintable.encode(".\nFrom here\n.x") == "=2E\r\n=46rom here\r\n=2Ex")
    }

    @Test func linesNeverExceed76AndDecodeBack() {
        let text = String(repeating: "é", count: 300) + "\n" + String(repeating: "a", count: 500) + " \n=end"
        let encoded = QuotedPrintable.encode(text)
        #expect(encoded.split(separator: "\r\n", omittingEmptySubsequences: false).allSatisfy { $0.utf8.count <= 76 })
        #expect(decode(encoded) == text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    /// A minimal decoder for the test's own check (soft breaks, =XX).
    func decode(_ s: String) -> String {
        var bytes: [UInt8] = []
        let u = Array(s.replacingOccurrences(of: "=\r\n", with: "").utf8)
        var i = 0
        while i < u.count {
            if u[i] == UInt8(ascii: "="), i + 2 < u.count, let b = UInt8(String(decoding: u[i + 1...i + 2], as: UTF8.self), radix: 16) {
                bytes.append(b)
                i += 3
            } else {
                bytes.append(u[i])
                i += 1
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

struct HeaderTextTests {
    @Test func encodedWordsNeverSplitACharacterAndStayShort() {
        let words = HeaderText.encodedWords(String(repeating: "👩‍💻é", count: 40))
        for w in words {
            #expect(w.count <= 64 && w.hasPrefix("=?UTF-8?B?") && w.hasSuffix("?="))
            let payload = String(w.dropFirst(10).dropLast(2))
            #expect(String(data: Data(base64Encoded: payload)!, encoding: .utf8) != nil) // whole characters only
        }
    }

    @Test func phrasesAreQuotedOrEncoded() {
        #expect(HeaderText.phrase("Ada Lovelace") == "Ada Lovelace")
        #expect(HeaderText.phrase("Dubois, Claire") == "\"Dubois, Claire\"")
        #expect(HeaderText.phrase("Say \"hi\" \\ o/") == "\"Say \\\"hi\\\" \\\\ o/\"")
        #expect(HeaderText.phrase("Zoë").hasPrefix("=?UTF-8?B?"))
    }

    @Test func controlCharactersBecomeSpaces() {
        #expect(HeaderText.safe("a\r\nBcc: x\0y") == "a  Bcc: x y")
    }
}

struct MIMEBuilderTests {
    func message(subject: String = "Hi", toName: String? = nil) throws -> MailMessage {
        MailMessage(fromName: "Acme", from: try EmailAddress(validating: "a@example.com"), toName: toName,
                    to: try EmailAddress(validating: "b@example.com"), replyTo: nil, subject: subject,
                    date: Date(timeIntervalSince1970: 1_800_000_000), messageID: "<1.s.x@example.com>",
                    unsubscribeURL: "https://m.example.com/u/T", text: "t", html: "<p>h</p>")
    }

    @Test func sameSendEncodesToTheSameBytes() throws {
        #expect(MIMEBuilder.build(try message()) == MIMEBuilder.build(try message()))
    }

    @Test func dateIsRFC5322InEnglishWhateverTheLocale() {
        #expect(MIMEBuilder.rfc5322Date(Date(timeIntervalSince1970: 1_800_000_000)) == "Fri, 15 Jan 2027 08:00:00 +0000")
    }

    @Test func headersAreOneOfEachAndCRLFOnly() throws {
        let bytes = MIMEBuilder.build(try message(subject: "Line\r\nBcc: evil@example.com", toName: "Bob\nCc: x@y.z"))
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(!text.replacingOccurrences(of: "\r\n", with: "").contains("\n"))
        let head = text.components(separatedBy: "\r\n\r\n")[0]
        let names = head.split(separator: "\r\n").filter { !$0.hasPrefix(" ") }.map { $0.split(separator: ":")[0] }
        #expect(names == ["From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "List-Unsubscribe", "List-Unsubscribe-Post", "Content-Type"])
    }
}
