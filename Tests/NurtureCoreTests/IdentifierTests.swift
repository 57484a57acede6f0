import NurtureCore
import Testing

/// Identifiers are checked byte by byte (a hot path of `lead import`); the rules stay the same.
struct IdentifierTests {
    @Test func namesAndStepIDsAcceptOnlyLowercaseASCIIDigitsAndTheirSeparator() {
        #expect(Identifier.isName("marketing_manager2"))
        #expect(Identifier.isStepID("case-study-2"))
        for bad in ["", "_x", "Cto", "é", "a-b", "a b", String(repeating: "a", count: 65)] { #expect(!Identifier.isName(bad), "\(bad)") }
        #expect(Identifier.isName(String(repeating: "a", count: 64)))
        #expect(!Identifier.isStepID("-a"))
        #expect(!Identifier.isStepID("a_b"))
    }
}
