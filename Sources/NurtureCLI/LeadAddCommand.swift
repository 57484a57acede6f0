import ArgumentParser
import Foundation
import NurtureAuthoring
import NurtureCore

/// `nurture lead add`: one lead, with its consent record; updates the lead if it already exists.
struct LeadAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add a lead who gave consent (or update it if it exists).",
        discussion: """
            Example:
              nurture lead add ada@example.com --persona cto --consent webform:whitepaper \\
                --field first_name=Ada --field company=Analytical --timezone Europe/London
            """
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "Email address.") var email: String
    @Option(help: "Persona; decides the sequence the lead enters.") var persona: String
    @Option(help: "Where consent was given (e.g. webform:whitepaper). Required: no consent, no mail.") var consent: String
    @Option(help: "The consent wording the lead agreed to.") var consentText: String?
    @Option(help: "The IP address consent came from.") var consentIP: String?
    @Option(help: "When consent was given (ISO 8601; default: now).") var consentAt: String?
    @Option(name: .customLong("field"), help: "A declared field, as name=value (repeatable).") var fields: [String] = []
    @Option(help: "IANA time zone (default: the config's).") var timezone: String?
    @Option(help: "Language tag such as en or fr.") var locale: String?
    @Option(help: "Qualified but not ready: start nurturing no earlier than this date.") var recontactAfter: String?

    func run() async throws {
        let catalog = try options.loadCatalog()
        var parsed: [String: String] = [:]
        for pair in fields {
            guard let eq = pair.firstIndex(of: "="), eq != pair.startIndex else {
                throw ValidationError("--field must be name=value, got '\(pair)'")
            }
            parsed[String(pair[..<eq])] = String(pair[pair.index(after: eq)...])
        }
        let input = LeadInput(email: email, persona: persona, timeZone: timezone, locale: locale, recontactAfter: recontactAfter,
                              fields: parsed, consentSource: consent, consentAt: consentAt, consentText: consentText, consentIP: consentIP)
        let rules = LeadRules(declaredFields: Set(catalog.config.fields), personas: catalog.personas,
                              defaultTimeZone: catalog.config.defaultTimeZone)
        let lead: Lead
        do { lead = try rules.lead(from: input, now: Date()) } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
        let store = try await options.openStore(catalog)
        let outcome = try await store.upsert([lead], now: Date(), scoring: catalog.scoringContext)[0]
        switch outcome {
        case .inserted: print("added \(lead.email) (persona \(lead.persona))")
        case .updated: print("updated \(lead.email)")
        case .unchanged: print("unchanged \(lead.email): already stored with these values")
        case .suppressed:
            Terminal.error("\(lead.email) is on the suppression list (unsubscribed, bounced or erased) and will not be added")
            throw ExitCode(1)
        }
    }
}
