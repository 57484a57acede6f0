import Testing
@testable import NurtureCore

/// `http.public_url` is checked strictly: scheme, host, port, a path without query or fragment.
struct PublicURLTests {
    @Test(arguments: [
        ("http://x/\"><script>", PublicURL.Problem.path),
        ("https://mail.example.com/a b", .path),
        ("https://mail.example.com/#fragment", .queryOrFragment),
        ("https://mail.example.com/?a=1", .queryOrFragment),
        ("https://mail.example.com:99999", .port),
        ("https://mail.example.com:0", .port),
        ("https://mail.example.com:", .port),
        ("ftp://mail.example.com", .scheme),
        ("https://user:pw@mail.example.com", .userInfo),
        ("https://", .host),
        ("https://exa_mple.com", .host),
        ("https://-a.example.com", .host),
        ("https://[::1", .host),
        ("https://mail.example.com/%zz", .path),
        ("https://mail.example.com//x", .path),
    ])
    func badURLsAreRefusedWithTheirReason(_ url: String, _ problem: PublicURL.Problem) {
        #expect(throws: problem) { try PublicURL.parse(url).get() }
    }

    @Test func goodURLsAreNormalisedWithoutATrailingSlash() throws {
        let u = try PublicURL.parse("HTTPS://Mail.Example.com:8443/nurture/").get()
        #expect(u.text == "https://mail.example.com:8443/nurture")
        #expect(u.path == "/nurture")
        #expect(try PublicURL.parse("http://127.0.0.1:8080").get().text == "http://127.0.0.1:8080")
        #expect(try PublicURL.parse("http://[::1]:8080/").get().path == "")
        #expect(try PublicURL.parse("https://a.example/p%20q").get().path == "/p%20q")
    }

    @Test func plainHTTPIsFlaggedOnlyOffLoopback() throws {
        #expect(try PublicURL.parse("http://mail.example.com").get().isPlainHTTPOnTheInternet)
        #expect(try !PublicURL.parse("http://localhost:8080").get().isPlainHTTPOnTheInternet)
        #expect(try !PublicURL.parse("http://127.0.0.1:8080").get().isPlainHTTPOnTheInternet)
        #expect(try !PublicURL.parse("https://mail.example.com").get().isPlainHTTPOnTheInternet)
    }
}

/// Durations an author writes are bounded: no sum can overflow, and a too-long one is named as such.
struct TimeSpanLimitTests {
    @Test func overflowingDurationsAreTooLongNotATrap() {
        #expect(TimeSpan.parse(String(repeating: "999999999w", count: 20_000)) == .failure(.tooLong))
        #expect(TimeSpan.parse("3651d") == .failure(.tooLong))
        #expect(TimeSpan(parsing: "999999999w999999999w") == nil)
    }

    @Test func theLongestAllowedDurationParses() throws {
        #expect(try TimeSpan.parse("3650d").get() == TimeSpan.maximum)
        #expect(try TimeSpan.parse("1d12h").get() == TimeSpan(seconds: 129_600))
        #expect(TimeSpan.parse("3 days") == .failure(.malformed))
    }
}
