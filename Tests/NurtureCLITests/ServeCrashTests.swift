import Foundation
import NurtureCore
import NurtureStore
import Testing

/// `nurture serve` as a real process: killed with SIGKILL at random moments, restarted, and checked for
/// "no send lost, none duplicated except the ones recorded as possibly sent".
@Suite(.serialized)
struct ServeCrashTests {
    /// A project whose one sequence sends four steps two seconds apart, into a file outbox.
    static func project(leads: Int) throws -> NurtureProcess {
        let p = try NurtureProcess()
        let fm = FileManager.default
        try fm.createDirectory(atPath: p.path("sequences"), withIntermediateDirectories: true)
        try fm.createDirectory(atPath: p.path("templates"), withIntermediateDirectories: true)
        try """
            database: var/nurture.sqlite
            http: { listen: 127.0.0.1:\(HTTPProbe.freePort()) }
            sequences: sequences
            templates: templates
            timezone: UTC
            fields: [first_name]
            transport: file://var/outbox
            sender: { name: Crash Test, email: crash@example.com, postal_address: 1 Test Street }
            throttle: { min_gap: 1s, max: 100 per 1d, rate: 500/s, domain_rate: 500/s, sunset_after: 100, stale_after: 1d }
            secrets: { token_key_file: var/token.key }
            """.write(toFile: p.path("nurture.yaml"), atomically: true, encoding: .utf8)
        try """
            id: fast
            persona: tester
            steps:
              - { id: one, after: 0m, template: step }
              - { id: two, after: 2s, template: step }
              - { id: three, after: 2s, template: step }
              - { id: four, after: 2s, template: step }
            """.write(toFile: p.path("sequences/fast.yaml"), atomically: true, encoding: .utf8)
        try "<p>{{{content}}}</p><a href=\"{{unsubscribe_url}}\">u</a> {{postal_address}}\n".write(toFile: p.path("templates/_layout.html"), atomically: true, encoding: .utf8)
        try "{{{content}}}\n{{unsubscribe_url}}\n{{postal_address}}\n".write(toFile: p.path("templates/_layout.txt"), atomically: true, encoding: .utf8)
        try "---\nsubject: Hi {{first_name}}\n---\nHello {{first_name}}.\n".write(toFile: p.path("templates/step.md"), atomically: true, encoding: .utf8)
        let csv = "email,first_name\n" + (0..<leads).map { "lead\($0)@example.com,L\($0)\n" }.joined()
        try p.write("leads.csv", Array(csv.utf8))
        let imported = try p.run(["lead", "import", "leads.csv", "--consent", "test", "--persona", "tester"])
        #expect(imported.status == 0, "\(imported.stderr)")
        return p
    }

    /// Message-ID of every .eml written, with repeats.
    static func deliveredMessageIDs(_ p: NurtureProcess) throws -> [String] {
        let dir = p.path("var/outbox")
        return try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".eml") }.map { name in
            let text = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
            let line = text.split(separator: "\r\n").first { $0.hasPrefix("Message-ID: ") }!
            return String(line.dropFirst("Message-ID: ".count))
        }
    }

    @Test func killedAtRandomMomentsNothingIsLostOrDuplicated() async throws {
        let leads = 40, steps = 4
        let p = try Self.project(leads: leads)
        var random = SeededRandom(seed: 20261125)
        for _ in 0..<5 {
            let serve = try p.start(["serve"])
            BoundedPoll.wait(seconds: Double(random.next() % 2300 + 300) / 1000) // let it work for 0.3–2.6 s
            serve.kill(SIGKILL)
        }
        let serve = try p.start(["serve"])
        #expect(BoundedPoll.until(timeout: 20) { serve.stderr().contains("nurture serve: 1 sequences") })
        let store = try await SQLiteStore.open(path: p.path("var/nurture.sqlite"))
        let finished = await BoundedPoll.until(timeout: 60) {
            let c = (try? await store.outboxStatusCounts()) ?? [:]
            return c["sent"] == leads * steps && (c["scheduled"] ?? 0) + (c["sending"] ?? 0) + (c["deferred"] ?? 0) == 0
        }
        let counts = (try? await store.outboxStatusCounts()) ?? [:]
        #expect(finished, "outbox: \(counts)")
        serve.kill(SIGTERM)
        #expect(serve.wait() == 0)

        let sent = try await store.sentMessageIDs()
        #expect(sent.count == leads * steps)
        #expect(Set(sent).count == sent.count)
        let possibly = try await store.possiblySentMessageIDs()
        var delivered: [String: Int] = [:]
        for id in try Self.deliveredMessageIDs(p) { delivered[id, default: 0] += 1 }
        for id in sent {
            let copies = delivered[id] ?? 0
            #expect(copies == 1 || (copies == 2 && possibly.contains(id)), "\(id) delivered \(copies) times")
        }
        #expect(Set(delivered.keys) == Set(sent))
        // At most one transfer group (the file transport's concurrency, 1) per kill can be in doubt.
        #expect(possibly.count <= 5)
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: p.path("var/outbox"))).contains { $0.hasPrefix(".tmp-") })
    }

    @Test func aSecondServeOnTheSameDatabaseRefusesToStart() async throws {
        let p = try Self.project(leads: 1)
        let first = try p.start(["serve"])
        #expect(BoundedPoll.until(timeout: 20) { FileManager.default.fileExists(atPath: p.path("var/outbox")) })
        let second = try p.run(["serve"])
        #expect(second.status == 1)
        #expect(second.stderr.contains("another nurture serve (pid \(first.pid)) is already running on this database"))
        first.kill(SIGTERM)
        #expect(first.wait() == 0)
        #expect(first.stderr().contains("nurture serve: stopped"))
    }
}

/// A small deterministic generator, so the kill moments are the same on every run.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }
}
