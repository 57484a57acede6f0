import ArgumentParser
import Foundation
import NurtureAuthoring
import NurtureCore

/// `nurture preview`: renders one step for a sample lead exactly as it would be sent.
struct PreviewCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Render a sequence step for a lead and print its subject, text and HTML parts.",
        discussion: """
            Example:
              nurture preview cto-whitepaper whitepaper --lead-json '{"email":"ada@example.com","first_name":"Ada"}'
            """
    )

    enum Part: String, ExpressibleByArgument, CaseIterable { case all, subject, text, html }

    @OptionGroup var options: ConfigOption
    @Argument(help: "Sequence id.") var sequence: String
    @Argument(help: "Step id.") var step: String
    @Option(help: "The lead as a JSON object of field names to text values.") var leadJSON: String = "{}"
    @Option(help: "What to print: all, subject, text or html.") var part: Part = .all

    func run() throws {
        let catalog = try options.loadCatalog()
        guard let seq = catalog.sequence(sequence) else {
            throw ValidationError("unknown sequence '\(sequence)'; known: \(catalog.sequences.map(\.sequence.id).joined(separator: ", "))")
        }
        if let st = seq.step(step), !st.flow.isMail {
            throw ValidationError("step '\(step)' of '\(sequence)' waits or branches: it sends no mail to preview")
        }
        guard let st = seq.step(step), let template = catalog.templates[st.template] else {
            throw ValidationError("sequence '\(sequence)' has no step '\(step)'; steps: \(seq.steps.map(\.id).joined(separator: ", "))")
        }
        let input = try LeadJSON.parse(leadJSON, defaultEmail: "preview@example.com", defaultPersona: seq.persona)
        let rules = LeadRules(declaredFields: Set(catalog.config.fields), personas: nil, defaultTimeZone: catalog.config.defaultTimeZone)
        let lead: Lead
        do { lead = try rules.lead(from: input, now: Date(), requireConsent: false) } catch { throw ValidationError("lead: \(error)") }
        let unsubscribe = catalog.config.http.publicURL + "/u/preview"
        let email = catalog.renderer.render(template, variables: catalog.variables(for: lead, sequence: seq, unsubscribeURL: unsubscribe))
        switch part {
        case .subject: print(email.subject)
        case .text: print(email.text)
        case .html: print(email.html)
        case .all:
            print("Subject: \(email.subject)")
            if !email.preheader.isEmpty { print("Preheader: \(email.preheader)") }
            print("\n--- text/plain ---\n\(email.text)\n\n--- text/html ---\n\(email.html)")
        }
    }
}

/// A lead given as JSON on the command line (`--lead-json`): string values only, like a CSV row.
enum LeadJSON {
    static func parse(_ text: String, defaultEmail: String, defaultPersona: String?) throws -> LeadInput {
        let usage = "--lead-json must be a JSON object of text values such as '{\"email\":\"ada@example.com\",\"first_name\":\"Ada\"}'"
        let members: [(key: String, value: StrictJSON.Value)]
        switch StrictJSON.parse(text) {
        case .success(let value):
            guard let m = value.members else { throw ValidationError(usage) }
            members = m
        case .failure(let f):
            throw ValidationError("--lead-json: \(f)")
        }
        var strings: [String: String] = [:]
        for (key, value) in members {
            // Like a CSV cell: text only, so `1` and `"1"` cannot mean different things.
            guard case .string(let s) = value else {
                throw ValidationError("--lead-json: '\(PrintableText.escaped(key, limit: 40))' must be a text value (in quotes)")
            }
            strings[key] = s
        }
        return input(strings, defaultEmail: defaultEmail, defaultPersona: defaultPersona)
    }

    /// A lead from named text values (a JSON object, or a CSV row under its header).
    static func input(_ values: [String: String], defaultEmail: String, defaultPersona: String?) -> LeadInput {
        var strings = values
        var input = LeadInput(email: strings.removeValue(forKey: "email") ?? defaultEmail,
                              persona: strings.removeValue(forKey: "persona") ?? defaultPersona ?? "")
        input.timeZone = strings.removeValue(forKey: "timezone")
        input.locale = strings.removeValue(forKey: "locale")
        input.recontactAfter = strings.removeValue(forKey: "recontact_after")
        input.consentSource = strings.removeValue(forKey: "consent_source")
        input.fields = strings
        return input
    }
}
