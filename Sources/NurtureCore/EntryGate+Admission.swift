extension EntryGate {
    /// Whether a lead may enter: required fields present, filters matched, score high enough.
    /// Consent is not checked here because no lead without consent is ever stored.
    public func admits(_ lead: Lead) -> Bool {
        for field in require where (lead.value(of: field) ?? "").isEmpty { return false }
        for (field, value) in match where lead.value(of: field) != value { return false }
        if let minScore, lead.score < minScore { return false }
        return true
    }
}
