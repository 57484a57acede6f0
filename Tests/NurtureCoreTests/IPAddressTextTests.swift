import Testing
@testable import NurtureCore

/// `consent_ip` must be an address someone could have connected from.
struct IPAddressTextTests {
    @Test(arguments: ["203.0.113.7", "0.0.0.0", "255.255.255.255", "::1", "::", "2001:db8::1", "fe80::1:2:3:4",
                      "1:2:3:4:5:6:7:8", "::ffff:192.0.2.1", "64:ff9b::192.0.2.33", "1:2:3:4:5:6:192.0.2.1"])
    func addressesAreAccepted(_ ip: String) { #expect(IPAddressText.isValid(ip)) }

    @Test(arguments: ["999.1.1.1", "1.2.3", "1.2.3.4.5", "01.2.3.4", "1.2.3.", "", ":", ":::", "1::2::3", "12345::1",
                      "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "g::1", "::1.2.3", "1.2.3.4::", "abc"])
    func nonAddressesAreRefused(_ ip: String) { #expect(!IPAddressText.isValid(ip)) }
}
