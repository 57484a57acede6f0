import Foundation
import Testing

/// `/api/v1/leads/{email}` reads the address percent-decoded exactly once, on every route.
extension ScoringAPITests {
    @Test func apiPathAddressesArePercentDecodedOnceOnEveryRoute() throws {
        let site = try Self.site()
        let serve = try site.project.start(["serve"])
        defer { serve.kill(SIGTERM); _ = serve.wait() }
        #expect(BoundedPoll.until(timeout: 30) { (try? site.http.get("/healthz").status) == 200 }, "\(serve.stderr())")
        let lead = #"{"email":"first+tag@example.com","persona":"cto","consent":{"source":"api:test"}}"#
        #expect(try site.api("POST", "/leads", json: lead).status == 201)

        // A bare '+' stays a plus; %2B, %2b and %40 decode; the hex digits' case does not matter.
        for path in ["first+tag@example.com", "first%2Btag@example.com", "first%2btag%40example.com", "first%2Btag%40Example.COM",
                     "%66irst%2Btag@example.com"] {
            let shown = try site.api("GET", "/leads/" + path)
            #expect(shown.status == 200 && (site.json(shown)["email"] as? String) == "first+tag@example.com", "\(path): \(shown.text)")
            #expect(try site.api("GET", "/leads/" + path + "/export").status == 200, "\(path)")
        }
        // Decoded once: %252B is the literal "%2B", which is not this lead.
        #expect(try site.api("GET", "/leads/first%252Btag@example.com").status == 404)

        let erased = try site.api("DELETE", "/leads/first%2Btag%40example.com")
        #expect(erased.status == 200, "\(erased.text)")
        #expect(try site.api("GET", "/leads/first+tag@example.com").status == 404)
        // The real address is what got suppressed: it cannot be added again, and nothing else was suppressed.
        #expect(try site.project.totals() == .init(leads: 0, suppressed: 1, reasons: ["erased": 1]))
        #expect(try site.api("POST", "/leads", json: lead).status == 409)
    }
}
