import Foundation
import NurtureCore

/// Everything `nurture.yaml` says, with relative paths already resolved.
public struct NurtureConfig: Sendable {
    /// The file it came from, if any; nil for built-in defaults.
    public var file: String?
    /// A SQLite file path (resolved), or a `postgresql://USER@HOST[:PORT]/DBNAME?sslmode=…` URL (as written).
    public var database: String
    /// The `postgresql:` section, read when `database` is a PostgreSQL URL.
    public var postgres = PostgresOptions()
    /// Where generated keys go when `database` is not a file (relative paths' data folder: `$STATE_DIRECTORY` or
    /// the config's folder).
    public var dataDirectory = "."
    public var sequencesDirectory: String
    public var templatesDirectory: String
    public var defaultTimeZone: String
    public var defaultLocale: String
    /// Custom lead fields templates and entry gates may name, beyond the built-in ones.
    public var fields: [String]
    public var http: HTTPSettings
    public var transport: TransportSettings
    public var sender: SenderIdentity
    /// Printed in every email's footer (CAN-SPAM, LCEN).
    public var postalAddress: String
    /// Envelope senders are `bounces+ID@domain` (VERP), so asynchronous bounces name their message.
    public var verp: Bool
    /// Domain for VERP envelope senders; nil uses the sender's own domain.
    public var bounceDomain: String?
    public var smtp: SMTPOptions
    public var throttle: ThrottlePolicy
    public var scoring: ScoringRules
    public var secrets: SecretFiles
    public var handoff = HandoffSettings()
    /// Where enrolling keys were written, for the catalog's cross-checks.
    public var positions = Positions()
    /// `events.time_tolerance`: how far a posted event's time may lie in the future, or before the lead was created
    /// (clock skew between systems); beyond it the event is refused.
    public var eventTimeTolerance = TimeSpan.minutes(5)
    public var health = HealthSettings()
    /// `inbound:`: bounces, complaints and replies read back (pipe and IMAP).
    public var inbound = InboundSettings()
    /// `dkim:`: nil when not configured (mail goes out unsigned), `relay` when the relay signs.
    public var dkim: DKIMSettings?
    /// Where relative secret files resolve (`$CREDENTIALS_DIRECTORY` under systemd), for sequences' own DKIM keys.
    public var secretsDirectory = "."

    /// The `postgresql:` section: the store's connection pool.
    public struct PostgresOptions: Sendable, Hashable {
        /// Connections the pool may open at once (the daemon's tracking, API and scheduler share them).
        public var poolSize = 8
        public var connectTimeout = TimeSpan(seconds: 10)
        /// How long a node's claims stay its own without a heartbeat (renewed every third of it): after a node dies,
        /// its in-flight sends are recovered by the others once this has passed.
        public var lease = TimeSpan(seconds: 30)
    }

    /// The database is a PostgreSQL server, not a SQLite file.
    public var usesPostgres: Bool { PostgresURL.isPostgres(database) }

    /// Where keys generated on first run live by default: beside a SQLite database, else in the data folder.
    public var keyDirectory: String {
        usesPostgres ? dataDirectory : URL(fileURLWithPath: database).deletingLastPathComponent().path
    }

    /// Positions in the config file of values checked against the sequences.
    public struct Positions: Sendable, Hashable {
        /// `handoff.outcomes.OUTCOME.enroll` values.
        public var outcomeEnrolls: [HandoffOutcome: SourcePosition] = [:]
        /// Each threshold's `enroll` (else the threshold), in `scoring.thresholds` order.
        public var thresholds: [SourcePosition] = []
    }

    /// Where sales is told about a lead that crossed the hand-off threshold.
    public struct HandoffSettings: Sendable, Hashable {
        /// POSTed a signed JSON document (`X-Nurture-Signature: sha256=HEX`, HMAC with `secrets.webhook_secret_file`).
        public var webhook: String?
        /// Sent a notification email through the configured transport.
        public var email: String?
        /// What each answer from sales does (`handoff.outcomes`); every outcome has an entry.
        public var outcomes = HandoffOutcomeRule.allDefaults
        /// Unanswered this long, a hand-off is re-notified once and shown overdue; nil: no SLA.
        public var sla: HandoffSLA?
        /// Channels the re-notification uses (`handoff.renotify`); nil: the hand-off's own channels.
        public var renotify: [String]?

        public var channels: [String] { (webhook == nil ? [] : ["webhook"]) + (email == nil ? [] : ["email"]) }
    }

    public struct HTTPSettings: Sendable, Hashable {
        public var listen: String
        public var publicURL: String
        /// A 1×1 image in every HTML part, and links rewritten to `/c/TOKEN`.
        public var trackOpens = true
        public var trackClicks = true
        /// Opens and clicks this soon after delivery are taken for prefetches and link scanners.
        public var machineOpenWithin = TimeSpan(seconds: 10)
        public var machineClickWithin = TimeSpan(seconds: 60)
        /// A request's headers must be complete this soon after the connection opens or the last answer.
        public var headerTimeout = TimeSpan(seconds: 10)
        /// Connections open at once; beyond, a new one gets 503 and is closed.
        public var maxConnections = 512
        /// Hits of one tracking token stored per hour (later ones are answered and counted, not stored).
        public var storedRepeatsPerHour = 10
        /// `/metrics` asks for the API bearer token.
        public var metricsRequireToken = false
        /// `HOST:PORT` where `/metrics` is served instead of on `listen`.
        public var metricsListen: String?

        public init(listen: String, publicURL: String) {
            self.listen = listen
            self.publicURL = publicURL
        }
    }

    public enum TransportSettings: Sendable, Hashable {
        /// One `.eml` per message in a folder: the embedded default.
        case file(directory: String)
        /// `smtp://` or `smtps://` URL of a relay.
        case smtp(url: String)
    }

    /// The `smtp:` section, used when `transport` is an smtp:// or smtps:// URL.
    public struct SMTPOptions: Sendable, Hashable {
        /// `required`, `opportunistic` or `off`.
        public var startTLS = "required"
        public var username: String?
        public var connections = 4
        public var connectTimeout = TimeSpan(seconds: 30)
        public var responseTimeout = TimeSpan.minutes(10)
        public var caFile: String?
        public var helo = "localhost"
    }

    /// Paths of files holding secrets, so systemd credentials can supply them; the secrets are never in config.
    public struct SecretFiles: Sendable, Hashable {
        public var tokenKey: String?
        public var smtpPassword: String?
        public var apiToken: String?
        public var webhookSecret: String?
        /// Keys the hashes that keep erased addresses suppressed; outside the database, so a copied database alone
        /// cannot test addresses against them.
        public var erasureKey: String?
        /// The PostgreSQL user's password (when `database` is a postgresql:// URL).
        public var databasePassword: String?
    }

    /// `secrets.erasure_key_file`, by default `erasure.key` beside the database (generated on first open). Every
    /// node of one PostgreSQL database must be given the same file.
    public var erasureKeyFile: String {
        secrets.erasureKey ?? URL(fileURLWithPath: keyDirectory).appendingPathComponent("erasure.key").path
    }

    /// Built-in lead fields every template may use.
    public static let builtInLeadFields = ["email", "persona", "locale", "timezone"]
    /// Variables the engine provides to every template.
    public static let builtInVariables = ["unsubscribe_url", "sender_name", "sender_email", "postal_address"]
    /// Extra variables only layouts receive.
    public static let layoutVariables = ["content", "subject", "preheader"]

    public var knownLeadFields: Set<String> { Set(Self.builtInLeadFields + fields) }
}
