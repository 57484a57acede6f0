import Foundation
import GRDB

/// The schema, as an append-only list of named migrations: never edit a shipped one, add the next.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var m = DatabaseMigrator()
        m.registerMigration("v1-leads-outbox-events") { db in
            try db.execute(sql: """
                CREATE TABLE lead (
                    id INTEGER PRIMARY KEY,
                    email TEXT NOT NULL,
                    email_key TEXT NOT NULL UNIQUE,      -- lowercased address: uniqueness and suppression
                    persona TEXT NOT NULL,
                    timezone TEXT,
                    locale TEXT,
                    fields TEXT NOT NULL DEFAULT '{}',   -- JSON object of declared custom fields
                    consent_source TEXT NOT NULL,
                    consent_at INTEGER NOT NULL,         -- times are Unix milliseconds
                    consent_text TEXT,
                    consent_ip TEXT,
                    stage TEXT NOT NULL DEFAULT 'lead',
                    score REAL NOT NULL DEFAULT 0,
                    score_at INTEGER,
                    recontact_after INTEGER,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX lead_persona ON lead(persona);

                CREATE TABLE enrollment (
                    id INTEGER PRIMARY KEY,
                    lead_id INTEGER NOT NULL REFERENCES lead(id) ON DELETE CASCADE,
                    sequence_id TEXT NOT NULL,
                    state TEXT NOT NULL,                 -- active | completed | exited
                    next_step TEXT,
                    enrolled_at INTEGER NOT NULL,
                    last_sent_at INTEGER,
                    ended_at INTEGER,
                    end_reason TEXT,
                    UNIQUE (lead_id, sequence_id)
                ) STRICT;

                CREATE TABLE outbox (
                    id INTEGER PRIMARY KEY,
                    enrollment_id INTEGER NOT NULL REFERENCES enrollment(id) ON DELETE CASCADE,
                    lead_id INTEGER NOT NULL REFERENCES lead(id) ON DELETE CASCADE,
                    sequence_id TEXT NOT NULL,
                    step_id TEXT NOT NULL,
                    idempotency_key TEXT NOT NULL UNIQUE, -- enrollment + step: a step is never queued twice
                    message_id TEXT NOT NULL,
                    status TEXT NOT NULL,                 -- scheduled|sending|sent|deferred|failed|cancelled|skipped
                    due_at INTEGER NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT,
                    server_reply TEXT,
                    sent_at INTEGER,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX outbox_due ON outbox(due_at) WHERE status IN ('scheduled', 'deferred');
                CREATE INDEX outbox_lead ON outbox(lead_id);

                CREATE TABLE event (
                    id INTEGER PRIMARY KEY,
                    lead_id INTEGER NOT NULL REFERENCES lead(id) ON DELETE CASCADE,
                    outbox_id INTEGER REFERENCES outbox(id) ON DELETE SET NULL,
                    sequence_id TEXT,
                    step_id TEXT,
                    type TEXT NOT NULL,                   -- sent, open, click, unsubscribe, bounce, or a custom name
                    machine INTEGER NOT NULL DEFAULT 0,   -- likely a prefetch or scanner, not a person
                    occurred_at INTEGER NOT NULL,
                    data TEXT
                ) STRICT;
                CREATE INDEX event_lead ON event(lead_id, occurred_at);

                CREATE TABLE score_ledger (
                    id INTEGER PRIMARY KEY,
                    lead_id INTEGER NOT NULL REFERENCES lead(id) ON DELETE CASCADE,
                    at INTEGER NOT NULL,
                    delta REAL NOT NULL,
                    score_after REAL NOT NULL,
                    cause TEXT NOT NULL,
                    event_id INTEGER REFERENCES event(id) ON DELETE SET NULL
                ) STRICT;
                CREATE INDEX score_ledger_lead ON score_ledger(lead_id, at);

                CREATE TABLE suppression (
                    email_key TEXT PRIMARY KEY,
                    reason TEXT NOT NULL,                 -- unsubscribed | bounced | complained | erased
                    created_at INTEGER NOT NULL
                ) STRICT, WITHOUT ROWID;
                """)
        }
        m.registerMigration("v2-scheduler") { db in
            try db.execute(sql: """
                CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT, WITHOUT ROWID;
                -- Makes Message-IDs unique across databases even though enrollment ids restart at 1.
                INSERT INTO meta (key, value) VALUES ('instance', lower(hex(randomblob(6))));

                -- Set when a lead is added or changed, so enrollment never scans all leads.
                ALTER TABLE lead ADD COLUMN needs_enrollment INTEGER NOT NULL DEFAULT 1;
                CREATE INDEX lead_awaiting_enrollment ON lead(id) WHERE needs_enrollment = 1;

                -- A transfer was in flight when the daemon died: it may have been delivered once already.
                ALTER TABLE outbox ADD COLUMN possibly_sent INTEGER NOT NULL DEFAULT 0;
                -- First transfer attempt: retries give up a fixed time after it.
                ALTER TABLE outbox ADD COLUMN first_attempt_at INTEGER;
                -- Why a send was skipped, cancelled or postponed, for `lead show`.
                ALTER TABLE outbox ADD COLUMN reason TEXT;
                CREATE INDEX outbox_enrollment ON outbox(enrollment_id);
                CREATE INDEX outbox_in_flight ON outbox(id) WHERE status = 'sending';
                CREATE INDEX outbox_lead_recent ON outbox(lead_id, sent_at) WHERE status IN ('sent', 'sending');
                """)
        }
        m.registerMigration("v3-tracking") { db in
            try db.execute(sql: """
                -- The sent message's own link targets (JSON array), by the index its /c/ tokens carry: a click
                -- redirects only there, never to a URL taken from the request.
                ALTER TABLE outbox ADD COLUMN links TEXT;
                CREATE INDEX event_outbox ON event(outbox_id, type, occurred_at) WHERE outbox_id IS NOT NULL;
                """)
        }
        m.registerMigration("v4-scoring-handoff") { db in
            try db.execute(sql: """
                -- Thresholds that fired and have not re-armed (JSON array of their 'at' values): hysteresis survives restarts.
                ALTER TABLE lead ADD COLUMN thresholds_fired TEXT NOT NULL DEFAULT '[]';
                -- A hand-off is committed with the threshold crossing that caused it, then delivered (and retried) from here.
                CREATE TABLE handoff (
                    id INTEGER PRIMARY KEY,
                    lead_id INTEGER NOT NULL REFERENCES lead(id) ON DELETE CASCADE,
                    channel TEXT NOT NULL,                -- webhook | email
                    score REAL NOT NULL,
                    status TEXT NOT NULL,                 -- pending | delivered
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at INTEGER NOT NULL,
                    last_error TEXT,
                    created_at INTEGER NOT NULL,
                    delivered_at INTEGER
                ) STRICT;
                CREATE INDEX handoff_due ON handoff(next_attempt_at) WHERE status = 'pending';
                CREATE INDEX handoff_lead ON handoff(lead_id);
                -- A threshold asked to enroll the lead in a sequence: the scheduler (which knows the steps) does it.
                CREATE TABLE pending_enrollment (
                    lead_id INTEGER NOT NULL REFERENCES lead(id) ON DELETE CASCADE,
                    sequence_id TEXT NOT NULL,
                    PRIMARY KEY (lead_id, sequence_id)
                ) STRICT, WITHOUT ROWID;
                -- Erased addresses stay suppressed as a keyed hash, never in clear.
                INSERT INTO meta (key, value) VALUES ('erasure_key', lower(hex(randomblob(32))));
                """)
        }
        m.registerMigration("v5-inactivity") { db in
            try db.execute(sql: """
                -- Last human open, click or custom event; long silence costs points (scoring.inactive_after).
                ALTER TABLE lead ADD COLUMN last_engaged_at INTEGER;
                ALTER TABLE lead ADD COLUMN inactivity_scored_at INTEGER;
                """)
        }
        m.registerMigration("v6-ids-never-reused") { db in
            // Ids leave the database in tokens, Message-IDs and logs: after a delete, SQLite would hand the highest ones
            // out again, so an erased lead's links would resolve to a later lead. AUTOINCREMENT never reuses an id.
            for table in ["lead", "enrollment", "outbox", "event", "score_ledger", "handoff"] {
                try Self.neverReuseIDs(db, table: table)
            }
        }
        m.registerMigration("v7-engagement-index") { db in
            // "Was this open/click already scored?" seeks straight to the message's first human (or machine) hit,
            // instead of walking every stored hit of the message on each request.
            try db.execute(sql: "CREATE INDEX event_engagement ON event(outbox_id, type, machine, occurred_at) WHERE outbox_id IS NOT NULL")
        }
        m.registerMigration("v8-persona-index-enrolled-leads") { db in
            // Only a reload reads leads by persona, and only those already considered for enrollment (the others are
            // queued anyway): indexing every lead dirtied each index page on every import batch of mixed personas.
            try db.execute(sql: """
                DROP INDEX lead_persona;
                CREATE INDEX lead_persona_considered ON lead(persona) WHERE needs_enrollment = 0;
                """)
        }
        m.registerMigration("v9-inbound") { db in
            try db.execute(sql: """
                -- Every inbound message (bounce, complaint, reply) once, by its key: an MTA's retry or an IMAP re-fetch
                -- after a crash finds it and changes nothing. A copy is kept (base64) of quarantined messages and of
                -- replies to forward, within inbound.quarantine_limit in all.
                CREATE TABLE inbound (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    dedup_key TEXT NOT NULL UNIQUE,
                    received_at INTEGER NOT NULL,
                    source TEXT NOT NULL,
                    outcome TEXT NOT NULL,               -- hard_bounce | soft_bounce | complaint | auto_reply | reply | ignored | quarantined
                    reason TEXT,
                    lead_id INTEGER REFERENCES lead(id) ON DELETE CASCADE,
                    outbox_id INTEGER REFERENCES outbox(id) ON DELETE SET NULL,
                    size INTEGER NOT NULL,
                    message TEXT,
                    sender_key TEXT                      -- the From address's key: erasing it deletes its messages too
                ) STRICT;
                CREATE INDEX inbound_sender ON inbound(sender_key) WHERE sender_key IS NOT NULL;
                CREATE INDEX inbound_lead ON inbound(lead_id) WHERE lead_id IS NOT NULL;
                CREATE INDEX inbound_kept ON inbound(id) WHERE message IS NOT NULL;
                CREATE INDEX inbound_outcome ON inbound(outcome, received_at);
                -- Reports and replies name our messages by Message-ID.
                CREATE INDEX outbox_message_id ON outbox(message_id);
                -- A reply forwarded to sales rides the hand-off outbox (channel 'reply').
                ALTER TABLE handoff ADD COLUMN inbound_id INTEGER REFERENCES inbound(id) ON DELETE SET NULL;
                """)
        }
        m.registerMigration("v10-lifecycle") { db in
            // A lead may enter a sequence again after its enrollment ended (sales recycled it, a customer is won
            // twice): one active enrollment per sequence, any number of ended ones.
            try Self.rebuild(db, table: "enrollment") { create in
                create.replacingOccurrences(of: #",\s*UNIQUE \(lead_id, sequence_id\)"#, with: "", options: .regularExpression)
            }
            try db.execute(sql: """
                CREATE UNIQUE INDEX enrollment_active ON enrollment(lead_id, sequence_id) WHERE state = 'active';
                CREATE INDEX enrollment_lead ON enrollment(lead_id, sequence_id);
                -- The fit score (scoring.fit), its grade, and the rules it matched (label → points), so a change of
                -- fields or rules writes ledger lines for what changed only.
                ALTER TABLE lead ADD COLUMN fit REAL NOT NULL DEFAULT 0;
                ALTER TABLE lead ADD COLUMN fit_grade TEXT;
                ALTER TABLE lead ADD COLUMN fit_matched TEXT NOT NULL DEFAULT '{}';
                -- Ledger lines explain the engagement score or the fit score.
                ALTER TABLE score_ledger ADD COLUMN kind TEXT NOT NULL DEFAULT 'engagement';
                -- A hand-off is one threshold crossing, told on one row per channel: `crossing` is the first row's
                -- id (sales answers any of them), NULL for a forwarded reply. Sales' answer, the SLA, the reminder.
                ALTER TABLE handoff ADD COLUMN crossing INTEGER;
                ALTER TABLE handoff ADD COLUMN sequence_id TEXT;
                ALTER TABLE handoff ADD COLUMN reminder INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE handoff ADD COLUMN sla_due_at INTEGER;
                ALTER TABLE handoff ADD COLUMN renotified_at INTEGER;
                ALTER TABLE handoff ADD COLUMN outcome TEXT;
                ALTER TABLE handoff ADD COLUMN outcome_reason TEXT;
                ALTER TABLE handoff ADD COLUMN answered_at INTEGER;
                ALTER TABLE handoff ADD COLUMN accepted_at INTEGER;
                -- Before, one crossing told on two channels left two rows of one lead and time: one hand-off.
                UPDATE handoff SET crossing = (SELECT min(h.id) FROM handoff h WHERE h.lead_id = handoff.lead_id
                                               AND h.created_at = handoff.created_at AND h.channel <> 'reply')
                WHERE channel <> 'reply';
                CREATE INDEX handoff_crossing ON handoff(crossing) WHERE crossing IS NOT NULL;
                CREATE INDEX handoff_unanswered ON handoff(sla_due_at) WHERE outcome IS NULL AND renotified_at IS NULL AND reminder = 0;
                -- An answer from sales asks for an enrollment after a cooldown, and may re-enter an ended sequence.
                ALTER TABLE pending_enrollment ADD COLUMN not_before INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE pending_enrollment ADD COLUMN reenter INTEGER NOT NULL DEFAULT 0;
                """)
        }
        m.registerMigration("v11-branches") { db in
            try db.execute(sql: """
                -- A wait_for step's timeout; an event of the lead makes its row due at once (the index finds them).
                ALTER TABLE outbox ADD COLUMN wait_until INTEGER;
                CREATE INDEX outbox_waiting ON outbox(lead_id) WHERE wait_until IS NOT NULL AND status = 'scheduled';
                -- The sequence version (content hash) the enrollment's latest step was planned under.
                ALTER TABLE enrollment ADD COLUMN version TEXT;
                -- Each version's files as the daemon loaded them, so `nurture plan` can compare the files on disk.
                CREATE TABLE sequence_version (
                    sequence_id TEXT NOT NULL,
                    version TEXT NOT NULL,
                    source TEXT NOT NULL,
                    loaded_at INTEGER NOT NULL,
                    PRIMARY KEY (sequence_id, version)
                ) STRICT, WITHOUT ROWID;
                """)
        }
        m.registerMigration("v12-reentry-pause") { db in
            try db.execute(sql: """
                -- Set once intake was told to look at the lead again after the sequence's reenter cooldown.
                ALTER TABLE enrollment ADD COLUMN reentry_flagged INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX enrollment_reentry ON enrollment(sequence_id, ended_at) WHERE reentry_flagged = 0 AND state <> 'active';
                -- The recipient paused nurture mail until then (the unsubscribe page): due steps wait, none is dropped.
                ALTER TABLE lead ADD COLUMN paused_until INTEGER;
                """)
        }
        m.registerMigration("v13-goals-variants") { db in
            try db.execute(sql: """
                -- The A/B variant a send went out as (NULL: the step has none).
                ALTER TABLE outbox ADD COLUMN variant TEXT;
                -- Held out: enrolled and counted, never mailed (the sequence's holdout share).
                ALTER TABLE enrollment ADD COLUMN holdout INTEGER NOT NULL DEFAULT 0;
                -- A goal reached within its window, credited to the last step (and variant) sent before it.
                CREATE TABLE conversion (
                    enrollment_id INTEGER PRIMARY KEY REFERENCES enrollment(id) ON DELETE CASCADE,
                    lead_id INTEGER NOT NULL REFERENCES lead(id) ON DELETE CASCADE,
                    sequence_id TEXT NOT NULL,
                    step_id TEXT,
                    variant TEXT,
                    holdout INTEGER NOT NULL,
                    at INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX conversion_sequence ON conversion(sequence_id, step_id);
                """)
        }
        return m
    }

    /// Rebuilds `table` with its CREATE statement transformed, keeping its rows and indexes (SQLite's documented
    /// table-rebuild procedure; the migrator runs it with foreign keys off and checks them after).
    static func rebuild(_ db: Database, table: String, transform: (String) -> String) throws {
        guard let create = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table]),
              let head = create.range(of: #"CREATE TABLE "?\#(table)"? \("#, options: .regularExpression) else {
            throw DatabaseError(message: "unexpected schema for table \(table)")
        }
        let indexes = try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                                          arguments: [table])
        // AUTOINCREMENT's high-water mark goes with the dropped table: kept, so ids of deleted rows (erased leads'
        // enrollments, named in Message-IDs) are never handed out again.
        let sequence = try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [table])
        let rebuilt = transform(create.replacingCharacters(in: head, with: "CREATE TABLE \(table)_rebuilt ("))
        try db.execute(sql: rebuilt)
        try db.execute(sql: "INSERT INTO \(table)_rebuilt SELECT * FROM \(table)")
        try db.execute(sql: "DROP TABLE \(table)")
        try db.execute(sql: "ALTER TABLE \(table)_rebuilt RENAME TO \(table)")
        if let sequence {
            try db.execute(sql: "UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = ?", arguments: [sequence, table])
            if db.changesCount == 0 { try db.execute(sql: "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", arguments: [table, sequence]) }
        }
        for index in indexes { try db.execute(sql: index) }
    }

    /// Rebuilds `table` with `id INTEGER PRIMARY KEY AUTOINCREMENT`, keeping its rows, columns and indexes (SQLite's
    /// documented table-rebuild procedure; the migrator runs it with foreign keys off and checks them after).
    static func neverReuseIDs(_ db: Database, table: String) throws {
        guard let create = try String.fetchOne(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", arguments: [table]),
              !create.contains("AUTOINCREMENT") else { return }
        let indexes = try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
                                          arguments: [table])
        guard let head = create.range(of: "CREATE TABLE \(table) ("),
              let id = create.range(of: "id INTEGER PRIMARY KEY,") else {
            throw DatabaseError(message: "unexpected schema for table \(table)")
        }
        var rebuilt = create.replacingCharacters(in: id, with: "id INTEGER PRIMARY KEY AUTOINCREMENT,")
        rebuilt = rebuilt.replacingCharacters(in: head, with: "CREATE TABLE \(table)_rebuilt (")
        try db.execute(sql: rebuilt)
        try db.execute(sql: "INSERT INTO \(table)_rebuilt SELECT * FROM \(table)")
        try db.execute(sql: "DROP TABLE \(table)")
        try db.execute(sql: "ALTER TABLE \(table)_rebuilt RENAME TO \(table)")
        for index in indexes { try db.execute(sql: index) }
    }
}
