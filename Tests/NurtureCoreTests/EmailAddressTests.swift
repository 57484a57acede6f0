import Testing
import NurtureCore

struct EmailAddressTests {
    @Test func normalisesSpacesAndDomainCase() throws {
        let a = try EmailAddress(validating: "  Ada.Lovelace+news@Example.COM ")
        #expect(a.value == "Ada.Lovelace+news@example.com")
        #expect(a.key == "ada.lovelace+news@example.com")
        #expect(a.domain == "example.com")
        #expect(a.localPart == "Ada.Lovelace+news")
    }

    @Test(arguments: [
        "a@x.com\r\nRCPT TO:<evil@x.example>", "a@x.com\n", "a\0b@x.com", "a\tb@x.com", "bob\u{7F}@x.com",
    ])
    func refusesControlCharacters(_ raw: String) {
        #expect(throws: EmailAddress.Problem.controlCharacter) { try EmailAddress(validating: raw) }
    }

    @Test(arguments: [
        "", "plain", "a@@x.com", "a@b@x.com", "@x.com", "a@", ".a@x.com", "a.@x.com", "a..b@x.com",
        "a b@x.com", "\"a\"@x.com", "a<b@x.com", "a,b@x.com", "a@x", "a@-x.com", "a@x-.com", "a@x..com",
        "a@[127.0.0.1]", "a@x.123", "é@x.com", "a@exämple.com", "Bob <bob@x.com>",
        String(repeating: "a", count: 65) + "@x.com",
    ])
    func refusesMalformed(_ raw: String) {
        #expect(throws: EmailAddress.Problem.self) { try EmailAddress(validating: raw) }
    }

    @Test(arguments: ["a@x.co", "first.last@sub.example.org", "o'brien@x.ie", "x+tag@x.com", "a_b-c@x-y.example", "1@2.fr"])
    func accepts(_ raw: String) throws {
        #expect(try EmailAddress(validating: raw).value == raw)
    }
}
