import Foundation
import Synchronization
import Testing

/// The open pixel answered on the event loop, ahead of Hummingbird, on the real daemon: the same bytes as the
/// router's answer, answers in request order on a pipelined connection, nothing recorded for a bad token or a
/// deleted message, and every answered open recorded under concurrent load.
@Suite(.serialized)
struct OpenPixelPathTests {
    struct Response {
        var head: String
        var body: [UInt8]
        var status: Int? { HTTPProtocolTests.status(head) }
        func header(_ name: String) -> String? {
            head.components(separatedBy: "\r\n").dropFirst().first { $0.lowercased().hasPrefix(name.lowercased() + ": ") }
                .map { String($0.dropFirst(name.count + 2)) }
        }
        /// The head with its `Date` value replaced, for comparing answers made at different seconds.
        var undated: String { head.replacingOccurrences(of: #"\r\nDate: [^\r]*"#, with: "\r\nDate: D", options: .regularExpression) }
    }

    /// Splits the bytes of a connection into answers; `heads[i]` tells whether answer i is to a HEAD (no body).
    static func responses(_ bytes: [UInt8], heads: [Bool]) -> [Response] {
        var out: [Response] = []
        var at = 0
        let end = Array("\r\n\r\n".utf8)
        while out.count < heads.count, let split = (at..<max(at, bytes.count - 3)).first(where: { Array(bytes[$0..<$0 + 4]) == end }) {
            let head = String(decoding: bytes[at..<split + 4], as: UTF8.self)
            var r = Response(head: head, body: [])
            let length = heads[out.count] ? 0 : Int(r.header("Content-Length") ?? "0") ?? 0
            guard split + 4 + length <= bytes.count else { break }
            r.body = Array(bytes[split + 4..<split + 4 + length])
            out.append(r)
            at = split + 4 + length
        }
        return out
    }

    /// Sends `requests` in one write on a new connection and reads their answers.
    static func exchange(_ site: TrackingHTTPTests.Site, _ requests: [String]) throws -> (answers: [Response], closed: Bool) {
        let c = try RawHTTP(port: site.port)
        c.send(requests.joined())
        let heads = requests.map { $0.hasPrefix("HEAD ") }
        let read = c.readBytes(timeout: 10) { Self.responses($0, heads: heads).count == heads.count }
        return (Self.responses(read.bytes, heads: heads), read.closed || c.readBytes(timeout: 0.3).closed)
    }

    static let pixelHead = "HTTP/1.1 200 OK\r\nCache-Control: no-store, no-cache, must-revalidate, private, max-age=0\r\nPragma: no-cache\r\n"
        + "Expires: 0\r\nContent-Type: image/gif\r\nContent-Length: 43\r\nX-Content-Type-Options: nosniff\r\nX-Frame-Options: DENY\r\n"
        + "Referrer-Policy: no-referrer\r\nDate: D\r\n"

    static let gif: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x21,
        0xF9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44,
        0x01, 0x00, 0x3B,
    ]

    /// The count of `name{labels}` in the exposition, 0 when absent.
    static func metric(_ site: TrackingHTTPTests.Site, _ series: String) throws -> Int {
        let line = try site.http.get("/metrics").text.split(separator: "\n").first { $0.hasPrefix(series + " ") }
        return line.flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0
    }

    /// The lead's opens in `lead export` (every event; `lead show` lists recent ones only).
    static func opens(_ site: TrackingHTTPTests.Site, _ email: String) throws -> Int {
        let export = try site.project.run(["lead", "export", email]).stdout
        let events = (try JSONSerialization.jsonObject(with: Data(export.utf8)) as? [String: Any])?["events"] as? [[String: Any]] ?? []
        return events.filter { $0["type"] as? String == "open" }.count
    }

    static let answered = #"hb_requests{http_route="/o/{token}",http_request_method="GET",http_response_status_code="200"}"#

    @Test func thePixelAnsweredOnTheEventLoopIsByteForByteTheRoutersAnswerForGETAndHEAD() throws {
        let site = try TrackingHTTPTests.start()
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com")
        // `%XX` for the token's first character: the same token, but a spelling only the router takes.
        let first = ada.open.utf8.first!
        let routed = "%" + String(first, radix: 16, uppercase: true) + ada.open.dropFirst()
        let forged = String(repeating: "A", count: 38)
        let before = try Self.metric(site, Self.answered)
        var valid = 0
        for (request, closes) in [("GET /o/TOKEN.gif HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0\r\n\r\n", false),
                                  ("HEAD /o/TOKEN.gif HTTP/1.1\r\nHost: x\r\n\r\n", false),
                                  ("GET /o/TOKEN.gif?utm=1 HTTP/1.1\r\nHost: x\r\n\r\n", false),
                                  ("GET /o/TOKEN.gif HTTP/1.0\r\n\r\n", true),
                                  ("GET /o/TOKEN.gif HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true),
                                  ("GET /o/TOKEN.gif HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", false)] {
            for token in [ada.open, routed, forged] {
                let sent = request.replacingOccurrences(of: "TOKEN", with: token)
                let (answers, closed) = try Self.exchange(site, [sent])
                let answer = try #require(answers.first, "\(sent.debugDescription)")
                let expected = Self.pixelHead + (closes ? "Connection: close\r\n" : "") + "\r\n"
                #expect(answer.undated == expected, "\(sent.debugDescription) → \(answer.head.debugDescription)")
                #expect(answer.body == (request.hasPrefix("HEAD") ? [] : Self.gif))
                #expect(closed == closes, "\(sent.debugDescription)")
                let date = try #require(answer.header("Date"))
                let format = DateFormatter()
                format.locale = Locale(identifier: "en_US_POSIX")
                format.timeZone = TimeZone(identifier: "GMT")
                format.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
                let when = try #require(format.date(from: date), "\(date)")
                #expect(abs(when.timeIntervalSinceNow) < 5 && format.string(from: when) == date, "\(date)")
                if token != forged { valid += 1 }
            }
        }
        // Both spellings recorded each open (12, at most 10 stored per hour: the rest are counted as repeats).
        #expect(try Self.opens(site, "ada@example.com") == 10)
        #expect(try Self.metric(site, #"nurture_events_total{type="open",origin="repeat"}"#) == valid - 10)
        #expect(try Self.metric(site, Self.answered) - before == 15)
        #expect(try Self.metric(site, #"hb_requests{http_route="/o/{token}",http_request_method="HEAD",http_response_status_code="200"}"#) == 3)
        let metrics = try site.http.get("/metrics").text
        #expect(metrics.contains(#"http_server_request_duration_count{http_route="/o/{token}",http_request_method="GET",http_response_status_code="200"} "#))
    }

    @Test func pipelinedRequestsAreAnsweredInTheOrderTheyWereSentWhicheverPathAnswersThem() throws {
        let site = try TrackingHTTPTests.start()
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com"), zoe = try site.mail(to: "zoe@example.fr")
        func get(_ path: String, _ method: String = "GET") -> String { "\(method) \(path) HTTP/1.1\r\nHost: x\r\n\r\n" }
        // The router's page first, then pixels behind it; then a pixel first with the router's requests behind it.
        let requests = [get("/u/\(ada.unsubscribe)"), get("/o/\(ada.open).gif"), get("/healthz"), get("/o/\(zoe.open).gif", "HEAD"),
                        get("/o/\(zoe.open).gif"), get("/u/\(zoe.unsubscribe)"), get("/o/\(ada.open).gif"), get("/nothing"),
                        get("/o/\(String(repeating: "A", count: 38)).gif"), get("/healthz")]
        let (answers, _) = try Self.exchange(site, requests)
        let kinds = answers.map { "\($0.status ?? 0) \($0.header("Content-Type")?.split(separator: ";").first ?? "")" }
        #expect(kinds == ["200 text/html", "200 image/gif", "200 application/json", "200 image/gif", "200 image/gif", "200 text/html",
                          "200 image/gif", "404 ", "200 image/gif", "200 application/json"], "\(answers.map(\.head))")
        #expect(answers[0].body != answers[5].body) // Ada's page, then Zoe's
        #expect(String(decoding: answers[5].body, as: UTF8.self).contains("lang=\"fr\""))
        // Each answered open is recorded, whichever path took it.
        #expect(BoundedPoll.until(timeout: 10) {
            ((try? Self.opens(site, "ada@example.com")) ?? 0) == 2 && ((try? Self.opens(site, "zoe@example.fr")) ?? 0) == 2
        })
    }

    @Test func aForgedTokenOrTheTokenOfADeletedMessageGetsThePixelAndRecordsNothing() throws {
        let site = try TrackingHTTPTests.start()
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com"), zoe = try site.mail(to: "zoe@example.fr")
        #expect(try site.project.run(["lead", "erase", "ada@example.com"]).status == 0)
        let forged = site.signer.sign(.init(purpose: .open, outboxID: 999_999, link: 0))
        for path in ["/o/\(ada.open).gif", "/o/\(forged).gif", "/o/\(String(repeating: "A", count: 38)).gif"] {
            for method in ["GET", "HEAD"] {
                let (answers, _) = try Self.exchange(site, ["\(method) \(path) HTTP/1.1\r\nHost: x\r\n\r\n"])
                #expect(answers.first?.undated == Self.pixelHead + "\r\n", "\(method) \(path)")
            }
        }
        #expect(try site.project.leadShow("ada@example.com") == nil)
        for origin in ["human", "machine", "repeat"] {
            #expect(try Self.metric(site, "nurture_events_total{type=\"open\",origin=\"\(origin)\"}") == 0)
        }
        // The path records at all: Zoe's open, after those, is stored and counted.
        _ = try Self.exchange(site, ["GET /o/\(zoe.open).gif HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0\r\n\r\n"])
        #expect(try site.project.lead("zoe@example.fr").events.map(\.type) == ["open"])
        #expect(try Self.metric(site, #"nurture_events_total{type="open",origin="human"}"#) == 1)
    }

    @Test func underConcurrentLoadEveryAnsweredOpenIsRecordedBeforeItsAnswer() throws {
        let site = try TrackingHTTPTests.start(http: ["stored_repeats_per_hour: 1000000"])
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com")
        let before = try Self.metric(site, Self.answered)
        let answered = Atomic<Int>(0)
        let request = "GET /o/\(ada.open).gif HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0\r\n\r\n"
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            guard let c = try? RawHTTP(port: site.port) else { return }
            for _ in 0..<150 {
                c.send(request)
                let read = c.readBytes(timeout: 10) { Self.responses($0, heads: [false]).count == 1 }
                guard Self.responses(read.bytes, heads: [false]).first?.body == Self.gif else { return }
                answered.wrappingAdd(1, ordering: .relaxed)
            }
        }
        let total = answered.load(ordering: .relaxed)
        #expect(total == 1_200)
        // Every open is committed before its answer leaves: all of them are there the moment the load ends.
        #expect(try Self.opens(site, "ada@example.com") == total)
        #expect(try Self.metric(site, Self.answered) - before == total)
        #expect(try Self.metric(site, #"nurture_events_total{type="open",origin="human"}"#) == total)
    }
}
