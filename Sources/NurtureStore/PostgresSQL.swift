import NurtureCore
import PostgresNIO

/// Every statement the PostgreSQL store runs, named, in one place (SQLite's are in SQL.swift). Each is built by
/// PostgresQuery's interpolation, which binds every value as a parameter; only the core's enum literals are spliced
/// (`unescaped:`). Statements whose effect is counted end with `RETURNING`, and callers count the rows.
enum PostgresSQL {
    typealias Q = PostgresQuery

    // MARK: schema

    static let createMigrationTable: Q = """
        CREATE TABLE IF NOT EXISTS schema_migration (version bigint PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())
        """
    static let appliedMigrations: Q = "SELECT version FROM schema_migration"
    static func recordMigration(_ version: Int64, _ name: String) -> Q {
        "INSERT INTO schema_migration (version, name) VALUES (\(version), \(name))"
    }
    static let lockMigrations: Q = "SELECT pg_advisory_lock(\(PostgresMigrations.lockKey))"
    static let unlockMigrations: Q = "SELECT pg_advisory_unlock(\(PostgresMigrations.lockKey))"
    static let instanceID: Q = "SELECT value FROM meta WHERE key = 'instance'"
    static let erasureKeyCheck: Q = "SELECT value FROM meta WHERE key = 'erasure_key_check'"
    static func setErasureKeyCheck(_ check: String) -> Q {
        "INSERT INTO meta (key, value) VALUES ('erasure_key_check', \(check)) ON CONFLICT (key) DO NOTHING RETURNING value"
    }
    static let ping: Q = "SELECT 1 AS one"

    // MARK: leads

    static func suppressedKeys(_ keys: [String]) -> Q { "SELECT email_key FROM suppression WHERE email_key = ANY(\(keys))" }
    static func storedKeys(_ keys: [String]) -> Q { "SELECT email_key FROM lead WHERE email_key = ANY(\(keys))" }
    /// Inserts leads, or merges new values into them, as SQLite's `upsertLead` does, a whole batch in one statement:
    /// the rows travel as one JSON array (JSON null is SQL NULL), one row per address (the caller splits repeats
    /// into later batches). The spelling, consent and engine state stay as first recorded; an identical re-import
    /// writes nothing, and only changed or new rows come back.
    static func upsertLeads(_ rows: String, now: Int64) -> Q {
        """
        INSERT INTO lead (email, email_key, persona, timezone, locale, fields, consent_source, consent_at,
                          consent_text, consent_ip, recontact_after, created_at, updated_at)
        SELECT u.email, u.email_key, u.persona, u.timezone, u.locale, u.fields, u.consent_source, u.consent_at,
               u.consent_text, u.consent_ip, u.recontact_after, \(now), \(now)
        FROM jsonb_to_recordset(\(rows)::jsonb) AS u(email text, email_key text, persona text, timezone text, locale text, fields jsonb,
                                                   consent_source text, consent_at bigint, consent_text text, consent_ip text,
                                                   recontact_after bigint)
        ON CONFLICT (email_key) DO UPDATE SET
            persona = excluded.persona,
            timezone = coalesce(excluded.timezone, lead.timezone),
            locale = coalesce(excluded.locale, lead.locale),
            fields = lead.fields || excluded.fields,
            recontact_after = coalesce(excluded.recontact_after, lead.recontact_after),
            updated_at = excluded.updated_at,
            needs_enrollment = true
        WHERE lead.persona IS DISTINCT FROM excluded.persona
           OR lead.timezone IS DISTINCT FROM coalesce(excluded.timezone, lead.timezone)
           OR lead.locale IS DISTINCT FROM coalesce(excluded.locale, lead.locale)
           OR lead.fields IS DISTINCT FROM lead.fields || excluded.fields
           OR lead.recontact_after IS DISTINCT FROM coalesce(excluded.recontact_after, lead.recontact_after)
        RETURNING email_key
        """
    }
    static func suppress(_ key: String, reason: String, now: Int64) -> Q {
        "INSERT INTO suppression (email_key, reason, created_at) VALUES (\(key), \(reason), \(now)) ON CONFLICT DO NOTHING RETURNING 1 AS done"
    }
    static func isSuppressed(_ key: String, erased: String) -> Q {
        "SELECT EXISTS (SELECT 1 FROM suppression WHERE email_key IN (\(key), \(erased))) AS suppressed"
    }
    /// The lead columns `PostgresStore.lead(from:)` reads.
    static let leadColumns = """
        l.email, l.persona, l.timezone, l.locale, l.fields::text AS fields, l.consent_source, l.consent_at, l.consent_text,
        l.consent_ip, l.stage, l.score, l.recontact_after, l.fit, l.fit_grade
        """
    static func leadByKey(_ key: String) -> Q {
        "SELECT l.id, \(unescaped: leadColumns), l.created_at, l.updated_at, l.paused_until FROM lead l WHERE l.email_key = \(key)"
    }
    static func enrollmentsOfLead(_ id: Int64) -> Q {
        "SELECT sequence_id, state, next_step, enrolled_at, ended_at, end_reason, version FROM enrollment WHERE lead_id = \(id) ORDER BY enrolled_at, id"
    }
    static func recentEventsOfLead(_ id: Int64, limit: Int64) -> Q {
        """
        SELECT type, sequence_id, step_id, machine, occurred_at, (data->>'link')::bigint AS link, data->>'why' AS why,
               coalesce((data->>'repeat')::boolean, false) AS repeated,
               coalesce((data->>'status') || coalesce(' ' || (data->>'diagnostic'), ''), data->>'feedback_type', data->>'subject') AS detail
        FROM event WHERE lead_id = \(id) ORDER BY occurred_at DESC, id DESC LIMIT \(limit)
        """
    }
    static func consentOfLead(_ id: Int64) -> Q {
        """
        SELECT type, sequence_id, occurred_at, data->>'via' AS via, data->>'until' AS until FROM event
        WHERE lead_id = \(id) AND type IN (\(unescaped: EventKind.unsubscribe.sql), \(unescaped: EventKind.sequenceLeft.sql), \(unescaped: EventKind.paused.sql))
        ORDER BY occurred_at, id
        """
    }
    static func sendsOfLead(_ id: Int64, limit: Int64) -> Q {
        """
        SELECT id, sequence_id, step_id, status, due_at, sent_at, attempts, coalesce(last_error, reason) AS why, server_reply, possibly_sent
        FROM outbox WHERE lead_id = \(id) ORDER BY id DESC LIMIT \(limit)
        """
    }
    static func suppressionReason(_ key: String) -> Q { "SELECT reason FROM suppression WHERE email_key = \(key)" }
    static func ledgerOfLead(_ id: Int64, limit: Int64) -> Q {
        "SELECT at, delta, score_after, cause, kind FROM score_ledger WHERE lead_id = \(id) ORDER BY at DESC, id DESC LIMIT \(limit)"
    }

    // MARK: scheduler

    static func leadsAwaitingEnrollment(limit: Int64) -> Q {
        """
        SELECT l.id, \(unescaped: leadColumns),
               EXISTS (SELECT 1 FROM suppression s WHERE s.email_key = l.email_key) AS suppressed,
               (SELECT string_agg(e.sequence_id || chr(30) || e.state || chr(30) || coalesce(e.ended_at::text, '') || chr(30)
                                  || coalesce(e.end_reason, ''), chr(31))
                FROM enrollment e WHERE e.lead_id = l.id) AS past
        FROM lead l WHERE l.needs_enrollment ORDER BY l.id LIMIT \(limit)
        """
    }
    /// Flags ended enrollments of a re-enterable sequence whose cooldown is over, and has intake look at their leads.
    static func flagReentries(_ sequenceID: String, endedBefore: Int64, limit: Int64) -> Q {
        """
        WITH flagged AS (
            UPDATE enrollment SET reentry_flagged = true
            WHERE id IN (SELECT id FROM enrollment
                         WHERE sequence_id = \(sequenceID) AND NOT reentry_flagged AND state <> \(unescaped: EnrollmentState.active.sql)
                           AND ended_at <= \(endedBefore)
                         LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING lead_id)
        UPDATE lead SET needs_enrollment = true WHERE id IN (SELECT lead_id FROM flagged) RETURNING id
        """
    }
    static func markConsidered(_ ids: [Int64]) -> Q { "UPDATE lead SET needs_enrollment = false WHERE id = ANY(\(ids))" }
    static func insertEnrollment(lead: Int64, sequence: String, firstStep: String, now: Int64, version: String, holdout: Bool = false) -> Q {
        """
        INSERT INTO enrollment (lead_id, sequence_id, state, next_step, enrolled_at, version, holdout)
        VALUES (\(lead), \(sequence), \(unescaped: EnrollmentState.active.sql), \(firstStep), \(now), \(version), \(holdout))
        ON CONFLICT (lead_id, sequence_id) WHERE state = \(unescaped: EnrollmentState.active.sql) DO NOTHING RETURNING id
        """
    }
    /// A requested enrollment: re-entering an ended sequence only when the request says so (an answer from sales).
    static func insertRequestedEnrollment(lead: Int64, sequence: String, firstStep: String, now: Int64, version: String) -> Q {
        """
        INSERT INTO enrollment (lead_id, sequence_id, state, next_step, enrolled_at, version)
        SELECT \(lead), \(sequence), \(unescaped: EnrollmentState.active.sql), \(firstStep), \(now), \(version)
        WHERE coalesce((SELECT not_before FROM pending_enrollment WHERE lead_id = \(lead) AND sequence_id = \(sequence)), 0) <= \(now)
          AND (coalesce((SELECT reenter FROM pending_enrollment WHERE lead_id = \(lead) AND sequence_id = \(sequence)), false)
               OR NOT EXISTS (SELECT 1 FROM enrollment WHERE lead_id = \(lead) AND sequence_id = \(sequence)))
        ON CONFLICT (lead_id, sequence_id) WHERE state = \(unescaped: EnrollmentState.active.sql) DO NOTHING RETURNING id
        """
    }
    /// A step is never queued twice (the idempotency key is unique), and only an active enrollment gets one.
    static func insertSend(enrollment: Int64, lead: Int64, sequence: String, step: String, key: String, messageID: String,
                           due: Int64, now: Int64, waitUntil: Int64?) -> Q {
        """
        INSERT INTO outbox (enrollment_id, lead_id, sequence_id, step_id, idempotency_key, message_id, status, due_at, created_at, updated_at,
                            wait_until)
        SELECT \(enrollment), \(lead), \(sequence), \(step), \(key), \(messageID), \(unescaped: OutboxStatus.scheduled.sql), \(due), \(now), \(now),
               \(waitUntil)
        WHERE EXISTS (SELECT 1 FROM enrollment WHERE id = \(enrollment) AND state = \(unescaped: EnrollmentState.active.sql))
        ON CONFLICT (idempotency_key) DO NOTHING
        """
    }
    /// The next sends of a whole batch in one statement (one round trip per commit, not one per message); columns
    /// travel as parallel arrays. Only for enrollments still active; a key already queued adds nothing.
    static func insertSends(enrollments: [Int64], leads: [Int64], sequences: [String], steps: [String], keys: [String],
                            messageIDs: [String], dues: [Int64], waitUntils: [Int64], now: Int64) -> Q {
        """
        INSERT INTO outbox (enrollment_id, lead_id, sequence_id, step_id, idempotency_key, message_id, status, due_at, created_at, updated_at,
                            wait_until)
        SELECT v.enrollment_id, v.lead_id, v.sequence_id, v.step_id, v.idempotency_key, v.message_id, \(unescaped: OutboxStatus.scheduled.sql),
               v.due_at, \(now), \(now), nullif(v.wait_until, -1)
        FROM unnest(\(enrollments)::bigint[], \(leads)::bigint[], \(sequences)::text[], \(steps)::text[], \(keys)::text[],
                    \(messageIDs)::text[], \(dues)::bigint[], \(waitUntils)::bigint[])
             AS v(enrollment_id, lead_id, sequence_id, step_id, idempotency_key, message_id, due_at, wait_until)
        WHERE EXISTS (SELECT 1 FROM enrollment WHERE id = v.enrollment_id AND state = \(unescaped: EnrollmentState.active.sql))
        ON CONFLICT (idempotency_key) DO NOTHING
        """
    }
    static func setNextSteps(_ steps: [String], enrollments: [Int64], versions: [String]) -> Q {
        """
        UPDATE enrollment e SET next_step = v.step_id, version = v.version
        FROM unnest(\(enrollments)::bigint[], \(steps)::text[], \(versions)::text[]) AS v(id, step_id, version)
        WHERE e.id = v.id AND e.state = \(unescaped: EnrollmentState.active.sql)
        """
    }
    static func completeEnrollments(_ enrollments: [Int64], now: Int64) -> Q {
        """
        UPDATE enrollment SET state = \(unescaped: EnrollmentState.completed.sql), next_step = NULL, ended_at = \(now), end_reason = 'completed'
        WHERE id = ANY(\(enrollments)) AND state = \(unescaped: EnrollmentState.active.sql)
        """
    }
    static func pendingEnrollments(at now: Int64, limit: Int64) -> Q {
        "SELECT lead_id, sequence_id FROM pending_enrollment WHERE not_before <= \(now) ORDER BY not_before LIMIT \(limit)"
    }
    static func deletePendingEnrollment(lead: Int64, sequence: String, now: Int64) -> Q {
        "DELETE FROM pending_enrollment WHERE lead_id = \(lead) AND sequence_id = \(sequence) AND not_before <= \(now)"
    }
    static func deleteAnsweredEnrollments(_ lead: Int64) -> Q { "DELETE FROM pending_enrollment WHERE lead_id = \(lead) AND reenter" }
    static func cancelReminders(_ crossing: Int64) -> Q {
        """
        UPDATE handoff SET status = \(unescaped: HandoffStatus.cancelled.sql)
        WHERE crossing = \(crossing) AND reminder AND status = \(unescaped: HandoffStatus.pending.sql)
        """
    }
    static func lockLead(_ lead: Int64) -> Q { "SELECT id FROM lead WHERE id = \(lead) FOR UPDATE" }
    /// Locked (skipping rows another node's statement holds), and only of leads no other live node has leased.
    static func dueSends(at now: Int64, limit: Int64, node: String) -> Q {
        """
        SELECT o.id, o.enrollment_id, o.lead_id, o.sequence_id, o.step_id, o.due_at, o.attempts, o.message_id, o.possibly_sent,
               o.first_attempt_at, o.wait_until, e.enrolled_at, e.holdout, \(unescaped: leadColumns), l.paused_until,
               EXISTS (SELECT 1 FROM suppression s WHERE s.email_key = l.email_key) AS suppressed
        FROM outbox o
        JOIN enrollment e ON e.id = o.enrollment_id
        JOIN lead l ON l.id = o.lead_id
        WHERE o.status IN (\(unescaped: OutboxStatus.scheduled.sql), \(unescaped: OutboxStatus.deferred.sql)) AND o.due_at <= \(now)
          AND NOT EXISTS (SELECT 1 FROM lead_lease ll WHERE ll.lead_id = o.lead_id AND ll.node <> \(node) AND ll.until > \(now))
        ORDER BY o.due_at, o.id
        LIMIT \(limit)
        FOR UPDATE OF o SKIP LOCKED
        """
    }
    /// Leases the leads to this node; a lead another live node leased meanwhile (its statement committed while this
    /// one waited on the row) is not updated, so not returned: its sends are left to that node. In id order, so two
    /// nodes wanting the same leads lock them in one order (no deadlock).
    static func leaseLeads(_ leads: [Int64], node: String, until: Int64, now: Int64) -> Q {
        """
        INSERT INTO lead_lease (lead_id, node, until) SELECT u.id, \(node), \(until) FROM unnest(\(leads)::bigint[]) AS u(id) ORDER BY u.id
        ON CONFLICT (lead_id) DO UPDATE SET node = excluded.node, until = excluded.until
        WHERE lead_lease.node = excluded.node OR lead_lease.until <= \(now)
        RETURNING lead_id
        """
    }
    static func releaseLeads(node: String) -> Q { "DELETE FROM lead_lease WHERE node = \(node)" }
    static func takeJob(_ name: String, node: String, until: Int64, now: Int64) -> Q {
        """
        INSERT INTO job_lease (name, node, until) VALUES (\(name), \(node), \(until))
        ON CONFLICT (name) DO UPDATE SET node = excluded.node, until = excluded.until
        WHERE job_lease.node = excluded.node OR job_lease.until <= \(now)
        RETURNING name
        """
    }
    static func releaseJob(_ name: String, node: String) -> Q { "DELETE FROM job_lease WHERE name = \(name) AND node = \(node)" }
    static func recentSends(leads: [Int64], since: Int64) -> Q {
        """
        SELECT lead_id, sent_at FROM outbox
        WHERE status IN (\(unescaped: OutboxStatus.sent.sql), \(unescaped: OutboxStatus.sending.sql)) AND lead_id = ANY(\(leads)) AND sent_at > \(since)
        """
    }
    static func doneSteps(enrollments: [Int64]) -> Q {
        """
        SELECT enrollment_id, step_id FROM outbox
        WHERE enrollment_id = ANY(\(enrollments)) AND status IN (\(unescaped: OutboxStatus.sent.sql), \(unescaped: OutboxStatus.skipped.sql),
                                                               \(unescaped: OutboxStatus.cancelled.sql), \(unescaped: OutboxStatus.failed.sql),
                                                               \(unescaped: OutboxStatus.passed.sql))
        """
    }
    /// Emails each lead received (or is receiving) since its last human open or click: the sunset rule's count.
    static func sendsSinceEngagement(leads: [Int64]) -> Q {
        """
        SELECT o.lead_id, count(*) AS n FROM outbox o
        WHERE o.status IN (\(unescaped: OutboxStatus.sent.sql), \(unescaped: OutboxStatus.sending.sql)) AND o.lead_id = ANY(\(leads))
          AND o.sent_at > coalesce((SELECT max(e.occurred_at) FROM event e
                                    WHERE e.lead_id = o.lead_id AND e.type IN (\(unescaped: EventKind.open.sql), \(unescaped: EventKind.click.sql))
                                      AND NOT e.machine), 0)
        GROUP BY o.lead_id
        """
    }
    static func eventsOfLeads(_ leads: [Int64]) -> Q {
        "SELECT lead_id, type, sequence_id, step_id, machine, occurred_at FROM event WHERE lead_id = ANY(\(leads))"
    }
    static func postpone(_ id: Int64, until: Int64, reason: String, now: Int64) -> Q {
        """
        UPDATE outbox SET due_at = \(until), reason = \(reason), updated_at = \(now)
        WHERE id = \(id) AND status IN (\(unescaped: OutboxStatus.scheduled.sql), \(unescaped: OutboxStatus.deferred.sql))
        """
    }
    static func resolve(_ id: Int64, status: OutboxStatus, reason: String, now: Int64) -> Q {
        """
        UPDATE outbox SET status = \(status.rawValue), reason = \(reason), updated_at = \(now)
        WHERE id = \(id) AND status IN (\(unescaped: OutboxStatus.scheduled.sql), \(unescaped: OutboxStatus.deferred.sql), \(unescaped: OutboxStatus.sending.sql))
        """
    }
    static func leadOfSend(_ id: Int64) -> Q { "SELECT lead_id FROM outbox WHERE id = \(id)" }
    /// Claims a group in one statement; returns the rows claimed (one cancelled or claimed meanwhile is not). Each
    /// row is locked by the UPDATE: of two claims at once, the second re-reads it, finds it `sending`, and skips it.
    /// The claim is the node's until `lease_until`, which its heartbeat extends.
    static func claim(_ ids: [Int64], node: String, leaseUntil: Int64, now: Int64) -> Q {
        """
        UPDATE outbox SET status = \(unescaped: OutboxStatus.sending.sql), attempts = attempts + 1, sent_at = \(now), updated_at = \(now),
                          first_attempt_at = coalesce(first_attempt_at, \(now)), claimed_by = \(node), lease_until = \(leaseUntil)
        WHERE id = ANY(\(ids)) AND status IN (\(unescaped: OutboxStatus.scheduled.sql), \(unescaped: OutboxStatus.deferred.sql))
        RETURNING id
        """
    }
    /// A group's deliveries in one statement; `links` '' is none. Returns the rows now sent: only the claiming
    /// node's result counts, so a late one, after the row was recovered, changes nothing.
    static func markSent(_ ids: [Int64], node: String, replies: [String], links: [String], variants: [String], now: Int64) -> Q {
        """
        UPDATE outbox o SET status = \(unescaped: OutboxStatus.sent.sql), sent_at = \(now), server_reply = v.reply, links = NULLIF(v.links, ''),
                            last_error = NULL, updated_at = \(now), variant = NULLIF(v.variant, '')
        FROM unnest(\(ids)::bigint[], \(replies)::text[], \(links)::text[], \(variants)::text[]) AS v(id, reply, links, variant)
        WHERE o.id = v.id AND o.status = \(unescaped: OutboxStatus.sending.sql) AND o.claimed_by = \(node) RETURNING o.id
        """
    }
    static func markDeferred(_ id: Int64, node: String, retryAt: Int64, error: String, now: Int64) -> Q {
        """
        UPDATE outbox SET status = \(unescaped: OutboxStatus.deferred.sql), due_at = \(retryAt), last_error = \(error), updated_at = \(now)
        WHERE id = \(id) AND status = \(unescaped: OutboxStatus.sending.sql) AND claimed_by = \(node)
        """
    }
    static func markFailed(_ id: Int64, node: String, error: String, now: Int64) -> Q {
        """
        UPDATE outbox SET status = \(unescaped: OutboxStatus.failed.sql), last_error = \(error), updated_at = \(now)
        WHERE id = \(id) AND status = \(unescaped: OutboxStatus.sending.sql) AND claimed_by = \(node) RETURNING id
        """
    }
    static func emailKeyOfLead(_ id: Int64) -> Q { "SELECT email_key FROM lead WHERE id = \(id)" }
    static func insertEvent(lead: Int64, outbox: Int64?, sequence: String?, step: String?, type: String, machine: Bool, at: Int64,
                            data: String? = nil) -> Q {
        """
        INSERT INTO event (lead_id, outbox_id, sequence_id, step_id, type, machine, occurred_at, data)
        VALUES (\(lead), \(outbox), \(sequence), \(step), \(type), \(machine), \(at), \(data)::jsonb) RETURNING id
        """
    }
    static func endEnrollment(_ enrollment: Int64, reason: String, now: Int64) -> Q {
        """
        UPDATE enrollment SET state = \(unescaped: EnrollmentState.exited.sql), next_step = NULL, ended_at = \(now), end_reason = \(reason)
        WHERE id = \(enrollment) AND state = \(unescaped: EnrollmentState.active.sql) RETURNING id
        """
    }
    static func endEnrollmentsOfLead(_ lead: Int64, reason: String, now: Int64) -> Q {
        """
        UPDATE enrollment SET state = \(unescaped: EnrollmentState.exited.sql), next_step = NULL, ended_at = \(now), end_reason = \(reason)
        WHERE lead_id = \(lead) AND state = \(unescaped: EnrollmentState.active.sql) RETURNING id
        """
    }
    static func cancelSendsOfEnrollment(_ enrollment: Int64, reason: String, now: Int64) -> Q {
        """
        UPDATE outbox SET status = \(unescaped: OutboxStatus.cancelled.sql), reason = \(reason), updated_at = \(now)
        WHERE enrollment_id = \(enrollment) AND status IN (\(unescaped: OutboxStatus.scheduled.sql), \(unescaped: OutboxStatus.deferred.sql))
        """
    }
    static func cancelSendsOfLead(_ lead: Int64, reason: String, now: Int64) -> Q {
        """
        UPDATE outbox SET status = \(unescaped: OutboxStatus.cancelled.sql), reason = \(reason), updated_at = \(now)
        WHERE lead_id = \(lead) AND status IN (\(unescaped: OutboxStatus.scheduled.sql), \(unescaped: OutboxStatus.deferred.sql))
        """
    }
    /// Sends whose node stopped extending their lease (it died, or lost the database for a whole lease); a live
    /// node's are never touched. Two nodes recovering at once: the second re-reads the row, no longer `sending`.
    static func recoverInFlight(now: Int64) -> Q {
        """
        UPDATE outbox SET status = \(unescaped: OutboxStatus.scheduled.sql), possibly_sent = true, reason = 'in flight when its node stopped',
                          updated_at = \(now), claimed_by = NULL, lease_until = NULL
        WHERE status = \(unescaped: OutboxStatus.sending.sql) AND coalesce(lease_until, 0) <= \(now)
          AND enrollment_id IN (SELECT id FROM enrollment WHERE state = \(unescaped: EnrollmentState.active.sql))
        RETURNING id
        """
    }
    /// In flight when its enrollment ended (a hand-off, an exit): recorded as possibly sent, never retried.
    static func cancelInFlightOfEndedEnrollments(now: Int64) -> Q {
        """
        UPDATE outbox SET status = \(unescaped: OutboxStatus.cancelled.sql), possibly_sent = true,
                          reason = 'in flight when its node stopped; enrollment ended', updated_at = \(now), claimed_by = NULL, lease_until = NULL
        WHERE status = \(unescaped: OutboxStatus.sending.sql) AND coalesce(lease_until, 0) <= \(now)
        """
    }

    // MARK: cluster

    static func upsertNode(_ id: String, hostname: String, version: String, startedAt: Int64, now: Int64) -> Q {
        """
        INSERT INTO node (id, hostname, version, started_at, heartbeat_at) VALUES (\(id), \(hostname), \(version), \(startedAt), \(now))
        ON CONFLICT (id) DO UPDATE SET heartbeat_at = excluded.heartbeat_at
        """
    }
    // The heartbeat's extensions skip rows the node's own work has locked (a completion, a batch's lease): it never
    // waits for them, so it can never deadlock with them; the next beat extends what this one skipped.
    static func extendSends(node: String, until: Int64) -> Q {
        """
        UPDATE outbox SET lease_until = \(until) WHERE id IN (
            SELECT id FROM outbox WHERE claimed_by = \(node) AND status = \(unescaped: OutboxStatus.sending.sql) FOR UPDATE SKIP LOCKED)
        """
    }
    static func extendLeads(node: String, until: Int64) -> Q {
        "UPDATE lead_lease SET until = \(until) WHERE lead_id IN (SELECT lead_id FROM lead_lease WHERE node = \(node) FOR UPDATE SKIP LOCKED)"
    }
    static func extendJobs(node: String, until: Int64) -> Q {
        "UPDATE job_lease SET until = \(until) WHERE name IN (SELECT name FROM job_lease WHERE node = \(node) FOR UPDATE SKIP LOCKED)"
    }
    static func extendHandoffs(node: String, until: Int64) -> Q {
        """
        UPDATE handoff SET lease_until = \(until) WHERE id IN (
            SELECT id FROM handoff WHERE claimed_by = \(node) AND status = \(unescaped: HandoffStatus.pending.sql) FOR UPDATE SKIP LOCKED)
        """
    }
    static func liveNodes(since: Int64) -> Q {
        "SELECT id, hostname, version, started_at, heartbeat_at FROM node WHERE heartbeat_at > \(since) ORDER BY id"
    }
    static let allNodes: Q = "SELECT id, hostname, version, started_at, heartbeat_at FROM node ORDER BY id"
    /// Nodes silent for long are forgotten (a killed node never deletes its row); `nurture stats` shows the others.
    static func forgetNodes(silentSince: Int64) -> Q { "DELETE FROM node WHERE heartbeat_at < \(silentSince)" }
    static func releaseExpiredHandoffs(now: Int64) -> Q {
        """
        UPDATE handoff SET claimed_by = NULL, lease_until = NULL
        WHERE claimed_by IS NOT NULL AND coalesce(lease_until, 0) <= \(now) AND status = \(unescaped: HandoffStatus.pending.sql)
        """
    }
    /// What a node stopping cleanly still holds: its sends become recoverable at once, its leases end.
    static func expireSends(node: String, now: Int64) -> Q {
        "UPDATE outbox SET lease_until = \(now) WHERE claimed_by = \(node) AND status = \(unescaped: OutboxStatus.sending.sql)"
    }
    static func releaseJobs(node: String) -> Q { "DELETE FROM job_lease WHERE node = \(node)" }
    static func releaseHandoffs(node: String) -> Q {
        "UPDATE handoff SET claimed_by = NULL, lease_until = NULL WHERE claimed_by = \(node)"
    }
    static func deleteNode(_ id: String) -> Q { "DELETE FROM node WHERE id = \(id)" }
    static func reconsider(personas: [String]) -> Q {
        "UPDATE lead SET needs_enrollment = true WHERE persona = ANY(\(personas)) AND NOT needs_enrollment"
    }
    static let queueDepth: Q = """
        SELECT (SELECT count(*) FROM outbox WHERE status IN (\(unescaped: OutboxStatus.scheduled.sql), \(unescaped: OutboxStatus.deferred.sql))) AS waiting,
               (SELECT count(*) FROM outbox WHERE status = \(unescaped: OutboxStatus.sending.sql)) AS sending
        """
    static let nextDueAt: Q = """
        SELECT min(t) AS at FROM (
            SELECT min(due_at) AS t FROM outbox WHERE status IN (\(unescaped: OutboxStatus.scheduled.sql), \(unescaped: OutboxStatus.deferred.sql))
            UNION ALL SELECT min(not_before) FROM pending_enrollment) AS next
        """
    static func leadIDByKey(_ key: String) -> Q { "SELECT id, score FROM lead WHERE email_key = \(key)" }
    static func activeEnrollmentsOfLead(_ lead: Int64) -> Q {
        "SELECT id, sequence_id, enrolled_at FROM enrollment WHERE lead_id = \(lead) AND state = \(unescaped: EnrollmentState.active.sql) ORDER BY id"
    }
    static func eventTypesOfLeadSince(_ lead: Int64, since: Int64) -> Q {
        "SELECT DISTINCT type FROM event WHERE lead_id = \(lead) AND occurred_at >= \(since)"
    }
    static let outboxStatusCounts: Q = "SELECT status, count(*) AS n FROM outbox GROUP BY status"

    // MARK: tracking

    static func trackedMessage(_ id: Int64) -> Q {
        """
        SELECT o.id, o.lead_id, o.sequence_id, o.step_id, o.sent_at, o.links, l.email, l.locale, l.fields::text AS fields,
               EXISTS (SELECT 1 FROM suppression s WHERE s.email_key = l.email_key) AS suppressed
        FROM outbox o JOIN lead l ON l.id = o.lead_id
        WHERE o.id = \(id) AND o.status IN (\(unescaped: OutboxStatus.sending.sql), \(unescaped: OutboxStatus.sent.sql))
        """
    }
    /// NULL none, 0 only machine ones, 1 a person's: as SQLite's `earlierEngagement`, stopping at the first match.
    static func earlierEngagement(outbox: Int64, type: String, link: Int64) -> Q {
        """
        SELECT CASE
          WHEN EXISTS (SELECT 1 FROM event WHERE outbox_id = \(outbox) AND type = \(type) AND NOT machine
                       AND coalesce((data->>'link')::bigint, -1) = \(link) AND data->'repeat' IS NULL) THEN 1
          WHEN EXISTS (SELECT 1 FROM event WHERE outbox_id = \(outbox) AND type = \(type) AND machine
                       AND coalesce((data->>'link')::bigint, -1) = \(link) AND data->'repeat' IS NULL) THEN 0
        END AS earlier
        """
    }
    static func distinctLinksClicked(outbox: Int64, since: Int64) -> Q {
        """
        SELECT count(DISTINCT data->>'link') AS n FROM event
        WHERE outbox_id = \(outbox) AND type = \(unescaped: EventKind.click.sql) AND occurred_at >= \(since)
        """
    }
    static func flagBurst(outbox: Int64, since: Int64) -> Q {
        """
        UPDATE event SET machine = true, data = coalesce(data, '{}'::jsonb) || '{"why": "burst on every link of the message"}'::jsonb
        WHERE outbox_id = \(outbox) AND type = \(unescaped: EventKind.click.sql) AND occurred_at >= \(since) AND NOT machine
        """
    }
    // MARK: sequence versions and plan (as in SQL)

    static func insertSequenceVersion(_ id: String, version: String, source: String, at: Int64) -> Q {
        "INSERT INTO sequence_version (sequence_id, version, source, loaded_at) VALUES (\(id), \(version), \(source), \(at)) ON CONFLICT DO NOTHING"
    }
    static func sequenceSources(_ id: String) -> Q { "SELECT version, source FROM sequence_version WHERE sequence_id = \(id)" }
    static func planEnrollments(_ id: String) -> Q {
        """
        SELECT e.id, e.version, e.enrolled_at, l.email, l.score, l.stage, l.fit, l.fit_grade, w.step_id, w.due_at,
               (SELECT string_agg(o.step_id, ',') FROM outbox o WHERE o.enrollment_id = e.id
                  AND o.status IN (\(unescaped: OutboxStatus.sent.sql), \(unescaped: OutboxStatus.skipped.sql), \(unescaped: OutboxStatus.cancelled.sql),
                                   \(unescaped: OutboxStatus.failed.sql), \(unescaped: OutboxStatus.passed.sql))) AS done,
               (SELECT string_agg(DISTINCT ev.type, ',') FROM event ev WHERE ev.lead_id = e.lead_id AND ev.occurred_at >= e.enrolled_at) AS events
        FROM enrollment e JOIN lead l ON l.id = e.lead_id
        LEFT JOIN outbox w ON w.id = (SELECT o.id FROM outbox o WHERE o.enrollment_id = e.id
                                        AND o.status IN (\(unescaped: OutboxStatus.scheduled.sql), \(unescaped: OutboxStatus.deferred.sql),
                                                         \(unescaped: OutboxStatus.sending.sql))
                                      ORDER BY o.id DESC LIMIT 1)
        WHERE e.sequence_id = \(id) AND e.state = \(unescaped: EnrollmentState.active.sql) ORDER BY e.id
        """
    }

    // MARK: recipient choices (as in SQL)

    static func choiceTarget(_ id: Int64) -> Q {
        """
        SELECT o.lead_id, o.sequence_id, o.step_id, l.email_key FROM outbox o JOIN lead l ON l.id = o.lead_id
        WHERE o.id = \(id) AND o.status IN (\(unescaped: OutboxStatus.sending.sql), \(unescaped: OutboxStatus.sent.sql))
        """
    }
    static func activeEnrollmentIn(lead: Int64, sequence: String) -> Q {
        "SELECT id FROM enrollment WHERE lead_id = \(lead) AND sequence_id = \(sequence) AND state = \(unescaped: EnrollmentState.active.sql)"
    }
    static func markLeftAfterEnd(lead: Int64, sequence: String) -> Q {
        """
        UPDATE enrollment SET end_reason = '\(unescaped: RecipientChoices.leftReason) (after ' || coalesce(end_reason, 'its end') || ')'
        WHERE id = (SELECT max(id) FROM enrollment WHERE lead_id = \(lead) AND sequence_id = \(sequence))
          AND coalesce(end_reason, '') NOT LIKE '\(unescaped: RecipientChoices.leftReason)%' RETURNING id
        """
    }
    static func pauseLead(_ lead: Int64, until: Int64) -> Q {
        "UPDATE lead SET paused_until = \(until) WHERE id = \(lead) AND coalesce(paused_until, 0) < \(until) RETURNING id"
    }
    static func pausedUntil(_ lead: Int64) -> Q { "SELECT paused_until FROM lead WHERE id = \(lead)" }

    static func leadOfOutbox(_ id: Int64) -> Q { "SELECT o.lead_id, l.email_key FROM outbox o JOIN lead l ON l.id = o.lead_id WHERE o.id = \(id)" }

    // MARK: scoring and hand-off

    static func markEngaged(_ lead: Int64, at: Int64) -> Q {
        "UPDATE lead SET last_engaged_at = greatest(coalesce(last_engaged_at, 0), \(at)) WHERE id = \(lead)"
    }
    /// Leads silent since `before` that were not already charged for this silence; locked, so two processes
    /// sweeping at once charge each lead once.
    static func inactiveLeads(before: Int64, limit: Int64) -> Q {
        """
        SELECT id FROM lead WHERE coalesce(last_engaged_at, created_at) < \(before)
          AND (inactivity_scored_at IS NULL OR inactivity_scored_at < coalesce(last_engaged_at, created_at))
        ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED
        """
    }
    static func markInactivityScored(_ lead: Int64, now: Int64) -> Q { "UPDATE lead SET inactivity_scored_at = \(now) WHERE id = \(lead)" }
    /// Locks the lead's row: two events of one lead scored at once are applied one after the other.
    static func scoreStateOfLead(_ lead: Int64) -> Q {
        "SELECT score, score_at, stage, thresholds_fired, fit, fit_grade FROM lead WHERE id = \(lead) FOR UPDATE"
    }
    static func setScoreState(_ lead: Int64, score: Double, at: Int64?, stage: String, fired: String) -> Q {
        "UPDATE lead SET score = \(score), score_at = \(at), stage = \(stage), thresholds_fired = \(fired) WHERE id = \(lead)"
    }
    static func insertLedgerEntry(lead: Int64, at: Int64, delta: Double, scoreAfter: Double, cause: String, event: Int64?) -> Q {
        """
        INSERT INTO score_ledger (lead_id, at, delta, score_after, cause, event_id)
        VALUES (\(lead), \(at), \(delta), \(scoreAfter), \(cause), \(event))
        """
    }
    /// One row of a hand-off per channel; `crossing` nil makes the row its own crossing (the first row).
    static func insertHandoff(lead: Int64, channel: String, score: Double, now: Int64, slaDueAt: Int64?, sequence: String?, reminder: Bool,
                              crossing: Int64?) -> Q {
        """
        INSERT INTO handoff (lead_id, channel, score, status, next_attempt_at, created_at, sla_due_at, sequence_id, reminder, crossing)
        VALUES (\(lead), \(channel), \(score), \(unescaped: HandoffStatus.pending.sql), \(now), \(now), \(slaDueAt), \(sequence), \(reminder),
                \(crossing))
        RETURNING id
        """
    }
    static func setCrossing(_ id: Int64) -> Q { "UPDATE handoff SET crossing = id WHERE id = \(id)" }
    /// A hand-off with no channel to tell it on is recorded as told: nothing to deliver, an id to answer.
    static func markUntold(_ id: Int64) -> Q { "UPDATE handoff SET status = \(unescaped: HandoffStatus.delivered.sql), delivered_at = created_at WHERE id = \(id)" }
    /// The sequence a hand-off is credited to: the last one that mailed the lead.
    static func lastSequenceOfLead(_ lead: Int64) -> Q {
        """
        SELECT sequence_id FROM outbox WHERE lead_id = \(lead) AND status = \(unescaped: OutboxStatus.sent.sql) ORDER BY sent_at DESC, id DESC LIMIT 1
        """
    }
    static func hasOpenHandoff(_ lead: Int64) -> Q { "SELECT 1 AS open FROM handoff WHERE lead_id = \(lead) AND id = crossing AND outcome IS NULL LIMIT 1" }
    static func setRecontactAfter(_ lead: Int64, until: Int64) -> Q { "UPDATE lead SET recontact_after = \(until) WHERE id = \(lead)" }
    static func leadNeedsEnrollment(_ lead: Int64) -> Q { "UPDATE lead SET needs_enrollment = true WHERE id = \(lead)" }
    static func insertAnsweredEnrollment(lead: Int64, sequence: String, notBefore: Int64) -> Q {
        """
        INSERT INTO pending_enrollment (lead_id, sequence_id, not_before, reenter) VALUES (\(lead), \(sequence), \(notBefore), true)
        ON CONFLICT (lead_id, sequence_id) DO UPDATE SET not_before = excluded.not_before, reenter = true
        """
    }
    static func insertPendingEnrollment(lead: Int64, sequence: String) -> Q {
        "INSERT INTO pending_enrollment (lead_id, sequence_id) VALUES (\(lead), \(sequence)) ON CONFLICT DO NOTHING"
    }
    /// Claims the due hand-offs no live node holds (skipping rows another node is claiming): each is delivered by
    /// one node at a time.
    static func dueHandoffs(at now: Int64, limit: Int64, node: String, leaseUntil: Int64) -> Q {
        """
        UPDATE handoff h SET claimed_by = \(node), lease_until = \(leaseUntil) FROM lead l
        WHERE l.id = h.lead_id AND h.id IN (
            SELECT id FROM handoff WHERE status = \(unescaped: HandoffStatus.pending.sql) AND next_attempt_at <= \(now)
              AND (claimed_by IS NULL OR claimed_by = \(node) OR lease_until <= \(now))
              AND NOT (reminder AND outcome IS NOT NULL) -- sales answered meanwhile: no reminder
            ORDER BY next_attempt_at LIMIT \(limit) FOR UPDATE SKIP LOCKED)
        RETURNING h.id, h.lead_id, h.channel, h.score, h.attempts, h.created_at, h.next_attempt_at, h.inbound_id, h.crossing, h.reminder,
                  h.sla_due_at, l.email
        """
    }
    static let nextHandoffAt: Q = "SELECT min(next_attempt_at) AS at FROM handoff WHERE status = \(unescaped: HandoffStatus.pending.sql)"
    static func handoffDelivered(_ id: Int64, at: Int64) -> Q {
        """
        UPDATE handoff SET status = \(unescaped: HandoffStatus.delivered.sql), attempts = attempts + 1, delivered_at = \(at), last_error = NULL,
                           claimed_by = NULL, lease_until = NULL
        WHERE id = \(id)
        """
    }
    /// Only the node holding it records a failed attempt (one whose claim was recovered meanwhile counts for nothing).
    static func handoffRetry(_ id: Int64, node: String, retryAt: Int64, error: String) -> Q {
        """
        UPDATE handoff SET attempts = attempts + 1, next_attempt_at = \(retryAt), last_error = \(error), claimed_by = NULL, lease_until = NULL
        WHERE id = \(id) AND (claimed_by = \(node) OR claimed_by IS NULL)
        """
    }

    // MARK: GDPR

    static func leadIDAndKey(_ key: String) -> Q { "SELECT id, email_key FROM lead WHERE email_key = \(key)" }
    static func deleteLead(_ id: Int64) -> Q { "DELETE FROM lead WHERE id = \(id)" }
    static func outboxIDsOfLead(_ id: Int64) -> Q { "SELECT id FROM outbox WHERE lead_id = \(id) ORDER BY id" }
    static func deleteSuppression(_ key: String) -> Q { "DELETE FROM suppression WHERE email_key = \(key)" }
    static func deleteInboundFrom(_ key: String) -> Q { "DELETE FROM inbound WHERE sender_key = \(key)" }
    static func exportLead(_ id: Int64) -> Q {
        """
        SELECT email, persona, timezone, locale, fields::text AS fields, consent_source, consent_at, consent_text, consent_ip, stage, score,
               recontact_after, created_at, updated_at, fit, fit_grade, paused_until FROM lead WHERE id = \(id)
        """
    }
    static func exportConversions(_ id: Int64) -> Q { "SELECT sequence_id, step_id, variant, holdout, at FROM conversion WHERE lead_id = \(id) ORDER BY at" }
    static func exportEvents(_ id: Int64) -> Q {
        "SELECT type, sequence_id, step_id, machine, occurred_at, data::text AS data FROM event WHERE lead_id = \(id) ORDER BY occurred_at, id"
    }
    static func exportLedger(_ id: Int64) -> Q {
        "SELECT at, delta, score_after, cause, kind FROM score_ledger WHERE lead_id = \(id) ORDER BY at, id"
    }
    static func exportSends(_ id: Int64) -> Q {
        """
        SELECT sequence_id, step_id, status, message_id, due_at, sent_at, attempts, coalesce(last_error, reason) AS why, server_reply, variant
        FROM outbox WHERE lead_id = \(id) ORDER BY id
        """
    }
    static func exportEnrollments(_ id: Int64) -> Q {
        "SELECT sequence_id, state, next_step, enrolled_at, ended_at, end_reason, holdout, version FROM enrollment WHERE lead_id = \(id) ORDER BY id"
    }
    static func handoffsOfLead(_ id: Int64) -> Q {
        """
        SELECT id, channel, status, attempts, last_error, created_at, delivered_at, crossing, reminder, sla_due_at, outcome, outcome_reason,
               answered_at, sequence_id FROM handoff WHERE lead_id = \(id) ORDER BY id
        """
    }

    // MARK: rescore and stats

    static func leadsForRescore(after: Int64, limit: Int64) -> Q {
        """
        SELECT id, email, persona, fields::text AS fields, score, score_at, stage, thresholds_fired, fit, fit_grade, fit_matched FROM lead
        WHERE id > \(after) ORDER BY id LIMIT \(limit)
        """
    }
    static func eventsOfLeadForRescore(_ id: Int64) -> Q {
        "SELECT type, machine, occurred_at FROM event WHERE lead_id = \(id) ORDER BY occurred_at, id"
    }
    static let leadCount: Q = "SELECT count(*) AS n FROM lead"
    static let suppressionCounts: Q = "SELECT reason, count(*) AS n FROM suppression GROUP BY reason"
    static func enrollmentStats(since: Int64) -> Q {
        """
        SELECT e.sequence_id, count(*) AS enrolled, count(*) FILTER (WHERE e.holdout) AS held_out,
               count(c.enrollment_id) FILTER (WHERE NOT e.holdout) AS goal_converted,
               count(c.enrollment_id) FILTER (WHERE e.holdout) AS holdout_converted
        FROM enrollment e LEFT JOIN conversion c ON c.enrollment_id = e.id
        WHERE e.enrolled_at >= \(since) GROUP BY e.sequence_id
        """
    }
    /// As in SQL.insertConversion.
    static func insertConversion(lead: Int64, sequence: String, since: Int64, at: Int64) -> Q {
        """
        INSERT INTO conversion (enrollment_id, lead_id, sequence_id, step_id, variant, holdout, at)
        SELECT e.id, e.lead_id, e.sequence_id, o.step_id, o.variant, e.holdout, \(at)
        FROM enrollment e
        LEFT JOIN outbox o ON o.id = (SELECT x.id FROM outbox x WHERE x.enrollment_id = e.id AND x.status = \(unescaped: OutboxStatus.sent.sql)
                                        AND x.sent_at <= \(at) ORDER BY x.sent_at DESC, x.id DESC LIMIT 1)
        WHERE e.id = (SELECT max(id) FROM enrollment WHERE lead_id = \(lead) AND sequence_id = \(sequence) AND enrolled_at >= \(since)
                        AND enrolled_at <= \(at))
        ON CONFLICT (enrollment_id) DO NOTHING
        """
    }
    static func stepStats(since: Int64) -> Q {
        """
        SELECT o.sequence_id, o.step_id, o.variant,
               count(*) FILTER (WHERE o.status = \(unescaped: OutboxStatus.sent.sql)) AS sent,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM event e WHERE e.outbox_id = o.id AND e.type = \(unescaped: EventKind.bounce.sql))) AS bounced,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM event e WHERE e.outbox_id = o.id AND e.type = \(unescaped: EventKind.open.sql)
                                              AND NOT e.machine)) AS opened,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM event e WHERE e.outbox_id = o.id AND e.type = \(unescaped: EventKind.click.sql)
                                              AND NOT e.machine)) AS clicked,
               (SELECT count(*) FROM event e JOIN outbox x ON x.id = e.outbox_id WHERE x.sequence_id = o.sequence_id AND x.step_id = o.step_id AND x.variant IS NOT DISTINCT FROM o.variant
                  AND e.type = \(unescaped: EventKind.click.sql) AND NOT e.machine AND e.occurred_at >= \(since)) AS clicks,
               (SELECT count(*) FROM event e JOIN outbox x ON x.id = e.outbox_id WHERE x.sequence_id = o.sequence_id AND x.step_id = o.step_id AND x.variant IS NOT DISTINCT FROM o.variant
                  AND e.type = \(unescaped: EventKind.open.sql) AND e.machine AND e.occurred_at >= \(since)) AS machine_opens,
               (SELECT count(*) FROM event e JOIN outbox x ON x.id = e.outbox_id WHERE x.sequence_id = o.sequence_id AND x.step_id = o.step_id AND x.variant IS NOT DISTINCT FROM o.variant
                  AND e.type = \(unescaped: EventKind.click.sql) AND e.machine AND e.occurred_at >= \(since)) AS machine_clicks,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM event e WHERE e.outbox_id = o.id
                                              AND e.type = \(unescaped: EventKind.unsubscribe.sql))) AS unsubscribed,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM event e WHERE e.outbox_id = o.id
                                              AND e.type = \(unescaped: EventKind.softBounce.sql))) AS soft_bounced,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM event e WHERE e.outbox_id = o.id
                                              AND e.type = \(unescaped: EventKind.complaint.sql))) AS complained,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM event e WHERE e.outbox_id = o.id
                                              AND e.type = \(unescaped: EventKind.replied.sql))) AS replied,
               count(*) FILTER (WHERE EXISTS (SELECT 1 FROM event e WHERE e.outbox_id = o.id
                                              AND e.type = \(unescaped: EventKind.autoReply.sql))) AS auto_replied,
               (SELECT count(*) FROM conversion c WHERE c.sequence_id = o.sequence_id AND c.step_id = o.step_id
                  AND c.variant IS NOT DISTINCT FROM o.variant AND c.at >= \(since)) AS converted
        FROM outbox o WHERE o.created_at >= \(since) GROUP BY o.sequence_id, o.step_id, o.variant
        """
    }
    /// Per enrollment: how long after entering the sequence the lead converted or was handed to sales, if it did.
    static func outcomesOfEnrollments(since: Int64) -> Q {
        """
        SELECT en.sequence_id,
               (SELECT min(e.occurred_at) FROM event e WHERE e.lead_id = en.lead_id AND e.type = 'converted' AND e.occurred_at >= en.enrolled_at)
                 - en.enrolled_at AS converted_after,
               (SELECT min(e.occurred_at) FROM event e WHERE e.lead_id = en.lead_id AND e.type = \(unescaped: EventKind.handoff.sql)
                  AND e.occurred_at >= en.enrolled_at) - en.enrolled_at AS handed_off_after
        FROM enrollment en WHERE en.enrolled_at >= \(since)
        """
    }

    // MARK: inspection

    static let possiblySentMessageIDs: Q = "SELECT message_id FROM outbox WHERE possibly_sent"
    static let sentMessageIDs: Q = "SELECT message_id FROM outbox WHERE status = \(unescaped: OutboxStatus.sent.sql) ORDER BY id"

    // MARK: inbound

    static func inboundSeen(_ key: String) -> Q { "SELECT EXISTS (SELECT 1 FROM inbound WHERE dedup_key = \(key)) AS seen" }
    /// As SQLite's: a message we sent (or may have), its lead, and the lead's soft bounces of other messages since it
    /// last showed interest.
    static func inboundTarget(outboxID: Int64?, messageID: String?) -> Q {
        """
        SELECT o.id AS outbox_id, o.sequence_id, o.step_id, l.id AS lead_id, l.email,
               (SELECT count(DISTINCT e.outbox_id) FROM event e WHERE e.lead_id = l.id AND e.type = \(unescaped: EventKind.softBounce.sql)
                  AND e.outbox_id <> o.id AND e.occurred_at > coalesce(l.last_engaged_at, 0)) AS soft_bounces
        FROM outbox o JOIN lead l ON l.id = o.lead_id
        WHERE (o.id = \(outboxID) OR o.message_id = \(messageID))
          AND (o.status IN (\(unescaped: OutboxStatus.sent.sql), \(unescaped: OutboxStatus.sending.sql), \(unescaped: OutboxStatus.deferred.sql),
                            \(unescaped: OutboxStatus.failed.sql)) OR o.possibly_sent)
        ORDER BY o.id DESC LIMIT 1
        """
    }
    static func inboundTarget(key: String) -> Q {
        """
        SELECT NULL::bigint AS outbox_id, NULL::text AS sequence_id, NULL::text AS step_id, l.id AS lead_id, l.email,
               (SELECT count(DISTINCT e.outbox_id) FROM event e WHERE e.lead_id = l.id AND e.type = \(unescaped: EventKind.softBounce.sql)
                  AND e.occurred_at > coalesce(l.last_engaged_at, 0)) AS soft_bounces
        FROM lead l WHERE l.email_key = \(key)
        """
    }
    static func insertInbound(key: String, at: Int64, source: String, outcome: String, reason: String?, lead: Int64?, outbox: Int64?,
                              size: Int64, message: String?, sender: String?) -> Q {
        """
        INSERT INTO inbound (dedup_key, received_at, source, outcome, reason, lead_id, outbox_id, size, message, sender_key)
        VALUES (\(key), \(at), \(source), \(outcome), \(reason), \(lead), \(outbox), \(size), \(message), \(sender))
        ON CONFLICT (dedup_key) DO NOTHING RETURNING id
        """
    }
    static let keptInbound: Q = "SELECT id, length(message)::bigint AS n FROM inbound WHERE message IS NOT NULL ORDER BY id"
    static func dropInboundCopy(_ id: Int64) -> Q { "UPDATE inbound SET message = NULL WHERE id = \(id)" }
    /// An out-of-office pushes the lead's waiting sends (never brings one forward).
    static func postponeSendsOfLead(_ lead: Int64, until: Int64, reason: String, now: Int64) -> Q {
        """
        UPDATE outbox SET due_at = greatest(due_at, \(until)), reason = \(reason), updated_at = \(now)
        WHERE lead_id = \(lead) AND status IN (\(unescaped: OutboxStatus.scheduled.sql), \(unescaped: OutboxStatus.deferred.sql))
        """
    }
    static func insertReplyForward(lead: Int64, inbound: Int64, now: Int64) -> Q {
        """
        INSERT INTO handoff (lead_id, channel, score, status, next_attempt_at, created_at, inbound_id)
        SELECT id, 'reply', score, \(unescaped: HandoffStatus.pending.sql), \(now), \(now), \(inbound) FROM lead WHERE id = \(lead)
        """
    }
    static func scoreOfLead(_ lead: Int64) -> Q { "SELECT score FROM lead WHERE id = \(lead)" }
    static let inboundCounts: Q = "SELECT outcome, count(*)::bigint AS n FROM inbound GROUP BY outcome"
    static func quarantined(limit: Int64) -> Q {
        """
        SELECT id, received_at, source, coalesce(reason, '') AS reason, size, message IS NOT NULL AS kept FROM inbound
        WHERE outcome = 'quarantined' ORDER BY id DESC LIMIT \(limit)
        """
    }
    static func inboundMessage(_ id: Int64) -> Q { "SELECT message FROM inbound WHERE id = \(id)" }

    // MARK: lifecycle (fit, answers from sales, SLA), as SQL.swift's

    static func fitOfLeads(keys: [String]) -> Q {
        "SELECT id, email, persona, fields::text AS fields, fit_grade, fit_matched FROM lead WHERE email_key = ANY(\(keys)) ORDER BY id"
    }
    static func setFit(_ id: Int64, fit: Double, grade: String, matched: String) -> Q {
        "UPDATE lead SET fit = \(fit), fit_grade = \(grade), fit_matched = \(matched) WHERE id = \(id)"
    }
    static func insertFitLedgerEntry(lead: Int64, at: Int64, delta: Double, fitAfter: Double, cause: String) -> Q {
        "INSERT INTO score_ledger (lead_id, at, delta, score_after, cause, kind) VALUES (\(lead), \(at), \(delta), \(fitAfter), \(cause), 'fit')"
    }
    /// The hand-off a delivery id belongs to, its row locked so two answers apply one after the other.
    static func crossingOfHandoff(_ id: Int64) -> Q {
        "SELECT h.crossing, h.lead_id, c.outcome FROM handoff h JOIN handoff c ON c.id = h.crossing WHERE h.id = \(id) FOR UPDATE OF c"
    }
    static func answerCrossing(_ crossing: Int64, outcome: String, reason: String?, at: Int64) -> Q {
        """
        UPDATE handoff SET outcome = \(outcome), outcome_reason = \(reason), answered_at = \(at),
               accepted_at = coalesce(accepted_at, CASE WHEN \(outcome) IN ('accepted', 'won', 'lost') THEN \(at) END)
        WHERE crossing = \(crossing)
        """
    }
    static func overdueCrossings(at now: Int64, limit: Int64) -> Q {
        """
        SELECT id, lead_id, score, sequence_id FROM handoff
        WHERE outcome IS NULL AND renotified_at IS NULL AND NOT reminder AND sla_due_at <= \(now) AND id = crossing
        ORDER BY sla_due_at LIMIT \(limit) FOR UPDATE SKIP LOCKED
        """
    }
    static func channelsOfCrossing(_ crossing: Int64) -> Q { "SELECT channel FROM handoff WHERE crossing = \(crossing) AND NOT reminder ORDER BY id" }
    static func markRenotified(_ crossing: Int64, at: Int64) -> Q { "UPDATE handoff SET renotified_at = \(at) WHERE crossing = \(crossing)" }
    static func handoffStats(now: Int64) -> Q {
        """
        SELECT coalesce(sequence_id, '') AS sequence_id, outcome, count(*) AS n,
               sum(CASE WHEN outcome IS NULL AND sla_due_at <= \(now) THEN 1 ELSE 0 END) AS overdue,
               coalesce(sum(accepted_at - created_at), 0)::bigint AS accept_ms, count(accepted_at) AS accept_n
        FROM handoff WHERE id = crossing GROUP BY coalesce(sequence_id, ''), outcome
        """
    }
}
