import ArgumentParser
import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureEngine
import NurtureMail
import NurtureSigning

/// `nurture send-test`: one rendered step through the configured transport, to check the relay and the rendering.
struct SendTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "send-test",
        abstract: "Send one rendered step to an address through the configured transport and print the server's reply.",
        discussion: """
            Nothing is recorded in the database: the message has no outbox row, and its unsubscribe link is a \
            placeholder that the server answers with 404.

            Example:
              nurture send-test cto-whitepaper whitepaper --to me@example.com --lead-json '{"first_name":"Ada"}'
            """
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "Sequence id.") var sequence: String
    @Argument(help: "Step id.") var step: String
    @Option(help: "Recipient address.") var to: String
    @Option(help: "Lead fields as a JSON object.") var leadJSON: String = "{}"

    func run() async throws {
        let catalog = try options.loadCatalog()
        guard let seq = catalog.sequence(sequence), let st = seq.step(step) else {
            throw ValidationError("unknown sequence or step '\(sequence) \(step)'")
        }
        guard st.flow.isMail else { throw ValidationError("step '\(step)' waits or branches: it sends no mail") }
        let input = try LeadJSON.parse(leadJSON, defaultEmail: to, defaultPersona: seq.persona)
        let rules = LeadRules(declaredFields: Set(catalog.config.fields), personas: nil, defaultTimeZone: catalog.config.defaultTimeZone)
        let lead: Lead
        do { lead = try rules.lead(from: input, now: Date(), requireConsent: false) } catch { throw ValidationError("\(error)") }
        let domain = MessageComposer.messageDomain(seq, catalog)
        // The key only signs the placeholder link below; no real token is issued for a test message.
        let composer = MessageComposer(signer: TokenSigner(keys: [Data(repeating: 0, count: 32)]))
        let message = try composer.compose(lead: lead, sequence: seq, step: st, catalog: catalog, date: Date(), outboxID: 0,
                                           messageID: "<send-test.\(UUID().uuidString.lowercased())@\(domain)>",
                                           unsubscribeURL: catalog.config.http.publicURL + "/u/send-test")
        let transport: Transport
        do { transport = try Daemon.makeTransport(catalog.config) } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        let result = try await TransportService.withRunning(transport) { await transport.deliver([message]).first! }
        switch result {
        case .sent(let reply):
            print("sent \(message.messageID) to \(lead.email): \(reply)")
        case .temporaryFailure(let why):
            Terminal.error("temporary failure (would be retried): \(why)")
            throw ExitCode(1)
        case let .permanentFailure(why, recipientRejected):
            Terminal.error("\(recipientRejected ? "recipient rejected" : "refused"): \(why)")
            throw ExitCode(1)
        case .abandoned(let why):
            Terminal.error(why)
            throw ExitCode(1)
        }
    }
}
