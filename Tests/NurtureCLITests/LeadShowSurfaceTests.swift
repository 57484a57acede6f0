import Foundation
import Testing

/// `lead show` tells an operator what only the database used to: a send in doubt after a crash, a suppressed
/// address, why an event was a machine's and whether it was a replay.
@Suite(.serialized)
struct LeadShowSurfaceTests {
    static let email = "lead0@example.com"

    static func stepOne(_ p: NurtureProcess) -> LeadView.Send? { (try? p.leadShow(email))??.sends(step: "one").first }

    @Test func aSendInFlightAtAKillIsShownAsPossiblySentOnceTheDaemonRecoversIt() throws {
        let relay = try SystemdTests.SlowRelay(dataDelay: 60) // takes the message, never answers its final "." in time
        let made = try MinimalProject.make(leads: 1, transport: "smtp://127.0.0.1:\(relay.port)")
        let p = made.project
        let serve = try p.start(["serve"])
        #expect(BoundedPoll.until(timeout: 30) { Self.stepOne(p)?.status == "sending" }, "\(serve.stderr())")
        serve.kill(SIGKILL)
        _ = serve.wait()
        #expect(Self.stepOne(p)?.possiblySent == false) // nothing is known to be in doubt until a daemon recovers it
        let again = try p.start(["serve"])
        #expect(BoundedPoll.until(timeout: 30) { Self.stepOne(p)?.possiblySent == true }, "\(again.stderr())")
        let text = try p.run(["lead", "show", Self.email]).stdout
        #expect(text.contains("guide/one: ") && text.contains(", possibly delivered twice"), "\(text)")
        again.kill(SIGKILL) // the relay still holds the retry; nothing left to check in a graceful stop
        _ = again.wait()
        withExtendedLifetime(relay) {}
    }

    @Test func anUnsubscribedLeadIsShownAsSuppressedAndItsEventsSayWhatTheyWere() throws {
        let site = try TrackingHTTPTests.start(openWithin: "1h")
        defer { site.stop() }
        let ada = try site.mail(to: "ada@example.com")
        _ = try site.http.get("/o/\(ada.open).gif") // seconds after delivery: a prefetch
        _ = try site.http.get("/o/\(ada.open).gif") // and its replay
        #expect(try site.http.request("POST", "/u/\(ada.unsubscribe)", headers: ["Content-Type": "application/x-www-form-urlencoded"],
                                      body: Data("List-Unsubscribe=One-Click".utf8)).status == 200)
        let lead = try site.project.lead("ada@example.com")
        #expect(lead.suppressed == "unsubscribed")
        #expect(try site.project.lead("zoe@example.fr").suppressed == nil)
        let opens = lead.chronological.filter { $0.type == "open" }
        #expect(opens.count == 2 && opens.allSatisfy { $0.machine && $0.why?.hasPrefix("opened ") == true }, "\(opens)")
        #expect(opens.map(\.repeated) == [false, true])
        #expect(lead.sends(step: "one").map(\.id) == [ada.outboxID])
        let text = try site.project.run(["lead", "show", "ada@example.com"]).stdout
        #expect(text.contains("  suppressed    unsubscribed: never mailed again"), "\(text)")
        #expect(text.contains("open (machine: opened ") && text.contains(", repeat)"), "\(text)")
    }
}
