/// Every SQL statement the store runs, named, in one place; parameters are always bound, never interpolated.
enum SQL {
    static let leadExists = "SELECT EXISTS(SELECT 1 FROM lead WHERE email_key = ?)"
    static let suppress = "INSERT INTO suppression (email_key, reason, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    static let isSuppressed = "SELECT EXISTS(SELECT 1 FROM suppression WHERE email_key = ?)"

    /// Inserts a lead, or merges new values into it; the address's spelling, consent and engine state (stage, score)
    /// stay as first recorded, so the same file imported twice, or one address in two letter cases, changes nothing.
    /// The `WHERE` makes an identical re-import a no-op (no write, `changes() = 0`).
    static let upsertLead = """
        INSERT INTO lead (email, email_key, persona, timezone, locale, fields, consent_source, consent_at,
                          consent_text, consent_ip, recontact_after, created_at, updated_at)
        VALUES (:email, :key, :persona, :timezone, :locale, :fields, :consent_source, :consent_at,
                :consent_text, :consent_ip, :recontact_after, :now, :now)
        ON CONFLICT (email_key) DO UPDATE SET
            persona = excluded.persona,
            timezone = coalesce(excluded.timezone, lead.timezone),
            locale = coalesce(excluded.locale, lead.locale),
            fields = json_patch(lead.fields, excluded.fields),
            recontact_after = coalesce(excluded.recontact_after, lead.recontact_after),
            updated_at = excluded.updated_at
        WHERE lead.persona IS NOT excluded.persona
           OR lead.timezone IS NOT coalesce(excluded.timezone, lead.timezone)
           OR lead.locale IS NOT coalesce(excluded.locale, lead.locale)
           OR lead.fields IS NOT json_patch(lead.fields, excluded.fields)
           OR lead.recontact_after IS NOT coalesce(excluded.recontact_after, lead.recontact_after)
        """

    static let leadByKey = """
        SELECT id, email, persona, timezone, locale, fields, consent_source, consent_at, consent_text, consent_ip,
               stage, score, recontact_after, created_at, updated_at
        FROM lead WHERE email_key = ?
        """
    static let enrollmentsOfLead = """
        SELECT sequence_id, state, next_step, enrolled_at, ended_at, end_reason
        FROM enrollment WHERE lead_id = ? ORDER BY enrolled_at, id
        """
    static let recentEventsOfLead = """
        SELECT type, sequence_id, step_id, machine, occurred_at
        FROM event WHERE lead_id = ? ORDER BY occurred_at DESC, id DESC LIMIT ?
        """
    static let ledgerOfLead = """
        SELECT at, delta, score_after, cause FROM score_ledger WHERE lead_id = ? ORDER BY at DESC, id DESC LIMIT ?
        """
}
