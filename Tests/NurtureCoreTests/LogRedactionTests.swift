import NurtureCore
import Testing

/// Log lines never carry a lead's address (issue 12, item 11).
struct LogRedactionTests {
    @Test func addressesInRepliesAreMasked() {
        #expect(LogRedaction.addresses("550 5.1.1 <ada+tag@example.com>: Recipient address rejected")
                == "550 5.1.1 <<address>>: Recipient address rejected")
        #expect(LogRedaction.addresses("to bob@example.org, then carol@x.fr") == "to <address>, then <address>")
        #expect(LogRedaction.addresses("no address here; a lone @ stays") == "no address here; a lone @ stays")
        #expect(LogRedaction.addresses("") == "")
    }
}
