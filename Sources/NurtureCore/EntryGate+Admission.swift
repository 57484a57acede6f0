extension EntryGate {
    /// Whether a lead may enter: required fields present, filters matched, score and fit high enough, stage allowed.
    /// Consent is not checked here because no lead without consent is ever stored.
    public func admits(_ lead: Lead) -> Bool {
        for field in require where (lead.value(of: field) ?? "").isEmpty { return false }
        for (field, value) in match where lead.value(of: field) != value { return false }
        if let minScore, lead.score < minScore { return false }
        if let minFit, lead.fit < minFit { return false }
        if !stages.contains(lead.stage) { return false }
        return true
    }
}
