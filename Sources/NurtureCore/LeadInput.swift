import Foundation

/// A lead as it arrives from the CLI, a CSV row or the API: raw text, checked by one set of rules.
public struct LeadInput: Sendable {
    public var email: String
    public var persona: String
    public var timeZone: String?
    public var locale: String?
    public var recontactAfter: String?
    /// Custom fields by name; empty values mean "not given".
    public var fields: [String: String]
    public var consentSource: String?
    public var consentAt: String?
    public var consentText: String?
    public var consentIP: String?

    public init(email: String, persona: String, timeZone: String? = nil, locale: String? = nil, recontactAfter: String? = nil,
                fields: [String: String] = [:], consentSource: String? = nil, consentAt: String? = nil,
                consentText: String? = nil, consentIP: String? = nil) {
        self.email = email
        self.persona = persona
        self.timeZone = timeZone
        self.locale = locale
        self.recontactAfter = recontactAfter
        self.fields = fields
        self.consentSource = consentSource
        self.consentAt = consentAt
        self.consentText = consentText
        self.consentIP = consentIP
    }
}

/// What a lead must satisfy before it is stored: consent (GDPR), a valid address, known persona and fields.
public struct LeadRules: Sendable {
    public var declaredFields: Set<String>
    /// Personas some sequence serves; nil accepts any well-formed persona.
    public var personas: Set<String>?
    public var defaultTimeZone: String

    public init(declaredFields: Set<String>, personas: Set<String>?, defaultTimeZone: String) {
        self.declaredFields = declaredFields
        self.personas = personas
        self.defaultTimeZone = defaultTimeZone
    }

    public struct Problem: Error, Equatable, CustomStringConvertible {
        public var description: String
        init(_ d: String) { description = d }
    }

    /// Validates and normalises; `now` stamps consent when the input gives no time.
    public func lead(from input: LeadInput, now: Date, requireConsent: Bool = true) throws(Problem) -> Lead {
        let email: EmailAddress
        do { email = try EmailAddress(validating: input.email) } catch { throw Problem("'\(printable(input.email))': \(error)") }
        let persona = try clean(input.persona, "persona")
        guard Identifier.isName(persona) else { throw Problem("persona '\(persona)' must be lowercase letters, digits and underscores") }
        if let personas, !personas.contains(persona) {
            throw Problem("unknown persona '\(persona)'; sequences serve: \(personas.sorted().joined(separator: ", "))")
        }
        var fields: [String: String] = [:]
        for (name, raw) in input.fields {
            guard declaredFields.contains(name) else {
                throw Problem("unknown field '\(name)'; declared fields: \(declaredFields.sorted().joined(separator: ", "))")
            }
            let value = try clean(raw, name)
            if !value.isEmpty { fields[name] = value }
        }
        let zone = try optional(input.timeZone, "timezone")
        if let zone, !TimeZones.isKnown(zone) { throw Problem("unknown time zone '\(zone)': use an IANA name such as Europe/Paris") }
        let locale = try optional(input.locale, "locale")
        if let locale, !Self.isLocale(locale) { throw Problem("bad locale '\(locale)': use a language tag such as en, fr or fr-CA") }
        let zoneForDates = TimeZone(identifier: zone ?? defaultTimeZone) ?? TimeZone(identifier: "UTC")!
        let recontact = try optional(input.recontactAfter, "recontact_after").map { text throws(Problem) in
            guard let d = DateText.parse(text, in: zoneForDates) else { throw Problem("bad recontact_after '\(text)': use 2026-12-01 or 2026-12-01T09:00:00Z") }
            return d
        }
        guard let source = try optional(input.consentSource, "consent_source") else {
            if requireConsent { throw Problem("no consent: a lead needs a consent source (GDPR)") }
            return Lead(email: email, persona: persona, timeZone: zone, locale: locale, fields: fields,
                        consent: Consent(source: "preview", at: now), recontactAfter: recontact)
        }
        let at = try optional(input.consentAt, "consent_at").map { text throws(Problem) in
            guard let d = DateText.parse(text, in: zoneForDates) else { throw Problem("bad consent_at '\(text)': use 2026-12-01T09:00:00Z") }
            guard d <= now.addingTimeInterval(300) else { throw Problem("consent_at '\(text)' is in the future") }
            return d
        } ?? now
        let ip = try optional(input.consentIP, "consent_ip")
        if let ip, !IPAddressText.isValid(ip) {
            throw Problem("bad consent_ip '\(PrintableText.escaped(ip, limit: 45))': write an IPv4 or IPv6 address such as 203.0.113.7 or 2001:db8::1")
        }
        let consent = Consent(source: source, at: at, text: try optional(input.consentText, "consent_text"), ip: ip)
        return Lead(email: email, persona: persona, timeZone: zone, locale: locale, fields: fields, consent: consent,
                    recontactAfter: recontact)
    }

    private func clean(_ value: String, _ field: String) throws(Problem) -> String {
        do { return try FieldValue.clean(value, field: field) } catch { throw Problem(error.description) }
    }

    private func optional(_ value: String?, _ field: String) throws(Problem) -> String? {
        guard let value else { return nil }
        let cleaned = try clean(value, field)
        return cleaned.isEmpty ? nil : cleaned
    }

    static func isLocale(_ s: String) -> Bool {
        let parts = s.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), (2...3).contains(parts[0].count),
              parts[0].allSatisfy({ $0.isASCII && $0.isLowercase }) else { return false }
        return parts.count == 1 || ((2...4).contains(parts[1].count) && parts[1].allSatisfy { $0.isASCII && $0.isLetter })
    }

    private func printable(_ s: String) -> String {
        String(s.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) }.prefix(80))
    }
}

/// Dates as people type them: `2026-12-01` (midnight in a given zone) or full ISO 8601.
public enum DateText {
    public static func parse(_ text: String, in zone: TimeZone) -> Date? {
        let iso = ISO8601DateFormatter()
        if let d = iso.date(from: text) { return d }
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let d = iso.date(from: text) { return d }
        let parts = text.split(separator: "-")
        guard parts.count == 3, parts[0].count == 4, let y = Int(parts[0]), let m = Int(parts[1]), let d = Int(parts[2]),
              (1...12).contains(m), (1...31).contains(d) else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let components = DateComponents(year: y, month: m, day: d)
        guard let date = calendar.date(from: components), calendar.component(.day, from: date) == d else { return nil }
        return date
    }

    /// `2026-11-25T12:00:00Z`; the Sendable format style, not a formatter per call.
    public static func iso(_ date: Date) -> String {
        date.formatted(.iso8601)
    }
}
