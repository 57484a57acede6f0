/// PostgreSQL's schema, as an append-only list of versioned migrations (never edit a shipped one, add the next),
/// applied under an advisory lock so daemons starting together migrate once. Columns mean what SQLite's do
/// (Migrations.swift); times are Unix milliseconds in both, so a database can be copied between them row for row.
enum PostgresMigrations {
    struct Migration {
        let version: Int64
        let name: String
        /// One statement each: the extended protocol runs one at a time.
        let statements: [String]
    }

    /// The advisory lock key every migrating process takes (any constant: it only has to be the same everywhere).
    static let lockKey: Int64 = 0x6E75_7274_7572_6531 // "nurture1"

    static let all: [Migration] = [
        Migration(version: 1, name: "schema", statements: [
            "CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)",
            // Makes Message-IDs unique across databases even though enrollment ids restart at 1.
            "INSERT INTO meta (key, value) VALUES ('instance', substr(md5(gen_random_uuid()::text), 1, 12))",
            // The nodes that run `nurture serve` on this database (registration and heartbeat come with clustering).
            """
            CREATE TABLE node (
                id text PRIMARY KEY,
                hostname text NOT NULL,
                version text NOT NULL,
                started_at bigint NOT NULL,
                heartbeat_at bigint NOT NULL
            )
            """,
            // Identity columns are never handed out twice, even after a delete: ids leave the database in tokens,
            // Message-IDs and logs, so an erased lead's links must never resolve to a later lead.
            """
            CREATE TABLE lead (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                email text NOT NULL,
                email_key text NOT NULL UNIQUE,
                persona text NOT NULL,
                timezone text,
                locale text,
                fields jsonb NOT NULL DEFAULT '{}',
                consent_source text NOT NULL,
                consent_at bigint NOT NULL,
                consent_text text,
                consent_ip text,
                stage text NOT NULL DEFAULT 'lead',
                score double precision NOT NULL DEFAULT 0,
                score_at bigint,
                recontact_after bigint,
                created_at bigint NOT NULL,
                updated_at bigint NOT NULL,
                needs_enrollment boolean NOT NULL DEFAULT true,
                thresholds_fired text NOT NULL DEFAULT '[]',
                last_engaged_at bigint,
                inactivity_scored_at bigint
            )
            """,
            // Only a reload reads leads by persona, and only those already considered (as in SQLite's v8).
            "CREATE INDEX lead_persona_considered ON lead (persona) WHERE NOT needs_enrollment",
            "CREATE INDEX lead_awaiting_enrollment ON lead (id) WHERE needs_enrollment",
            """
            CREATE TABLE enrollment (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                lead_id bigint NOT NULL REFERENCES lead (id) ON DELETE CASCADE,
                sequence_id text NOT NULL,
                state text NOT NULL,
                next_step text,
                enrolled_at bigint NOT NULL,
                last_sent_at bigint,
                ended_at bigint,
                end_reason text,
                UNIQUE (lead_id, sequence_id)
            )
            """,
            // claimed_by / lease_until: the node holding a `sending` row and until when (clustering uses them).
            """
            CREATE TABLE outbox (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                enrollment_id bigint NOT NULL REFERENCES enrollment (id) ON DELETE CASCADE,
                lead_id bigint NOT NULL REFERENCES lead (id) ON DELETE CASCADE,
                sequence_id text NOT NULL,
                step_id text NOT NULL,
                idempotency_key text NOT NULL UNIQUE,
                message_id text NOT NULL,
                status text NOT NULL,
                due_at bigint NOT NULL,
                attempts bigint NOT NULL DEFAULT 0,
                last_error text,
                server_reply text,
                sent_at bigint,
                created_at bigint NOT NULL,
                updated_at bigint NOT NULL,
                possibly_sent boolean NOT NULL DEFAULT false,
                first_attempt_at bigint,
                reason text,
                links text,
                claimed_by text,
                lease_until bigint
            )
            """,
            "CREATE INDEX outbox_due ON outbox (due_at) WHERE status IN ('scheduled', 'deferred')",
            "CREATE INDEX outbox_lead ON outbox (lead_id)",
            "CREATE INDEX outbox_enrollment ON outbox (enrollment_id)",
            "CREATE INDEX outbox_in_flight ON outbox (lease_until) WHERE status = 'sending'",
            "CREATE INDEX outbox_lead_recent ON outbox (lead_id, sent_at) WHERE status IN ('sent', 'sending')",
            """
            CREATE TABLE event (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                lead_id bigint NOT NULL REFERENCES lead (id) ON DELETE CASCADE,
                outbox_id bigint REFERENCES outbox (id) ON DELETE SET NULL,
                sequence_id text,
                step_id text,
                type text NOT NULL,
                machine boolean NOT NULL DEFAULT false,
                occurred_at bigint NOT NULL,
                data jsonb
            )
            """,
            "CREATE INDEX event_lead ON event (lead_id, occurred_at)",
            "CREATE INDEX event_engagement ON event (outbox_id, type, machine, occurred_at) WHERE outbox_id IS NOT NULL",
            """
            CREATE TABLE score_ledger (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                lead_id bigint NOT NULL REFERENCES lead (id) ON DELETE CASCADE,
                at bigint NOT NULL,
                delta double precision NOT NULL,
                score_after double precision NOT NULL,
                cause text NOT NULL,
                event_id bigint REFERENCES event (id) ON DELETE SET NULL
            )
            """,
            "CREATE INDEX score_ledger_lead ON score_ledger (lead_id, at)",
            // Deleting events (an erasure) finds their ledger rows without a scan.
            "CREATE INDEX score_ledger_event ON score_ledger (event_id) WHERE event_id IS NOT NULL",
            "CREATE TABLE suppression (email_key text PRIMARY KEY, reason text NOT NULL, created_at bigint NOT NULL)",
            """
            CREATE TABLE handoff (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                lead_id bigint NOT NULL REFERENCES lead (id) ON DELETE CASCADE,
                channel text NOT NULL,
                score double precision NOT NULL,
                status text NOT NULL,
                attempts bigint NOT NULL DEFAULT 0,
                next_attempt_at bigint NOT NULL,
                last_error text,
                created_at bigint NOT NULL,
                delivered_at bigint,
                claimed_by text,
                lease_until bigint
            )
            """,
            "CREATE INDEX handoff_due ON handoff (next_attempt_at) WHERE status = 'pending'",
            "CREATE INDEX handoff_lead ON handoff (lead_id)",
            """
            CREATE TABLE pending_enrollment (
                lead_id bigint NOT NULL REFERENCES lead (id) ON DELETE CASCADE,
                sequence_id text NOT NULL,
                PRIMARY KEY (lead_id, sequence_id)
            )
            """,
        ]),
        // Several daemons on one database: leases on the leads a node is deciding and on the cluster-wide jobs.
        Migration(version: 2, name: "cluster", statements: [
            // A lead whose due sends a node is deciding (fatigue is per lead): no other node decides it until `until`.
            "CREATE TABLE lead_lease (lead_id bigint PRIMARY KEY, node text NOT NULL, until bigint NOT NULL)",
            "CREATE INDEX lead_lease_node ON lead_lease (node)",
            // Enrollment intake, the inactivity sweep: one node at a time.
            "CREATE TABLE job_lease (name text PRIMARY KEY, node text NOT NULL, until bigint NOT NULL)",
            "CREATE INDEX outbox_claimed_by ON outbox (claimed_by) WHERE status = 'sending'",
            "CREATE INDEX handoff_claimed_by ON handoff (claimed_by) WHERE claimed_by IS NOT NULL",
        ]),
        // Inbound mail (bounces, complaints, replies), once each by key; as SQLite's v9-inbound.
        Migration(version: 3, name: "inbound", statements: [
            """
            CREATE TABLE inbound (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                dedup_key text NOT NULL UNIQUE,
                received_at bigint NOT NULL,
                source text NOT NULL,
                outcome text NOT NULL,
                reason text,
                lead_id bigint REFERENCES lead (id) ON DELETE CASCADE,
                outbox_id bigint REFERENCES outbox (id) ON DELETE SET NULL,
                size bigint NOT NULL,
                message text,
                sender_key text
            )
            """,
            "CREATE INDEX inbound_sender ON inbound (sender_key) WHERE sender_key IS NOT NULL",
            "CREATE INDEX inbound_lead ON inbound (lead_id) WHERE lead_id IS NOT NULL",
            "CREATE INDEX inbound_kept ON inbound (id) WHERE message IS NOT NULL",
            "CREATE INDEX inbound_outcome ON inbound (outcome, received_at)",
            "CREATE INDEX outbox_message_id ON outbox (message_id)",
            "ALTER TABLE handoff ADD COLUMN inbound_id bigint REFERENCES inbound (id) ON DELETE SET NULL",
        ]),
        // Sales' answers, the SLA, the fit score, re-entry after an ended enrollment; as SQLite's v10-lifecycle.
        Migration(version: 4, name: "lifecycle", statements: [
            "ALTER TABLE enrollment DROP CONSTRAINT enrollment_lead_id_sequence_id_key",
            "CREATE UNIQUE INDEX enrollment_active ON enrollment (lead_id, sequence_id) WHERE state = 'active'",
            "CREATE INDEX enrollment_lead ON enrollment (lead_id, sequence_id)",
            "ALTER TABLE lead ADD COLUMN fit double precision NOT NULL DEFAULT 0",
            "ALTER TABLE lead ADD COLUMN fit_grade text",
            "ALTER TABLE lead ADD COLUMN fit_matched text NOT NULL DEFAULT '{}'",
            "ALTER TABLE score_ledger ADD COLUMN kind text NOT NULL DEFAULT 'engagement'",
            "ALTER TABLE handoff ADD COLUMN crossing bigint",
            "ALTER TABLE handoff ADD COLUMN sequence_id text",
            "ALTER TABLE handoff ADD COLUMN reminder boolean NOT NULL DEFAULT false",
            "ALTER TABLE handoff ADD COLUMN sla_due_at bigint",
            "ALTER TABLE handoff ADD COLUMN renotified_at bigint",
            "ALTER TABLE handoff ADD COLUMN outcome text",
            "ALTER TABLE handoff ADD COLUMN outcome_reason text",
            "ALTER TABLE handoff ADD COLUMN answered_at bigint",
            "ALTER TABLE handoff ADD COLUMN accepted_at bigint",
            """
            UPDATE handoff SET crossing = (SELECT min(h.id) FROM handoff h WHERE h.lead_id = handoff.lead_id
                                           AND h.created_at = handoff.created_at AND h.channel <> 'reply')
            WHERE channel <> 'reply'
            """,
            "CREATE INDEX handoff_crossing ON handoff (crossing) WHERE crossing IS NOT NULL",
            "CREATE INDEX handoff_unanswered ON handoff (sla_due_at) WHERE outcome IS NULL AND renotified_at IS NULL AND NOT reminder",
            "ALTER TABLE pending_enrollment ADD COLUMN not_before bigint NOT NULL DEFAULT 0",
            "ALTER TABLE pending_enrollment ADD COLUMN reenter boolean NOT NULL DEFAULT false",
        ]),
        Migration(version: 5, name: "branches", statements: [
            "ALTER TABLE outbox ADD COLUMN wait_until bigint",
            "CREATE INDEX outbox_waiting ON outbox (lead_id) WHERE wait_until IS NOT NULL AND status = 'scheduled'",
            "ALTER TABLE enrollment ADD COLUMN version text",
            """
            CREATE TABLE sequence_version (
                sequence_id text NOT NULL,
                version text NOT NULL,
                source text NOT NULL,
                loaded_at bigint NOT NULL,
                PRIMARY KEY (sequence_id, version)
            )
            """,
        ]),
        Migration(version: 6, name: "reentry and pause", statements: [
            "ALTER TABLE enrollment ADD COLUMN reentry_flagged boolean NOT NULL DEFAULT false",
            "CREATE INDEX enrollment_reentry ON enrollment (sequence_id, ended_at) WHERE NOT reentry_flagged AND state <> 'active'",
            "ALTER TABLE lead ADD COLUMN paused_until bigint",
        ]),
        Migration(version: 7, name: "goals and variants", statements: [
            "ALTER TABLE outbox ADD COLUMN variant text",
            "ALTER TABLE enrollment ADD COLUMN holdout boolean NOT NULL DEFAULT false",
            """
            CREATE TABLE conversion (
                enrollment_id bigint PRIMARY KEY REFERENCES enrollment(id) ON DELETE CASCADE,
                lead_id bigint NOT NULL REFERENCES lead(id) ON DELETE CASCADE,
                sequence_id text NOT NULL,
                step_id text,
                variant text,
                holdout boolean NOT NULL,
                at bigint NOT NULL
            )
            """,
            "CREATE INDEX conversion_sequence ON conversion (sequence_id, step_id)",
        ]),
    ]
}
