import Foundation
import Testing
@testable import NurtureAuthoring

/// `inbound:` is read with its defaults, sizes and durations in the units operators write, secrets resolved like the
/// others, and every mistake located.
struct InboundConfigTests {
    static func load(_ inbound: String, environment: [String: String] = [:]) throws -> (NurtureConfig?, [String]) {
        let dir = try ConfigDiscoveryTests.write(ConfigDiscoveryTests.yaml + "\n" + inbound)
        let sink = DiagnosticSink()
        let config = ConfigLoader.load(path: dir + "/nurture.yaml", sink: sink, environment: environment)
        return (config, sink.items.map(\.description))
    }

    @Test func theDefaultsAreSafe() throws {
        let config = try #require(try Self.load("").0)
        #expect(config.inbound.policy.softBounceLimit == 3)
        #expect(config.inbound.policy.outOfOfficePostpone == nil)
        #expect(config.inbound.maxMessageSize == 25 * 1_048_576)
        #expect(config.inbound.mailboxes.isEmpty)
    }

    @Test func aFullSectionIsRead() throws {
        let (config, problems) = try Self.load("""
            inbound:
              soft_bounce_limit: 5
              out_of_office_postpone: 7d
              forward_replies: false
              max_message_size: 10MB
              quarantine_limit: 1GB
              poll_interval: 30s
              mailboxes:
                - { url: "imaps://imap.example.com/INBOX", username: bounces, password_file: imap_password, processed_folder: Done }
                - { url: "imap://127.0.0.1:1143/INBOX", username: replies, password_file: /etc/x, ca_file: ca.pem, starttls: required }
            """, environment: ["CREDENTIALS_DIRECTORY": "/run/credentials/nurture.service"])
        let c = try #require(config, "\(problems)")
        #expect(c.inbound.policy.softBounceLimit == 5)
        #expect(c.inbound.policy.outOfOfficePostpone == .days(7))
        #expect(c.inbound.policy.forwardReplies == false)
        #expect(c.inbound.maxMessageSize == 10 * 1_048_576)
        #expect(c.inbound.quarantineLimit == 1 << 30)
        #expect(c.inbound.pollInterval.seconds == 30)
        #expect(c.inbound.mailboxes.map(\.passwordFile) == ["/run/credentials/nurture.service/imap_password", "/etc/x"])
        #expect(c.inbound.mailboxes[0].processedFolder == "Done")
        #expect(c.inbound.mailboxes[1].caFile == "/run/credentials/nurture.service/ca.pem")
    }

    @Test func mistakesAreLocatedAndRefused() throws {
        let (config, problems) = try Self.load("""
            inbound:
              soft_bounce_limit: 0
              max_message_size: huge
              mailboxes:
                - { url: "https://imap.example.com/INBOX", username: a, password_file: p }
                - { url: "imaps://user:pw@imap.example.com/INBOX", username: a, password_file: p }
                - { url: "imaps://imap.example.com/INBOX", username: a, password_file: p, processed_folder: "a\\"b" }
                - { url: "imaps://imap.example.com/INBOX", username: a }
            """)
        #expect(config == nil)
        let text = problems.joined(separator: "\n")
        #expect(text.contains("nurture.yaml:7:") && text.contains("soft_bounce_limit"), "\(text)")
        #expect(text.contains("must be a size such as 25MB"), "\(text)")
        #expect(problems.filter { $0.contains("imaps://imap.example.com/INBOX (no credentials") }.count == 2, "\(text)")
        #expect(text.contains("'processed_folder' must be a folder name"), "\(text)")
        #expect(text.contains("password_file"), "\(text)")
    }
}
