import Foundation
import NurtureCore
import NurtureEngine
import NurtureMail
import Testing

/// The scheduler over real SMTP servers on a manual clock: retries on schedule, hard bounces, dropped transfers.
@Suite(.serialized)
struct SMTPRetryTests {
    static let oneStep = SchedulingScenarioTests.sequence("seq", persona: "p", steps: """
          - { id: welcome, after: 0m, template: step }
          - { id: second, after: 2d, template: step }
        """)

    /// The real scheduler delivering over SMTP to `server`, on a manual clock.
    static func harness(_ server: SMTPTestServer, connections: Int) throws -> EngineHarness {
        try EngineHarness(sequences: ["a.yaml": oneStep],
                          delivery: SMTPTransport(settings: SMTPSettings(url: server.url, startTLS: .off, connections: connections)))
    }

    @Test func temporaryFailuresAreRetriedOnScheduleThenSent() async throws {
        let server = try SMTPTestServer(["capture", "--rcpt", "slow@example.com=421,451"])
        let h = try Self.harness(server, connections: 2)
        try await h.addLead("slow@example.com", persona: "p")
        let entries = try await h.run(until: at("2026-11-23T12:00:00Z"))
        let deferred = entries.filter { $0.kind == .deferred }
        #expect(deferred.count == 2)
        #expect(deferred.first?.detail.hasPrefix("421 4.3.0 try again later; retry at") == true)
        let sent = try #require(entries.first { $0.kind == .sent })
        // Backoff: ~5 min then ~10 min (±20 % jitter), clamped by Postfix's 300 s minimum.
        let total = sent.at.timeIntervalSince(deferred[0].at)
        #expect((720...1_080).contains(total), "\(total)")
        #expect(server.captured.map(\.recipients) == [["slow@example.com"]])
    }

    @Test func aRejectedRecipientIsSuppressedAndNeverRetried() async throws {
        let server = try SMTPTestServer(["capture", "--rcpt", "gone@example.com=550"])
        let h = try Self.harness(server, connections: 2)
        try await h.addLead("gone@example.com", persona: "p")
        try await h.addLead("fine@example.com", persona: "p")
        let entries = try await h.run(until: at("2026-12-31T00:00:00Z"))
        #expect(entries.filter { $0.email == "gone@example.com" && $0.kind == .failed }.map(\.detail) == ["hard bounce: 550 5.1.1 <gone@example.com>: no such user here"])
        #expect(entries.filter { $0.email == "gone@example.com" && ($0.kind == .sent || $0.kind == .deferred) }.isEmpty)
        let gone = try EmailAddress(validating: "gone@example.com")
        #expect(try await h.store.isSuppressed(gone))
        let lead = try #require(try await h.store.lead(gone))
        #expect(lead.enrollments.first?.state == .exited)
        #expect(lead.ledger.first?.cause.hasPrefix("hard bounce: 550") == true)
        #expect(lead.ledger.first?.delta == -20)
        #expect(server.captured.flatMap(\.recipients) == ["fine@example.com", "fine@example.com"])
    }

    @Test func aConnectionDroppedMidDataIsDeferredAndRetriedWithoutLoss() async throws {
        let server = try SMTPTestServer(["drop", "--drops", "1"])
        let h = try Self.harness(server, connections: 1)
        try await h.addLead("ada@example.com", persona: "p")
        let entries = try await h.run(until: at("2026-12-31T00:00:00Z"))
        let deferred = try #require(entries.first { $0.kind == .deferred })
        #expect(deferred.detail.hasPrefix("curl error"))
        #expect(h.sends(entries).count == 2)
        let captured = server.captured
        #expect(captured.count == 2)
        // Each step arrives exactly once: the dropped attempt left nothing behind, the retry delivered it.
        let ids = try captured.map { c -> String in
            let text = try String(contentsOfFile: c.eml, encoding: .utf8)
            return String(text.split(separator: "\r\n").first { $0.hasPrefix("Message-ID:") } ?? "")
        }
        #expect(Set(ids).count == 2 && ids.allSatisfy { $0.hasSuffix("@example.com>") })
        let problems = try SMTPTestServer.checkMIME(captured.map(\.eml), expected: [:])
        let clean = problems.values.allSatisfy { $0.isEmpty }
        #expect(clean, "\(problems)")
    }
}
