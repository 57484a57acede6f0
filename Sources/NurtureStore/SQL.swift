import NurtureCore
/// Every SQL statement the store runs, named, in one place; parameters are always bound, never interpolated.
enum SQL {
    /// One probe per batch of imported rows (by address, or by keyed hash once erased), not one per row.
    static func suppressedKeys(_ n: Int) -> String { "SELECT email_key FROM suppression WHERE email_key IN (\(placeholders(n)))" }
    static func storedKeys(_ n: Int) -> String { "SELECT email_key FROM lead WHERE email_key IN (\(placeholders(n)))" }
    static let suppress = "INSERT INTO suppression (email_key, reason, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    /// By the address, or by its keyed hash once erased.
    static let isSuppressed = "SELECT EXISTS(SELECT 1 FROM suppression WHERE email_key IN (?, ?))"
    static let erasureKey = "SELECT value FROM meta WHERE key = 'erasure_key'"
    static let deleteLegacyErasureKey = "DELETE FROM meta WHERE key = 'erasure_key'"
    static let hasErasures = "SELECT EXISTS(SELECT 1 FROM suppression WHERE reason = 'erased')"

    /// Inserts a lead, or merges new values into it; the address's spelling, consent and engine state (stage, score)
    /// stay as first recorded, so the same file imported twice, or one address in two letter cases, changes nothing.
    /// The `WHERE` makes an identical re-import a no-op (no write, `changes() = 0`).
    /// Parameters by position (bound without GRDB's per-call validation on the import path): ?1 email, ?2 key,
    /// ?3 persona, ?4 timezone, ?5 locale, ?6 fields, ?7 consent_source, ?8 consent_at, ?9 consent_text,
    /// ?10 consent_ip, ?11 recontact_after, ?12 now.
    static let upsertLead = """
        INSERT INTO lead (email, email_key, persona, timezone, locale, fields, consent_source, consent_at,
                          consent_text, consent_ip, recontact_after, created_at, updated_at)
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)
        ON CONFLICT (email_key) DO UPDATE SET
            persona = excluded.persona,
            timezone = coalesce(excluded.timezone, lead.timezone),
            locale = coalesce(excluded.locale, lead.locale),
            fields = json_patch(lead.fields, excluded.fields),
            recontact_after = coalesce(excluded.recontact_after, lead.recontact_after),
            updated_at = excluded.updated_at,
            needs_enrollment = 1
        WHERE lead.persona IS NOT excluded.persona
           OR lead.timezone IS NOT coalesce(excluded.timezone, lead.timezone)
           OR lead.locale IS NOT coalesce(excluded.locale, lead.locale)
           OR lead.fields IS NOT json_patch(lead.fields, excluded.fields)
           OR lead.recontact_after IS NOT coalesce(excluded.recontact_after, lead.recontact_after)
        """

    static let leadByKey = """
        SELECT id, email, persona, timezone, locale, fields, consent_source, consent_at, consent_text, consent_ip,
               stage, score, recontact_after, created_at, updated_at, fit, fit_grade, paused_until
        FROM lead WHERE email_key = ?
        """
    static let enrollmentsOfLead = """
        SELECT sequence_id, state, next_step, enrolled_at, ended_at, end_reason, version
        FROM enrollment WHERE lead_id = ? ORDER BY enrolled_at, id
        """
    static let recentEventsOfLead = """
        SELECT type, sequence_id, step_id, machine, occurred_at,
               json_extract(data, '$.link') AS link, json_extract(data, '$.why') AS why, coalesce(json_extract(data, '$.repeat'), 0) AS repeated,
               coalesce(json_extract(data, '$.status') || coalesce(' ' || json_extract(data, '$.diagnostic'), ''),
                        json_extract(data, '$.feedback_type'), json_extract(data, '$.subject')) AS detail
        FROM event WHERE lead_id = ? ORDER BY occurred_at DESC, id DESC LIMIT ?
        """
    static let consentOfLead = """
        SELECT type, sequence_id, occurred_at, json_extract(data, '$.via') AS via, json_extract(data, '$.until') AS until
        FROM event WHERE lead_id = ? AND type IN (\(EventKind.unsubscribe.sql), \(EventKind.sequenceLeft.sql), \(EventKind.paused.sql))
        ORDER BY occurred_at, id
        """
    static let sendsOfLead = """
        SELECT id, sequence_id, step_id, status, due_at, sent_at, attempts, coalesce(last_error, reason) AS why, server_reply, possibly_sent
        FROM outbox WHERE lead_id = ? ORDER BY id DESC LIMIT ?
        """
    static let suppressionReason = "SELECT reason FROM suppression WHERE email_key = ?"
    static let ledgerOfLead = """
        SELECT at, delta, score_after, cause, kind FROM score_ledger WHERE lead_id = ? ORDER BY at DESC, id DESC LIMIT ?
        """

    // MARK: scheduler

    static let instanceID = "SELECT value FROM meta WHERE key = 'instance'"
    static let leadsAwaitingEnrollment = """
        SELECT l.id, l.email, l.persona, l.timezone, l.locale, l.fields, l.consent_source, l.consent_at, l.stage, l.score,
               l.recontact_after, l.fit, l.fit_grade, EXISTS(SELECT 1 FROM suppression s WHERE s.email_key = l.email_key) AS suppressed,
               (SELECT group_concat(e.sequence_id || char(30) || e.state || char(30) || coalesce(e.ended_at, '') || char(30)
                                    || coalesce(e.end_reason, ''), char(31))
                FROM enrollment e WHERE e.lead_id = l.id) AS past
        FROM lead l WHERE l.needs_enrollment = 1 ORDER BY l.id LIMIT ?
        """
    /// Ended enrollments of a re-enterable sequence whose cooldown is over and that intake was not yet told about.
    static let reentryDue = """
        SELECT id, lead_id FROM enrollment
        WHERE sequence_id = ? AND reentry_flagged = 0 AND state <> \(EnrollmentState.active.sql) AND ended_at <= ? LIMIT ?
        """
    static let markReentryFlagged = "UPDATE enrollment SET reentry_flagged = 1 WHERE id = ?"
    static let markConsidered = "UPDATE lead SET needs_enrollment = 0 WHERE id = ?"
    static let insertEnrollment = """
        INSERT INTO enrollment (lead_id, sequence_id, state, next_step, enrolled_at, version, holdout) VALUES (?, ?, \(EnrollmentState.active.sql), ?, ?, ?, ?)
        ON CONFLICT (lead_id, sequence_id) WHERE state = \(EnrollmentState.active.sql) DO NOTHING
        """
    /// A requested enrollment: re-entering an ended sequence only when the request says so (an answer from sales),
    /// and only if the request is still due (an answer may have moved its cooldown since it was read).
    static let insertRequestedEnrollment = """
        INSERT INTO enrollment (lead_id, sequence_id, state, next_step, enrolled_at, version)
        SELECT :lead, :sequence, \(EnrollmentState.active.sql), :step, :now, :version
        WHERE coalesce((SELECT not_before FROM pending_enrollment WHERE lead_id = :lead AND sequence_id = :sequence), 0) <= :now
          AND (coalesce((SELECT reenter FROM pending_enrollment WHERE lead_id = :lead AND sequence_id = :sequence), 0) = 1
               OR NOT EXISTS (SELECT 1 FROM enrollment WHERE lead_id = :lead AND sequence_id = :sequence))
        ON CONFLICT (lead_id, sequence_id) WHERE state = \(EnrollmentState.active.sql) DO NOTHING
        """
    /// The idempotency key (enrollment + step) is unique: a step can never be queued twice; and only an active
    /// enrollment gets one (a hand-off or exit while a message was in flight ends it for good).
    static let insertSend = """
        INSERT INTO outbox (enrollment_id, lead_id, sequence_id, step_id, idempotency_key, message_id, status, due_at,
                            created_at, updated_at, wait_until)
        SELECT :enrollment, :lead, :sequence, :step, :key, :message_id, \(OutboxStatus.scheduled.sql), :due, :now, :now, :wait_until
        WHERE EXISTS (SELECT 1 FROM enrollment WHERE id = :enrollment AND state = \(EnrollmentState.active.sql)) -- an ended enrollment gets no next step
        ON CONFLICT (idempotency_key) DO NOTHING
        """
    static let setNextStep = "UPDATE enrollment SET next_step = ?, version = ? WHERE id = ? AND state = \(EnrollmentState.active.sql)"
    static let completeEnrollment = """
        UPDATE enrollment SET state = \(EnrollmentState.completed.sql), next_step = NULL, ended_at = ?, end_reason = 'completed'
        WHERE id = ? AND state = \(EnrollmentState.active.sql)
        """
    static let dueSends = """
        SELECT o.id, o.enrollment_id, o.lead_id, o.sequence_id, o.step_id, o.due_at, o.attempts, o.message_id, o.possibly_sent,
               o.first_attempt_at, o.wait_until,
               e.enrolled_at, e.holdout, l.email, l.persona, l.timezone, l.locale, l.fields, l.consent_source, l.consent_at, l.stage,
               l.score, l.recontact_after, l.fit, l.fit_grade, l.paused_until,
               EXISTS(SELECT 1 FROM suppression s WHERE s.email_key = l.email_key) AS suppressed
        FROM outbox o
        JOIN enrollment e ON e.id = o.enrollment_id
        JOIN lead l ON l.id = o.lead_id
        WHERE o.status IN (\(OutboxStatus.scheduled.sql), \(OutboxStatus.deferred.sql)) AND o.due_at <= ?
        ORDER BY o.due_at, o.id
        LIMIT ?
        """
    static func recentSends(leads: Int) -> String {
        "SELECT lead_id, sent_at FROM outbox WHERE status IN (\(OutboxStatus.sent.sql), \(OutboxStatus.sending.sql)) AND lead_id IN (\(placeholders(leads))) AND sent_at > ?"
    }
    static func doneSteps(enrollments: Int) -> String {
        """
        SELECT enrollment_id, step_id FROM outbox
        WHERE enrollment_id IN (\(placeholders(enrollments))) AND status IN (\(OutboxStatus.sent.sql), \(OutboxStatus.skipped.sql), \(OutboxStatus.cancelled.sql), \(OutboxStatus.failed.sql), \(OutboxStatus.passed.sql))
        """
    }
    static func eventsOfLeads(_ n: Int) -> String {
        "SELECT lead_id, type, sequence_id, step_id, machine, occurred_at FROM event WHERE lead_id IN (\(placeholders(n)))"
    }
    static func placeholders(_ n: Int) -> String { Array(repeating: "?", count: n).joined(separator: ",") }

    static let postpone = """
        UPDATE outbox SET due_at = ?, reason = ?, updated_at = ? WHERE id = ? AND status IN (\(OutboxStatus.scheduled.sql), \(OutboxStatus.deferred.sql))
        """
    static let resolve = """
        UPDATE outbox SET status = ?, reason = ?, updated_at = ? WHERE id = ? AND status IN (\(OutboxStatus.scheduled.sql), \(OutboxStatus.deferred.sql), \(OutboxStatus.sending.sql))
        """
    static let claim = """
        UPDATE outbox SET status = \(OutboxStatus.sending.sql), attempts = attempts + 1, sent_at = :now, updated_at = :now,
                          first_attempt_at = coalesce(first_attempt_at, :now)
        WHERE id = :id AND status IN (\(OutboxStatus.scheduled.sql), \(OutboxStatus.deferred.sql))
        """
    static let markSent = """
        UPDATE outbox SET status = \(OutboxStatus.sent.sql), sent_at = ?, server_reply = ?, links = ?, last_error = NULL, updated_at = ?, variant = ?
        WHERE id = ? AND status = \(OutboxStatus.sending.sql)
        """
    static let markDeferred = """
        UPDATE outbox SET status = \(OutboxStatus.deferred.sql), due_at = ?, last_error = ?, updated_at = ? WHERE id = ? AND status = \(OutboxStatus.sending.sql)
        """
    static let markFailed = "UPDATE outbox SET status = \(OutboxStatus.failed.sql), last_error = ?, updated_at = ? WHERE id = ? AND status = \(OutboxStatus.sending.sql)"
    /// Emails each lead received (or is receiving) since its last human open or click: the sunset rule's count.
    static func sendsSinceEngagement(leads: Int) -> String {
        """
        SELECT o.lead_id, count(*) AS n FROM outbox o
        WHERE o.status IN (\(OutboxStatus.sent.sql), \(OutboxStatus.sending.sql)) AND o.lead_id IN (\(placeholders(leads)))
          AND o.sent_at > coalesce((SELECT max(e.occurred_at) FROM event e
                                    WHERE e.lead_id = o.lead_id AND e.type IN (\(EventKind.open.sql), \(EventKind.click.sql)) AND e.machine = 0), 0)
        GROUP BY o.lead_id
        """
    }
    static let insertEvent = """
        INSERT INTO event (lead_id, outbox_id, sequence_id, step_id, type, machine, occurred_at) VALUES (?, ?, ?, ?, ?, ?, ?)
        """
    static let endEnrollment = """
        UPDATE enrollment SET state = \(EnrollmentState.exited.sql), next_step = NULL, ended_at = ?, end_reason = ? WHERE id = ? AND state = \(EnrollmentState.active.sql)
        """
    static let endEnrollmentsOfLead = """
        UPDATE enrollment SET state = \(EnrollmentState.exited.sql), next_step = NULL, ended_at = ?, end_reason = ? WHERE lead_id = ? AND state = \(EnrollmentState.active.sql)
        """
    static let cancelSendsOfEnrollment = """
        UPDATE outbox SET status = \(OutboxStatus.cancelled.sql), reason = ?, updated_at = ?
        WHERE enrollment_id = ? AND status IN (\(OutboxStatus.scheduled.sql), \(OutboxStatus.deferred.sql))
        """
    static let cancelSendsOfLead = """
        UPDATE outbox SET status = \(OutboxStatus.cancelled.sql), reason = ?, updated_at = ? WHERE lead_id = ? AND status IN (\(OutboxStatus.scheduled.sql), \(OutboxStatus.deferred.sql))
        """
    static let suppressKey = "INSERT INTO suppression (email_key, reason, created_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
    static let emailKeyOfLead = "SELECT email_key FROM lead WHERE id = ?"
    static let recoverInFlight = """
        UPDATE outbox SET status = \(OutboxStatus.scheduled.sql), possibly_sent = 1, reason = 'in flight when the daemon stopped', updated_at = ?
        WHERE status = \(OutboxStatus.sending.sql) AND enrollment_id IN (SELECT id FROM enrollment WHERE state = \(EnrollmentState.active.sql))
        """
    /// In flight when its enrollment ended (a hand-off, an exit): recorded as possibly sent, never retried.
    static let cancelInFlightOfEndedEnrollments = """
        UPDATE outbox SET status = \(OutboxStatus.cancelled.sql), possibly_sent = 1, reason = 'in flight when the daemon stopped; enrollment ended',
                          updated_at = ?
        WHERE status = \(OutboxStatus.sending.sql)
        """
    static func reconsider(personas: Int) -> String {
        "UPDATE lead SET needs_enrollment = 1 WHERE persona IN (\(placeholders(personas))) AND needs_enrollment = 0"
    }
    static let queueDepth = """
        SELECT (SELECT count(*) FROM outbox WHERE status IN (\(OutboxStatus.scheduled.sql), \(OutboxStatus.deferred.sql))) AS waiting,
               (SELECT count(*) FROM outbox WHERE status = \(OutboxStatus.sending.sql)) AS sending
        """
    /// The next send, or the end of a requested enrollment's cooldown (a recycled lead comes back then).
    static let nextDueAt = """
        SELECT min(at) FROM (
            SELECT min(due_at) AS at FROM outbox WHERE status IN (\(OutboxStatus.scheduled.sql), \(OutboxStatus.deferred.sql))
            UNION ALL SELECT min(not_before) FROM pending_enrollment)
        """
    static let leadIDByKey = "SELECT id, score FROM lead WHERE email_key = ?"
    static let activeEnrollmentsOfLead = """
        SELECT id, sequence_id, enrolled_at FROM enrollment WHERE lead_id = ? AND state = \(EnrollmentState.active.sql) ORDER BY id
        """
    static let eventTypesOfLeadSince = "SELECT DISTINCT type FROM event WHERE lead_id = ? AND occurred_at >= ?"

    // MARK: inspection

    static let outboxStatusCounts = "SELECT status, count(*) AS n FROM outbox GROUP BY status"
    static let possiblySentMessageIDs = "SELECT message_id FROM outbox WHERE possibly_sent = 1"
    static let sentMessageIDs = "SELECT message_id FROM outbox WHERE status = \(OutboxStatus.sent.sql) ORDER BY id"

    // MARK: tracking

    static let trackedMessage = """
        SELECT o.id, o.lead_id, o.sequence_id, o.step_id, o.sent_at, o.links, l.email, l.locale, l.fields,
               EXISTS(SELECT 1 FROM suppression s WHERE s.email_key = l.email_key) AS suppressed
        FROM outbox o JOIN lead l ON l.id = o.lead_id
        WHERE o.id = ? AND o.status IN (\(OutboxStatus.sending.sql), \(OutboxStatus.sent.sql))
        """
    static let insertEngagement = """
        INSERT INTO event (lead_id, outbox_id, sequence_id, step_id, type, machine, occurred_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
        """
    static let distinctLinksClicked = """
        SELECT count(DISTINCT json_extract(data, '$.link')) FROM event
        WHERE outbox_id = ? AND type = \(EventKind.click.sql) AND occurred_at >= ?
        """
    static let flagBurst = """
        UPDATE event SET machine = 1, data = json_set(coalesce(data, '{}'), '$.why', 'burst on every link of the message')
        WHERE outbox_id = ? AND type = \(EventKind.click.sql) AND occurred_at >= ? AND machine = 0
        """
    static let leadOfOutbox = "SELECT o.lead_id, l.email_key FROM outbox o JOIN lead l ON l.id = o.lead_id WHERE o.id = ?"
    static let ping = "SELECT 1"
    static let leadOfSend = "SELECT lead_id FROM outbox WHERE id = ?"

    // MARK: scoring and hand-off

    static let markEngaged = "UPDATE lead SET last_engaged_at = max(coalesce(last_engaged_at, 0), ?) WHERE id = ?"
    /// Leads silent since `before` that were not already charged for this silence.
    static let inactiveLeads = """
        SELECT id FROM lead WHERE coalesce(last_engaged_at, created_at) < ?
          AND (inactivity_scored_at IS NULL OR inactivity_scored_at < coalesce(last_engaged_at, created_at)) LIMIT ?
        """
    static let markInactivityScored = "UPDATE lead SET inactivity_scored_at = ? WHERE id = ?"
    static let scoreStateOfLead = "SELECT score, score_at, stage, thresholds_fired, fit, fit_grade FROM lead WHERE id = ?"
    /// A stage change makes intake look at the lead again: a sequence gated on the new stage may take it.
    static let leadNeedsEnrollment = "UPDATE lead SET needs_enrollment = 1 WHERE id = ?"
    static let setScoreState = "UPDATE lead SET score = ?, score_at = ?, stage = ?, thresholds_fired = ? WHERE id = ?"
    static let insertLedgerEntry = """
        INSERT INTO score_ledger (lead_id, at, delta, score_after, cause, event_id) VALUES (?, ?, ?, ?, ?, ?)
        """
    static let insertFitLedgerEntry = """
        INSERT INTO score_ledger (lead_id, at, delta, score_after, cause, kind) VALUES (?, ?, ?, ?, ?, 'fit')
        """
    /// One row per channel of a crossing; `crossing` set after (the first row's id). Parameters: lead, channel,
    /// score, now (attempt and creation), SLA due time, sequence (the last one that sent to the lead), reminder.
    static let insertHandoff = """
        INSERT INTO handoff (lead_id, channel, score, status, next_attempt_at, created_at, sla_due_at, sequence_id, reminder, crossing)
        VALUES (?, ?, ?, \(HandoffStatus.pending.sql), ?, ?, ?, ?, ?, ?)
        """
    static let scoreOfLead = "SELECT score FROM lead WHERE id = ?"
    static let hasOpenHandoff = "SELECT EXISTS (SELECT 1 FROM handoff WHERE lead_id = ? AND id = crossing AND outcome IS NULL)"
    static let setRecontactAfter = "UPDATE lead SET recontact_after = ? WHERE id = ?"
    static let setCrossing = "UPDATE handoff SET crossing = ? WHERE id = ?"
    /// A hand-off with no channel to tell it on is recorded as told: nothing to deliver, an id to answer.
    static let markUntold = "UPDATE handoff SET status = \(HandoffStatus.delivered.sql), delivered_at = created_at WHERE id = ?"
    /// The sequence a hand-off is credited to: the last one that mailed the lead.
    static let lastSequenceOfLead = """
        SELECT sequence_id FROM outbox WHERE lead_id = ? AND status = \(OutboxStatus.sent.sql) ORDER BY sent_at DESC, id DESC LIMIT 1
        """
    static let insertPendingEnrollment = "INSERT INTO pending_enrollment (lead_id, sequence_id) VALUES (?, ?) ON CONFLICT DO NOTHING"
    /// An answer from sales: the latest request wins (its cooldown, and re-entry).
    static let insertAnsweredEnrollment = """
        INSERT INTO pending_enrollment (lead_id, sequence_id, not_before, reenter) VALUES (?, ?, ?, 1)
        ON CONFLICT (lead_id, sequence_id) DO UPDATE SET not_before = excluded.not_before, reenter = 1
        """
    static let dueHandoffs = """
        SELECT h.id, h.lead_id, h.channel, h.score, h.attempts, h.created_at, h.inbound_id, h.crossing, h.reminder, h.sla_due_at, l.email
        FROM handoff h JOIN lead l ON l.id = h.lead_id
        WHERE h.status = \(HandoffStatus.pending.sql) AND h.next_attempt_at <= ?
          AND NOT (h.reminder = 1 AND h.outcome IS NOT NULL) -- sales answered meanwhile: no reminder
        ORDER BY h.next_attempt_at LIMIT ?
        """
    static let nextHandoffAt = "SELECT min(next_attempt_at) FROM handoff WHERE status = \(HandoffStatus.pending.sql)"
    static let handoffDelivered = "UPDATE handoff SET status = \(HandoffStatus.delivered.sql), attempts = attempts + 1, delivered_at = ?, last_error = NULL WHERE id = ?"
    static let handoffRetry = "UPDATE handoff SET attempts = attempts + 1, next_attempt_at = ?, last_error = ? WHERE id = ?"
    static let handoffsOfLead = """
        SELECT id, channel, status, attempts, last_error, created_at, delivered_at, crossing, reminder, sla_due_at, outcome, outcome_reason,
               answered_at, sequence_id FROM handoff WHERE lead_id = ? ORDER BY id
        """
    static let pendingEnrollments = "SELECT lead_id, sequence_id FROM pending_enrollment WHERE not_before <= ? ORDER BY not_before LIMIT ?"
    static let deletePendingEnrollment = "DELETE FROM pending_enrollment WHERE lead_id = ? AND sequence_id = ? AND not_before <= ?"
    /// A new answer from sales replaces what an earlier one asked for.
    static let deleteAnsweredEnrollments = "DELETE FROM pending_enrollment WHERE lead_id = ? AND reenter = 1"
    static let cancelReminders = """
        UPDATE handoff SET status = \(HandoffStatus.cancelled.sql) WHERE crossing = ? AND reminder = 1 AND status = \(HandoffStatus.pending.sql)
        """

    // MARK: GDPR

    static let leadIDAndKey = "SELECT id, email_key FROM lead WHERE email_key = ?"
    static let deleteLead = "DELETE FROM lead WHERE id = ?"
    static let outboxIDsOfLead = "SELECT id FROM outbox WHERE lead_id = ?"
    static let deleteSuppression = "DELETE FROM suppression WHERE email_key = ?"
    static let deleteInboundFrom = "DELETE FROM inbound WHERE sender_key = ?"
    static let exportLead = """
        SELECT email, persona, timezone, locale, fields, consent_source, consent_at, consent_text, consent_ip, stage, score,
               recontact_after, created_at, updated_at, fit, fit_grade, paused_until FROM lead WHERE id = ?
        """
    static let exportConversions = "SELECT sequence_id, step_id, variant, holdout, at FROM conversion WHERE lead_id = ? ORDER BY at"
    static let exportEvents = "SELECT type, sequence_id, step_id, machine, occurred_at, data FROM event WHERE lead_id = ? ORDER BY occurred_at, id"
    static let exportLedger = "SELECT at, delta, score_after, cause, kind FROM score_ledger WHERE lead_id = ? ORDER BY at, id"
    static let exportSends = """
        SELECT sequence_id, step_id, status, message_id, due_at, sent_at, attempts, coalesce(last_error, reason) AS why, server_reply, variant
        FROM outbox WHERE lead_id = ? ORDER BY id
        """
    static let exportEnrollments = """
        SELECT sequence_id, state, next_step, enrolled_at, ended_at, end_reason, holdout, version FROM enrollment WHERE lead_id = ? ORDER BY id
        """

    // MARK: rescore and stats

    static let leadsForRescore = """
        SELECT id, email, persona, fields, score, score_at, stage, thresholds_fired, fit, fit_grade, fit_matched FROM lead
        WHERE id > ? ORDER BY id LIMIT ?
        """
    static let eventsOfLeadForRescore = "SELECT type, machine, occurred_at FROM event WHERE lead_id = ? ORDER BY occurred_at, id"
    static let leadCount = "SELECT count(*) FROM lead"
    static let suppressionCounts = "SELECT reason, count(*) AS n FROM suppression GROUP BY reason"
    static let enrollmentStats = """
        SELECT e.sequence_id, count(*) AS enrolled, sum(e.holdout) AS held_out,
               sum(c.enrollment_id IS NOT NULL AND e.holdout = 0) AS goal_converted,
               sum(c.enrollment_id IS NOT NULL AND e.holdout = 1) AS holdout_converted
        FROM enrollment e LEFT JOIN conversion c ON c.enrollment_id = e.id
        WHERE e.enrolled_at >= ? GROUP BY e.sequence_id
        """
    static let stepStats = """
        SELECT o.sequence_id, o.step_id, o.variant,
               sum(o.status = \(OutboxStatus.sent.sql)) AS sent,
               sum(EXISTS(SELECT 1 FROM event e WHERE e.outbox_id = o.id AND e.type = \(EventKind.bounce.sql))) AS bounced,
               sum(EXISTS(SELECT 1 FROM event e WHERE e.outbox_id = o.id AND e.type = \(EventKind.open.sql) AND e.machine = 0)) AS opened,
               sum(EXISTS(SELECT 1 FROM event e WHERE e.outbox_id = o.id AND e.type = \(EventKind.click.sql) AND e.machine = 0)) AS clicked,
               (SELECT count(*) FROM event e JOIN outbox x ON x.id = e.outbox_id WHERE x.sequence_id = o.sequence_id AND x.step_id = o.step_id AND x.variant IS o.variant
                  AND e.type = \(EventKind.click.sql) AND e.machine = 0 AND e.occurred_at >= :since) AS clicks,
               (SELECT count(*) FROM event e JOIN outbox x ON x.id = e.outbox_id WHERE x.sequence_id = o.sequence_id AND x.step_id = o.step_id AND x.variant IS o.variant
                  AND e.type = \(EventKind.open.sql) AND e.machine = 1 AND e.occurred_at >= :since) AS machine_opens,
               (SELECT count(*) FROM event e JOIN outbox x ON x.id = e.outbox_id WHERE x.sequence_id = o.sequence_id AND x.step_id = o.step_id AND x.variant IS o.variant
                  AND e.type = \(EventKind.click.sql) AND e.machine = 1 AND e.occurred_at >= :since) AS machine_clicks,
               sum(EXISTS(SELECT 1 FROM event e WHERE e.outbox_id = o.id AND e.type = \(EventKind.unsubscribe.sql))) AS unsubscribed,
               sum(EXISTS(SELECT 1 FROM event e WHERE e.outbox_id = o.id AND e.type = \(EventKind.softBounce.sql))) AS soft_bounced,
               sum(EXISTS(SELECT 1 FROM event e WHERE e.outbox_id = o.id AND e.type = \(EventKind.complaint.sql))) AS complained,
               sum(EXISTS(SELECT 1 FROM event e WHERE e.outbox_id = o.id AND e.type = \(EventKind.replied.sql))) AS replied,
               sum(EXISTS(SELECT 1 FROM event e WHERE e.outbox_id = o.id AND e.type = \(EventKind.autoReply.sql))) AS auto_replied,
               (SELECT count(*) FROM conversion c WHERE c.sequence_id = o.sequence_id AND c.step_id = o.step_id AND c.variant IS o.variant
                  AND c.at >= :since) AS converted
        FROM outbox o WHERE o.created_at >= :since GROUP BY o.sequence_id, o.step_id, o.variant
        """
    /// Per enrollment: how long after entering the sequence the lead converted or was handed to sales, if it did.
    static let outcomesOfEnrollments = """
        SELECT en.sequence_id,
               (SELECT min(e.occurred_at) FROM event e WHERE e.lead_id = en.lead_id AND e.type = 'converted' AND e.occurred_at >= en.enrolled_at)
                 - en.enrolled_at AS converted_after,
               (SELECT min(e.occurred_at) FROM event e WHERE e.lead_id = en.lead_id AND e.type = \(EventKind.handoff.sql) AND e.occurred_at >= en.enrolled_at)
                 - en.enrolled_at AS handed_off_after
        FROM enrollment en WHERE en.enrolled_at >= ?
        """

    // MARK: inbound

    static let inboundSeen = "SELECT EXISTS(SELECT 1 FROM inbound WHERE dedup_key = ?)"
    /// A message we sent (or may have: in flight when a daemon died), its lead, and the lead's soft bounces of other
    /// messages since it last showed interest.
    static let inboundTargetColumns = """
        SELECT o.id AS outbox_id, o.sequence_id, o.step_id, l.id AS lead_id, l.email,
               (SELECT count(DISTINCT e.outbox_id) FROM event e WHERE e.lead_id = l.id AND e.type = \(EventKind.softBounce.sql)
                  AND e.outbox_id <> o.id AND e.occurred_at > coalesce(l.last_engaged_at, 0)) AS soft_bounces
        FROM outbox o JOIN lead l ON l.id = o.lead_id
        """
    static let sentStatuses = "o.status IN (\(OutboxStatus.sent.sql), \(OutboxStatus.sending.sql), \(OutboxStatus.deferred.sql), \(OutboxStatus.failed.sql))"
    static let inboundTargetByOutbox = inboundTargetColumns + " WHERE o.id = ? AND (\(sentStatuses) OR o.possibly_sent = 1)"
    static let inboundTargetByMessageID = inboundTargetColumns
        + " WHERE o.message_id = ? AND (\(sentStatuses) OR o.possibly_sent = 1) ORDER BY o.id DESC LIMIT 1"
    static let inboundTargetByKey = """
        SELECT NULL AS outbox_id, NULL AS sequence_id, NULL AS step_id, l.id AS lead_id, l.email,
               (SELECT count(DISTINCT e.outbox_id) FROM event e WHERE e.lead_id = l.id AND e.type = \(EventKind.softBounce.sql)
                  AND e.occurred_at > coalesce(l.last_engaged_at, 0)) AS soft_bounces
        FROM lead l WHERE l.email_key = ?
        """
    static let insertInbound = """
        INSERT INTO inbound (dedup_key, received_at, source, outcome, reason, lead_id, outbox_id, size, message, sender_key)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING
        """
    static let keptInbound = "SELECT id, length(message) AS n FROM inbound WHERE message IS NOT NULL ORDER BY id"
    static let dropInboundCopy = "UPDATE inbound SET message = NULL WHERE id = ?"
    // MARK: sequence versions and plan

    static let insertSequenceVersion = "INSERT INTO sequence_version (sequence_id, version, source, loaded_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING"
    static let sequenceSources = "SELECT version, source FROM sequence_version WHERE sequence_id = ?"
    static let planEnrollments = """
        SELECT e.id, e.version, e.enrolled_at, l.email, l.score, l.stage, l.fit, l.fit_grade, w.step_id, w.due_at,
               (SELECT group_concat(o.step_id) FROM outbox o WHERE o.enrollment_id = e.id
                  AND o.status IN (\(OutboxStatus.sent.sql), \(OutboxStatus.skipped.sql), \(OutboxStatus.cancelled.sql), \(OutboxStatus.failed.sql), \(OutboxStatus.passed.sql))) AS done,
               (SELECT group_concat(DISTINCT ev.type) FROM event ev WHERE ev.lead_id = e.lead_id AND ev.occurred_at >= e.enrolled_at) AS events
        FROM enrollment e JOIN lead l ON l.id = e.lead_id
        LEFT JOIN outbox w ON w.id = (SELECT o.id FROM outbox o WHERE o.enrollment_id = e.id
                                        AND o.status IN (\(OutboxStatus.scheduled.sql), \(OutboxStatus.deferred.sql), \(OutboxStatus.sending.sql))
                                      ORDER BY o.id DESC LIMIT 1)
        WHERE e.sequence_id = ? AND e.state = \(EnrollmentState.active.sql) ORDER BY e.id
        """

    // MARK: recipient choices

    /// The sent message a choice names: its lead, sequence and whether the address is suppressed.
    static let choiceTarget = """
        SELECT o.lead_id, o.sequence_id, o.step_id, l.email_key FROM outbox o JOIN lead l ON l.id = o.lead_id
        WHERE o.id = ? AND o.status IN (\(OutboxStatus.sending.sql), \(OutboxStatus.sent.sql))
        """
    static let activeEnrollmentIn = "SELECT id FROM enrollment WHERE lead_id = ? AND sequence_id = ? AND state = \(EnrollmentState.active.sql)"
    /// A recipient who leaves a sequence that already ended keeps it ended for good: `reenter` never brings it back.
    static let markLeftAfterEnd = """
        UPDATE enrollment SET end_reason = '\(RecipientChoices.leftReason) (after ' || coalesce(end_reason, 'its end') || ')'
        WHERE id = (SELECT max(id) FROM enrollment WHERE lead_id = ? AND sequence_id = ?) AND coalesce(end_reason, '') NOT LIKE '\(RecipientChoices.leftReason)%'
        """
    static let pauseLead = "UPDATE lead SET paused_until = ? WHERE id = ? AND coalesce(paused_until, 0) < ?"
    static let pausedUntil = "SELECT paused_until FROM lead WHERE id = ?"

    /// A goal reached: credited to the lead's latest enrollment in the sequence that began in the window, once,
    /// with the last step (and variant) sent to it before the event. Parameters: lead, sequence, since, at.
    static let insertConversion = """
        INSERT INTO conversion (enrollment_id, lead_id, sequence_id, step_id, variant, holdout, at)
        SELECT e.id, e.lead_id, e.sequence_id, o.step_id, o.variant, e.holdout, :at
        FROM enrollment e
        LEFT JOIN outbox o ON o.id = (SELECT x.id FROM outbox x WHERE x.enrollment_id = e.id AND x.status = \(OutboxStatus.sent.sql)
                                        AND x.sent_at <= :at ORDER BY x.sent_at DESC, x.id DESC LIMIT 1)
        WHERE e.id = (SELECT max(id) FROM enrollment WHERE lead_id = :lead AND sequence_id = :sequence AND enrolled_at >= :since AND enrolled_at <= :at)
        ON CONFLICT (enrollment_id) DO NOTHING
        """
    static let insertEventWithData = """
        INSERT INTO event (lead_id, outbox_id, sequence_id, step_id, type, machine, occurred_at, data) VALUES (?, ?, ?, ?, ?, 0, ?, ?)
        """
    /// An out-of-office pushes the lead's waiting sends (never brings one forward).
    static let postponeSendsOfLead = """
        UPDATE outbox SET due_at = max(due_at, ?), reason = ?, updated_at = ?
        WHERE lead_id = ? AND status IN (\(OutboxStatus.scheduled.sql), \(OutboxStatus.deferred.sql))
        """
    static let insertReplyForward = """
        INSERT INTO handoff (lead_id, channel, score, status, next_attempt_at, created_at, inbound_id)
        SELECT id, 'reply', score, \(HandoffStatus.pending.sql), ?, ?, ? FROM lead WHERE id = ?
        """
    static let inboundCounts = "SELECT outcome, count(*) AS n FROM inbound GROUP BY outcome"
    static let quarantined = """
        SELECT id, received_at, source, coalesce(reason, '') AS reason, size, message IS NOT NULL AS kept FROM inbound
        WHERE outcome = 'quarantined' ORDER BY id DESC LIMIT ?
        """
    static let inboundMessage = "SELECT message FROM inbound WHERE id = ?"

    // MARK: lifecycle (fit, answers from sales, SLA)

    static let fitOfLeadByKey = "SELECT id, email, persona, fields, fit_grade, fit_matched FROM lead WHERE email_key = ?"
    static let setFit = "UPDATE lead SET fit = ?, fit_grade = ?, fit_matched = ? WHERE id = ?"
    /// The hand-off a delivery id belongs to (a reply forward is not one: sales cannot answer it).
    static let crossingOfHandoff = """
        SELECT h.crossing, h.lead_id, c.outcome FROM handoff h JOIN handoff c ON c.id = h.crossing WHERE h.id = ?
        """
    /// Parameters: outcome, reason, now, now (accepted_at when taken), outcome (again), crossing.
    static let answerCrossing = """
        UPDATE handoff SET outcome = ?, outcome_reason = ?, answered_at = ?,
               accepted_at = coalesce(accepted_at, CASE WHEN ? IN ('accepted', 'won', 'lost') THEN ? END)
        WHERE crossing = ?
        """
    /// Unanswered hand-offs past their SLA that were not re-notified yet, oldest first.
    static let overdueCrossings = """
        SELECT id, lead_id, score, sequence_id FROM handoff
        WHERE outcome IS NULL AND renotified_at IS NULL AND reminder = 0 AND sla_due_at <= ? AND id = crossing
        ORDER BY sla_due_at LIMIT ?
        """
    static let channelsOfCrossing = "SELECT channel FROM handoff WHERE crossing = ? AND reminder = 0 ORDER BY id"
    static let markRenotified = "UPDATE handoff SET renotified_at = ? WHERE crossing = ?"
    /// Hand-offs (their first rows) by sequence and answer, with the SLA and time-to-accept figures.
    static let handoffStats = """
        SELECT coalesce(sequence_id, '') AS sequence_id, outcome, count(*) AS n,
               sum(CASE WHEN outcome IS NULL AND sla_due_at <= ? THEN 1 ELSE 0 END) AS overdue,
               coalesce(sum(accepted_at - created_at), 0) AS accept_ms, count(accepted_at) AS accept_n
        FROM handoff WHERE id = crossing GROUP BY coalesce(sequence_id, ''), outcome
        """
}
