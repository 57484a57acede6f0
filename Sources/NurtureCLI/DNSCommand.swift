import ArgumentParser
import Foundation
import NurtureAuthoring

/// `nurture dns`: the records a sender publishes before going live, from the configuration in force.
struct DNSCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dns",
        abstract: "Print the DNS records to publish for the configured senders: DKIM keys, and suggested SPF and DMARC.",
        discussion: "Zone-file syntax. SPF and DMARC are suggestions to adapt (the relay's own SPF include, the DMARC policy once reports are clean)."
    )

    @OptionGroup var options: ConfigOption

    func run() throws {
        let catalog = try options.loadCatalog()
        let config = catalog.config
        var printed = Set<String>()
        var domains: [String] = []
        func emit(_ line: String) { if printed.insert(line).inserted { print(line) } }
        let identities = [(config.sender, config.dkim)] + catalog.sequences.compactMap { s in
            s.sequence.sender.map { ($0, s.dkim ?? config.dkim) }
        }
        print("; DKIM (RFC 6376): one TXT record per key")
        for (_, dkim) in identities {
            guard let signing = dkim?.signing else { continue }
            for (selector, key) in signing.signatures {
                emit(DNSZone.txt(name: "\(selector)._domainkey.\(signing.domain).", value: key.dnsRecord))
            }
        }
        if identities.allSatisfy({ $0.1?.signing == nil }) {
            print("; none: no 'dkim' signing is configured" + (identities.contains { $0.1 != nil } ? " (the relay signs: publish its keys)" : ""))
        }
        for (sender, _) in identities {
            let domain = sender.email.split(separator: "@").last.map { $0.lowercased() } ?? ""
            if !domain.isEmpty, !domains.contains(domain) { domains.append(domain) }
        }
        if let bounce = config.bounceDomain, !domains.contains(bounce) { domains.append(bounce) }
        print("; SPF (RFC 7208): who may send for the envelope domain; add your relay's include: or ip4: before ~all")
        for domain in domains { emit(DNSZone.txt(name: "\(domain).", value: "v=spf1 mx ~all")) }
        print("; DMARC (RFC 7489): start with p=none and read the reports, then quarantine")
        for domain in domains where domain != config.bounceDomain {
            emit(DNSZone.txt(name: "_dmarc.\(domain).", value: "v=DMARC1; p=none; adkim=r; aspf=r; rua=mailto:dmarc-reports@\(domain)"))
        }
    }
}
