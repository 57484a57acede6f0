import Foundation

/// A person who gave consent to be nurtured, with the fields templates may use.
public struct Lead: Hashable, Sendable {
    public var email: EmailAddress
    public var persona: String
    /// IANA zone name; nil means the configured default.
    public var timeZone: String?
    public var locale: String?
    /// Declared custom fields (first_name, company, …), already cleaned.
    public var fields: [String: String]
    public var consent: Consent
    public var stage: LifecycleStage
    public var score: Double
    /// The fit score (`scoring.fit`), kept apart from the engagement `score`, and its grade (nil until computed).
    public var fit: Double = 0
    public var fitGrade: String?
    /// "Qualified but not ready yet": nurturing starts no earlier than this.
    public var recontactAfter: Date?

    public init(email: EmailAddress, persona: String, timeZone: String? = nil, locale: String? = nil,
                fields: [String: String] = [:], consent: Consent, stage: LifecycleStage = .lead, score: Double = 0,
                recontactAfter: Date? = nil, fit: Double = 0, fitGrade: String? = nil) {
        self.fit = fit
        self.fitGrade = fitGrade
        self.email = email
        self.persona = persona
        self.timeZone = timeZone
        self.locale = locale
        self.fields = fields
        self.consent = consent
        self.stage = stage
        self.score = score
        self.recontactAfter = recontactAfter
    }

    /// The value of a field by name, built-in fields included, for entry gates and templates.
    public func value(of field: String) -> String? {
        switch field {
        case "email": email.value
        case "persona": persona
        case "locale": locale
        case "timezone": timeZone
        default: fields[field]
        }
    }
}

/// The GDPR record of how a lead agreed to receive mail.
public struct Consent: Hashable, Sendable {
    /// Where consent was given (`webform:whitepaper`, `import:salon-2026`, …).
    public var source: String
    public var at: Date
    /// The wording the lead agreed to, when known.
    public var text: String?
    /// The IP address consent came from, when known.
    public var ip: String?

    public init(source: String, at: Date, text: String? = nil, ip: String? = nil) {
        self.source = source
        self.at = at
        self.text = text
        self.ip = ip
    }
}
