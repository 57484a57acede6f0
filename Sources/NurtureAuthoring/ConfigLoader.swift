import Foundation
import Yams
import NurtureCore

/// Loads `nurture.yaml`: every key is known, typed and located; relative paths resolve against the file's folder.
public enum ConfigLoader {
    static let topKeys = ["database", "sequences", "templates", "timezone", "locale", "fields", "http",
                          "transport", "smtp", "sender", "dkim", "throttle", "scoring", "handoff", "secrets", "events", "health",
                          "postgresql", "inbound"]

    /// Returns the config, or nil when it has errors (reported to `sink`).
    /// Relative paths resolve against the config file's folder, except under systemd: data (the database, a file
    /// outbox) against `$STATE_DIRECTORY` and secrets against `$CREDENTIALS_DIRECTORY` when those are set.
    public static func load(path: String, sink: DiagnosticSink,
                            environment: [String: String] = ProcessInfo.processInfo.environment) -> NurtureConfig? {
        guard let text = YAMLSource.readText(path, sink: sink),
              let root = YAMLSource.parse(text, path: path, sink: sink) else { return nil }
        let before = sink.items.count
        let reader = NodeReader(file: path, sink: sink)
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        // systemd passes a colon-separated list when a unit names several state directories; the first is ours.
        let state = environment["STATE_DIRECTORY"].flatMap { $0.split(separator: ":").first.map(String.init) }
        let credentials = environment["CREDENTIALS_DIRECTORY"].flatMap { $0.isEmpty ? nil : $0 }
        let config = read(root, reader: reader, bases: Bases(config: folder, data: state ?? folder, secrets: credentials ?? folder))
        let failed = sink.items[before...].contains { $0.severity == .error }
        return failed ? nil : config
    }

    /// Where relative paths resolve: authored files, data, secrets.
    struct Bases {
        var config: String, data: String, secrets: String
    }

    static func read(_ root: Node, reader r: NodeReader, bases: Bases) -> NurtureConfig? {
        let baseDirectory = bases.config
        guard let top = r.mapping(root, "the config", allowed: topKeys) else { return nil }
        func path(_ key: String, _ fallback: String, against base: String) -> String {
            let value = top[key].flatMap { r.singleLine($0.value, "'\(key)'") } ?? fallback
            return resolve(value, against: base)
        }
        // A postgresql:// URL is kept as written (it is no path); a malformed one is an error at its line.
        var database = path("database", "var/nurture.sqlite", against: bases.data)
        if let node = top["database"]?.value, let text = r.singleLine(node, "'database'"), PostgresURL.isPostgres(text) {
            database = text
            if let problem = PostgresURL.problem(text) { r.error(node, "'database' URL \(problem)") }
        }
        var config = NurtureConfig(
            file: r.file,
            database: database,
            sequencesDirectory: path("sequences", "sequences", against: baseDirectory),
            templatesDirectory: path("templates", "templates", against: baseDirectory),
            defaultTimeZone: top["timezone"].flatMap { r.timeZone($0.value, "'timezone'") } ?? "UTC",
            defaultLocale: top["locale"].flatMap { r.singleLine($0.value, "'locale'") } ?? "en",
            fields: [],
            http: .init(listen: "127.0.0.1:8080", publicURL: "http://localhost:8080"),
            transport: .file(directory: resolve("var/outbox", against: bases.data)),
            sender: SenderIdentity(name: "", email: ""),
            postalAddress: "",
            verp: false,
            bounceDomain: nil,
            smtp: .init(),
            throttle: ThrottlePolicy(),
            scoring: ScoringRules(),
            secrets: .init()
        )
        if let node = top["fields"]?.value, let items = r.list(node, "'fields'") {
            for item in items {
                guard let name = r.singleLine(item, "a field name") else { continue }
                if !Identifier.isName(name) {
                    r.error(item, "field name '\(name)' must be lowercase letters, digits and underscores")
                } else if NurtureConfig.builtInLeadFields.contains(name) || NurtureConfig.builtInVariables.contains(name) {
                    r.error(item, "field '\(name)' is built in; do not declare it")
                } else if config.fields.contains(name) {
                    r.error(item, "field '\(name)' is declared twice")
                } else {
                    config.fields.append(name)
                }
            }
        }
        if let http = top["http"] { readHTTP(http.value, into: &config, reader: r) }
        if let transport = top["transport"] { readTransport(transport.value, into: &config, reader: r, base: bases.data) }
        if let smtp = top["smtp"] { readSMTP(smtp.value, into: &config, reader: r, base: baseDirectory) }
        readSender(top["sender"], root: root, into: &config, reader: r)
        if let throttle = top["throttle"] { readThrottle(throttle.value, into: &config, reader: r) }
        if let scoring = top["scoring"] { readScoring(scoring.value, into: &config, reader: r) }
        if let handoff = top["handoff"] { readHandoff(handoff.value, into: &config, reader: r) }
        if let secrets = top["secrets"] { readSecrets(secrets.value, into: &config, reader: r, base: bases.secrets) }
        config.secretsDirectory = bases.secrets
        if let dkim = top["dkim"] { config.dkim = DKIMSettings.read(dkim.value, "'dkim'", reader: r, secrets: bases.secrets) }
        if case .smtp = config.transport, top["dkim"] == nil, let transport = top["transport"] {
            r.warning(transport.value, "no 'dkim': mail goes out unsigned unless the relay signs it (then write 'dkim: relay'); Gmail and "
                      + "Yahoo require DKIM from bulk senders, and one-click unsubscribe (RFC 8058) is honoured only on signed mail")
        }
        if let events = top["events"], let m = r.mapping(events.value, "'events'", allowed: ["time_tolerance"]),
           let n = m["time_tolerance"]?.value, let v = r.timeSpan(n, "'events.time_tolerance'") {
            config.eventTimeTolerance = v
        }
        if let health = top["health"] { readHealth(health.value, into: &config, reader: r) }
        if let inbound = top["inbound"] { config.inbound = InboundSettings.read(inbound.value, reader: r, secrets: bases.secrets) }
        config.dataDirectory = bases.data
        if let postgres = top["postgresql"] {
            if config.usesPostgres {
                readPostgres(postgres.value, into: &config, reader: r)
            } else {
                r.error(postgres.key, "'postgresql' applies only when 'database' is a postgresql:// URL")
            }
        }
        if config.secrets.databasePassword != nil, !config.usesPostgres {
            r.warning(root, "'secrets.database_password_file' is unused: 'database' is a SQLite file")
        }
        return config
    }

    /// Absolute paths stay; relative ones are taken from the config file's folder.
    static func resolve(_ path: String, against base: String) -> String {
        if path.hasPrefix("/") { return path }
        return URL(fileURLWithPath: base).appendingPathComponent(path).standardizedFileURL.path
    }

    static func readHTTP(_ node: Node, into config: inout NurtureConfig, reader r: NodeReader) {
        guard let m = r.mapping(node, "'http'", allowed: ["listen", "public_url", "track_opens", "track_clicks",
                                                          "machine_open_within", "machine_click_within", "header_timeout",
                                                          "max_connections", "metrics_require_token", "metrics_listen",
                                                          "stored_repeats_per_hour"]) else { return }
        if let n = m["header_timeout"]?.value, let v = r.timeSpan(n, "'http.header_timeout'") {
            if (1...300).contains(v.seconds) { config.http.headerTimeout = v } else { r.error(n, "'http.header_timeout' must be from 1s to 5m") }
        }
        if let n = m["max_connections"]?.value, let v = r.int(n, "'http.max_connections'", range: 1...100_000) { config.http.maxConnections = v }
        if let n = m["stored_repeats_per_hour"]?.value, let v = r.int(n, "'http.stored_repeats_per_hour'", range: 1...10_000_000) {
            config.http.storedRepeatsPerHour = v
        }
        if let n = m["metrics_require_token"]?.value, let v = r.bool(n, "'http.metrics_require_token'") { config.http.metricsRequireToken = v }
        if let n = m["metrics_listen"]?.value, let listen = r.singleLine(n, "'http.metrics_listen'") {
            if let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (1...65_535).contains(port) {
                config.http.metricsListen = listen
            } else {
                r.error(n, "'http.metrics_listen' must be HOST:PORT, e.g. 127.0.0.1:9090")
            }
        }
        if let n = m["track_opens"]?.value, let v = r.bool(n, "'http.track_opens'") { config.http.trackOpens = v }
        if let n = m["track_clicks"]?.value, let v = r.bool(n, "'http.track_clicks'") { config.http.trackClicks = v }
        if let n = m["machine_open_within"]?.value, let v = r.timeSpan(n, "'http.machine_open_within'") { config.http.machineOpenWithin = v }
        if let n = m["machine_click_within"]?.value, let v = r.timeSpan(n, "'http.machine_click_within'") { config.http.machineClickWithin = v }
        if let n = m["listen"]?.value, let listen = r.singleLine(n, "'http.listen'") {
            if let colon = listen.lastIndex(of: ":"), let port = Int(listen[listen.index(after: colon)...]), (0...65_535).contains(port) {
                config.http.listen = listen
            } else {
                r.error(n, "'http.listen' must be HOST:PORT, e.g. 127.0.0.1:8080")
            }
        }
        if let n = m["public_url"]?.value, let url = r.singleLine(n, "'http.public_url'") {
            switch PublicURL.parse(url) {
            case .success(let parsed):
                config.http.publicURL = parsed.text
                if parsed.isPlainHTTPOnTheInternet {
                    r.warning(n, "'http.public_url' is plain http:// on a public host: mail clients offer one-click unsubscribe (RFC 8058) only over https://")
                }
            case .failure(let problem):
                r.error(n, "bad 'http.public_url' '\(PrintableText.escaped(url))': \(problem); write e.g. https://mail.example.com")
            }
        }
    }

    static func readTransport(_ node: Node, into config: inout NurtureConfig, reader r: NodeReader, base: String) {
        guard let url = r.singleLine(node, "'transport'") else { return }
        if url.hasPrefix("file://") {
            let path = String(url.dropFirst("file://".count))
            guard !path.isEmpty else { return r.error(node, "'transport' file:// URL needs a folder, e.g. file://var/outbox") }
            config.transport = .file(directory: resolve(path, against: base))
        } else if url.hasPrefix("smtp://") || url.hasPrefix("smtps://") {
            guard let parsed = URL(string: url), let host = parsed.host, !host.isEmpty else {
                return r.error(node, "'transport' SMTP URL must name a host, e.g. smtp://mail.example.com:587")
            }
            guard parsed.user == nil, parsed.password == nil else {
                return r.error(node, "'transport' must not carry credentials; put the password in secrets.smtp_password_file")
            }
            config.transport = .smtp(url: url)
        } else {
            r.error(node, "'transport' must be file://FOLDER, smtp://HOST[:PORT] or smtps://HOST[:PORT]")
        }
    }

    static func readSMTP(_ node: Node, into config: inout NurtureConfig, reader r: NodeReader, base: String) {
        guard let m = r.mapping(node, "'smtp'", allowed: ["starttls", "username", "connections", "connect_timeout", "response_timeout",
                                                         "ca_file", "helo"]) else { return }
        var o = config.smtp
        if let n = m["starttls"]?.value, let v = r.singleLine(n, "'smtp.starttls'") {
            if ["required", "opportunistic", "off"].contains(v) { o.startTLS = v } else {
                r.error(n, "'smtp.starttls' must be required, opportunistic or off")
            }
        }
        if let n = m["username"]?.value, let v = r.singleLine(n, "'smtp.username'") { o.username = v }
        if let n = m["connections"]?.value, let v = r.int(n, "'smtp.connections'", range: 1...64) { o.connections = v }
        if let n = m["connect_timeout"]?.value, let v = r.timeSpan(n, "'smtp.connect_timeout'") { o.connectTimeout = v }
        if let n = m["response_timeout"]?.value, let v = r.timeSpan(n, "'smtp.response_timeout'") {
            if v.seconds < 60 { r.warning(n, "'smtp.response_timeout' under a minute risks duplicates: a slow '250 queued' looks like a failure") }
            o.responseTimeout = v
        }
        if let n = m["ca_file"]?.value, let v = r.singleLine(n, "'smtp.ca_file'") { o.caFile = resolve(v, against: base) }
        if let n = m["helo"]?.value, let v = r.singleLine(n, "'smtp.helo'") {
            let hostname = v.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                    && label.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "-" }
            }
            if hostname { o.helo = v } else { r.error(n, "'smtp.helo' must be a host name") }
        }
        config.smtp = o
    }

    static func readSender(_ entry: (key: Node, value: Node)?, root: Node, into config: inout NurtureConfig, reader r: NodeReader) {
        guard let entry else {
            r.error(root, "the config has no 'sender': name, email and postal_address are required (every email must show a postal address)")
            return
        }
        guard let m = r.mapping(entry.value, "'sender'", allowed: ["name", "email", "reply_to", "postal_address", "verp", "bounce_domain"],
                                required: ["name", "email"]) else { return }
        if let n = m["name"]?.value, let name = r.singleLine(n, "'sender.name'") { config.sender.name = name }
        if let n = m["email"]?.value, let email = address(n, "'sender.email'", reader: r) { config.sender.email = email }
        if let n = m["reply_to"]?.value, let email = address(n, "'sender.reply_to'", reader: r) { config.sender.replyTo = email }
        if let n = m["postal_address"]?.value, let postal = r.string(n, "'sender.postal_address'") {
            config.postalAddress = postal.trimmingCharacters(in: .whitespacesAndNewlines)
            if config.postalAddress.isEmpty { r.error(n, "'sender.postal_address' is empty") }
        } else if m["postal_address"] == nil {
            r.error(entry.key, "'sender' has no postal_address: every email must show the sender's postal address")
        }
        if let n = m["verp"]?.value, let v = r.bool(n, "'sender.verp'") { config.verp = v }
        if let n = m["bounce_domain"]?.value, let domain = r.singleLine(n, "'sender.bounce_domain'") {
            if (try? EmailAddress(validating: "bounces@\(domain)")) != nil {
                config.bounceDomain = domain.lowercased()
            } else {
                r.error(n, "'sender.bounce_domain' must be a host name")
            }
        }
    }

    /// A plain mailbox address (never a display-name form: names have their own keys).
    static func address(_ node: Node, _ what: String, reader r: NodeReader) -> String? {
        guard let text = r.singleLine(node, what) else { return nil }
        do {
            return try EmailAddress(validating: text).value
        } catch {
            r.error(node, "\(what): \(error)")
            return nil
        }
    }

    static func readThrottle(_ node: Node, into config: inout NurtureConfig, reader r: NodeReader) {
        guard let m = r.mapping(node, "'throttle'", allowed: ["min_gap", "max", "rate", "domain_rate", "domain_concurrency",
                                                               "sunset_after", "stale_after"]) else { return }
        var t = config.throttle
        if let n = m["min_gap"]?.value, let v = r.timeSpan(n, "'throttle.min_gap'") { t.minGap = v }
        if let n = m["max"]?.value, let text = r.singleLine(n, "'throttle.max'") {
            let parts = text.split(separator: " ").filter { !$0.isEmpty }
            if parts.count == 3, parts[1] == "per", let count = Int(parts[0]), count > 0,
               let window = TimeSpan(parsing: String(parts[2])), window.seconds > 0 {
                t.maxCount = count
                t.maxWindow = window
            } else {
                r.error(n, "'throttle.max' must read like '3 per 7d'")
            }
        }
        if let n = m["rate"]?.value, let v = rate(n, "'throttle.rate'", reader: r) { t.globalRate = v }
        if let n = m["domain_rate"]?.value, let v = rate(n, "'throttle.domain_rate'", reader: r) { t.domainRate = v }
        if let n = m["domain_concurrency"]?.value, let v = r.int(n, "'throttle.domain_concurrency'", range: 1...64) { t.domainConcurrency = v }
        if let n = m["sunset_after"]?.value, let v = r.int(n, "'throttle.sunset_after'", range: 1...1_000) { t.sunsetAfter = v }
        if let n = m["stale_after"]?.value, let v = r.timeSpan(n, "'throttle.stale_after'") { t.staleAfter = v }
        config.throttle = t
    }

    /// The fastest sending rate accepted, per second: beyond any relay (the benchmark lifts limits with 100000/s).
    static let maxRate = 1_000_000.0

    /// `20/s`, `600/m`, `5000/h`, returned per second.
    static func rate(_ node: Node, _ what: String, reader r: NodeReader) -> Double? {
        guard let text = r.singleLine(node, what) else { return nil }
        let parts = text.split(separator: "/")
        let units: [Substring: Double] = ["s": 1, "m": 60, "h": 3_600]
        guard parts.count == 2, let n = Double(parts[0]), n > 0, n.isFinite, let unit = units[parts[1]] else {
            r.error(node, "\(what) must read like '20/s', '600/m' or '5000/h'")
            return nil
        }
        // Beyond any mail server's acceptance (and far from where token-bucket arithmetic loses precision).
        guard n / unit <= maxRate, n / unit >= 1.0 / 86_400 else {
            r.error(node, "\(what) '\(PrintableText.escaped(text, limit: 40))' must be between 1/d and \(Int(maxRate))/s")
            return nil
        }
        return n / unit
    }

    static func readScoring(_ node: Node, into config: inout NurtureConfig, reader r: NodeReader) {
        guard let m = r.mapping(node, "'scoring'", allowed: ["points", "half_life", "thresholds", "inactive_after", "fit"]) else { return }
        var s = config.scoring
        if let n = m["points"]?.value, let entries = r.freeMapping(n, "'scoring.points'") {
            for (name, keyNode, value) in entries {
                guard Identifier.isName(name) else {
                    r.error(keyNode, "event name '\(name)' must be lowercase letters, digits and underscores")
                    continue
                }
                if let points = r.number(value, "points for '\(name)'") { s.points[name] = points }
            }
        }
        if let n = m["half_life"]?.value {
            if n.scalar?.string == "none" { s.halfLife = nil } else if let v = r.timeSpan(n, "'scoring.half_life'") {
                if v.seconds == 0 { r.error(n, "'scoring.half_life' must be longer than zero (or 'none')") } else { s.halfLife = v }
            }
        }
        if let n = m["inactive_after"]?.value {
            if n.scalar?.string == "none" { s.inactiveAfter = nil } else if let v = r.timeSpan(n, "'scoring.inactive_after'") { s.inactiveAfter = v }
        }
        if let n = m["thresholds"]?.value, let items = r.list(n, "'scoring.thresholds'") {
            let read = items.compactMap { item in threshold(item, reader: r).map { ($0, r.position(item["enroll"] ?? item)) } }
                .sorted { $0.0.at < $1.0.at }
            s.thresholds = read.map(\.0)
            config.positions.thresholds = read.map(\.1)
        }
        if let n = m["fit"]?.value, let fit = FitRulesLoader.read(n, fields: config.knownLeadFields,
                                                                  folder: URL(fileURLWithPath: r.file).deletingLastPathComponent().path, reader: r) {
            s.fit = fit
        }
        config.scoring = s
    }

    static func threshold(_ node: Node, reader r: NodeReader) -> ScoreThreshold? {
        guard let m = r.mapping(node, "a threshold", allowed: ["at", "stage", "handoff", "enroll", "hysteresis", "when"],
                                required: ["at"]),
              let atNode = m["at"]?.value, let at = r.number(atNode, "'at'") else { return nil }
        var t = ScoreThreshold(at: at)
        if let n = m["stage"]?.value, let name = r.singleLine(n, "'stage'") {
            if let stage = LifecycleStage(rawValue: name) { t.stage = stage } else {
                r.error(n, "unknown stage '\(name)'; expected one of: \(LifecycleStage.allCases.map(\.rawValue).joined(separator: ", "))")
            }
        }
        if let n = m["handoff"]?.value, let v = r.bool(n, "'handoff'") { t.handoff = v }
        if let n = m["enroll"]?.value, let id = r.singleLine(n, "'enroll'") { t.enroll = id }
        if let n = m["hysteresis"]?.value, let v = r.number(n, "'hysteresis'") {
            if v < 0 { r.error(n, "'hysteresis' cannot be negative") } else { t.hysteresis = v }
        }
        if let n = m["when"]?.value, let text = r.singleLine(n, "'when'") {
            switch LeadCondition.parse(text) {
            case .success(let c): t.when = c
            case .failure(let e): r.error(n, "bad condition '\(PrintableText.escaped(text, limit: 80))': \(e.message)")
            }
        }
        if t.stage == nil, !t.handoff, t.enroll == nil {
            r.error(node, "a threshold must set a 'stage', 'handoff: true' or 'enroll: SEQUENCE'")
        }
        return t
    }

    static func readSecrets(_ node: Node, into config: inout NurtureConfig, reader r: NodeReader, base: String) {
        guard let m = r.mapping(node, "'secrets'", allowed: ["token_key_file", "smtp_password_file", "api_token_file",
                                                             "webhook_secret_file", "erasure_key_file", "database_password_file"]) else { return }
        func file(_ key: String) -> String? {
            m[key].flatMap { r.singleLine($0.value, "'secrets.\(key)'") }.map { resolve($0, against: base) }
        }
        config.secrets = .init(tokenKey: file("token_key_file"), smtpPassword: file("smtp_password_file"), apiToken: file("api_token_file"),
                               webhookSecret: file("webhook_secret_file"), erasureKey: file("erasure_key_file"),
                               databasePassword: file("database_password_file"))
    }

    static func readPostgres(_ node: Node, into config: inout NurtureConfig, reader r: NodeReader) {
        guard let m = r.mapping(node, "'postgresql'", allowed: ["pool_size", "connect_timeout", "lease"]) else { return }
        if let n = m["pool_size"]?.value, let v = r.int(n, "'postgresql.pool_size'", range: 1...500) { config.postgres.poolSize = v }
        if let n = m["connect_timeout"]?.value, let v = r.timeSpan(n, "'postgresql.connect_timeout'") {
            if v.seconds < 1 { r.error(n, "'postgresql.connect_timeout' must be at least 1s") } else { config.postgres.connectTimeout = v }
        }
        if let n = m["lease"]?.value, let v = r.timeSpan(n, "'postgresql.lease'") {
            // A heartbeat every third of it: shorter than 3 s would beat faster than once a second.
            if v.seconds < 3 || v.seconds > 3_600 { r.error(n, "'postgresql.lease' must be between 3s and 1h") } else { config.postgres.lease = v }
        }
    }

    static func readHandoff(_ node: Node, into config: inout NurtureConfig, reader r: NodeReader) {
        HandoffSettingsLoader.read(node, into: &config, reader: r)
    }
}
