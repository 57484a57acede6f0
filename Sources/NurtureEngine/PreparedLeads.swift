import NurtureCore

/// Leads with, in the same order, what their store derived from each one without the database: the address key,
/// the keyed hash an erased address is suppressed under, and the custom fields as the store writes them.
public struct PreparedLeads: Sendable {
    public let leads: [Lead]
    public let keys: [String]
    public let erasedKeys: [String]
    public let fields: [String]
    /// `scoring.fit`: when not empty, the store computes each written lead's fit in the same transaction.
    public var fitRules = FitRules()
    /// When set, a lead whose fit changed has its thresholds judged again in that transaction (a `when:` on `fit`
    /// may now hold), with the hand-offs and enrollments that implies.
    public var scoring: ScoringContext?

    public init(leads: [Lead], keys: [String], erasedKeys: [String], fields: [String]) {
        precondition(keys.count == leads.count && erasedKeys.count == leads.count && fields.count == leads.count)
        self.leads = leads
        self.keys = keys
        self.erasedKeys = erasedKeys
        self.fields = fields
    }
}
