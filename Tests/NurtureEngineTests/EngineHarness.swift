import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureEngine
import NurtureMail
import NurtureSigning
import NurtureStore
import Synchronization

func at(_ s: String) -> Date { ISO8601DateFormatter().date(from: s)! }

/// A transport that keeps what it was given; tests script failures per recipient.
final class CapturingTransport: Transport {
    let concurrency: Int
    private let state = Mutex<(sent: [OutgoingMessage], script: [String: [DeliveryResult]], perDomain: [Int])>(([], [:], []))
    /// Called with each message just before it is "transferred", on the transport's thread.
    private let hook = Mutex<(@Sendable (OutgoingMessage) -> Void)?>(nil)

    func beforeSending(_ body: @escaping @Sendable (OutgoingMessage) -> Void) { hook.withLock { $0 = body } }

    init(concurrency: Int = 1) { self.concurrency = concurrency }

    /// The next deliveries to `email` get these results, in order, before falling back to success.
    func script(_ email: String, _ results: [DeliveryResult]) { state.withLock { $0.script[email] = results } }

    var sent: [OutgoingMessage] { state.withLock { $0.sent } }
    /// The per-domain concurrency each transfer was given.
    var perDomainLimits: [Int] { state.withLock { $0.perDomain } }

    func transfer(_ messages: [OutgoingMessage], perDomain: Int) async -> [DeliveryResult] {
        state.withLock { $0.perDomain.append(perDomain) }
        // The hook may block (a test filling a disk, taking the writer): run it off Swift's cooperative threads.
        return await withCheckedContinuation { (continuation: CheckedContinuation<[DeliveryResult], Never>) in
            DispatchQueue.global().async { continuation.resume(returning: self.results(messages)) }
        }
    }

    private func results(_ messages: [OutgoingMessage]) -> [DeliveryResult] {
        if let hook = hook.withLock({ $0 }) { messages.forEach(hook) }
        return state.withLock { s in
            messages.map { m in
                if var queue = s.script[m.recipient.value], !queue.isEmpty {
                    let r = queue.removeFirst()
                    s.script[m.recipient.value] = queue
                    if case .sent = r { s.sent.append(m) }
                    return r
                }
                s.sent.append(m)
                return .sent(reply: "250 ok")
            }
        }
    }
}

/// A project folder (config, sequences, templates), a real SQLite file, a manual clock and the real scheduler.
struct EngineHarness {
    let directory: String
    let store: SQLiteStore
    let clock: ManualClock
    let transport: CapturingTransport
    /// What the scheduler delivers through (`transport` unless the test gave another).
    let delivery: Transport
    let holder: CatalogHolder
    let scheduler: Scheduler
    let recorder: EventRecorder

    static let layoutHTML = "<html><body>{{{content}}}<a href=\"{{unsubscribe_url}}\">Unsubscribe</a> {{postal_address}}</body></html>\n"
    static let layoutText = "{{{content}}}\n\nUnsubscribe: {{unsubscribe_url}}\n{{postal_address}}\n"

    /// - Parameters:
    ///   - sequences: file name → YAML.
    ///   - throttle: the config's `throttle:` block body (YAML, indented two spaces).
    /// - Parameter extra: more top-level config YAML (e.g. a `scoring:` section).
    init(sequences: [String: String], throttle: String = "", start: Date = at("2026-11-23T08:00:00Z"), concurrency: Int = 1,
         delivery: Transport? = nil, extra: String = "", directory: String? = nil, settings: Scheduler.Settings = .init()) throws {
        self.directory = directory ?? FileManager.default.temporaryDirectory.appendingPathComponent("nurture-engine-\(UUID().uuidString)").path
        let directory = self.directory
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory + "/sequences", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: directory + "/templates", withIntermediateDirectories: true)
        try Self.layoutHTML.write(toFile: directory + "/templates/_layout.html", atomically: true, encoding: .utf8)
        try Self.layoutText.write(toFile: directory + "/templates/_layout.txt", atomically: true, encoding: .utf8)
        try "---\nsubject: \"Step for {{first_name}}\"\n---\nHello {{first_name}}, [a link](https://example.com/x).\n"
            .write(toFile: directory + "/templates/step.md", atomically: true, encoding: .utf8)
        for (name, yaml) in sequences { try yaml.write(toFile: directory + "/sequences/" + name, atomically: true, encoding: .utf8) }
        try (Self.config(throttle: throttle) + "\n" + extra).write(toFile: directory + "/nurture.yaml", atomically: true, encoding: .utf8)
        holder = CatalogHolder(try Self.loadCatalog(directory + "/nurture.yaml"))
        store = try SQLiteStore(path: directory + "/var/nurture.sqlite")
        clock = ManualClock(start)
        transport = CapturingTransport(concurrency: concurrency)
        self.delivery = delivery ?? transport
        let signer = TokenSigner(keys: [Data(repeating: 7, count: 32)])
        scheduler = Scheduler(store: store, transport: self.delivery, catalog: holder, composer: MessageComposer(signer: signer),
                              settings: settings)
        recorder = EventRecorder(store: store, catalog: holder)
    }

    /// Permissive throttle defaults, each overridable by a line of `throttle`.
    static func config(throttle: String) -> String {
        var settings: [(String, String)] = [("min_gap", "1h"), ("max", "100 per 7d"), ("rate", "1000/s"), ("domain_rate", "1000/s"),
                                            ("sunset_after", "100"), ("stale_after", "30d")]
        for line in throttle.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            if let i = settings.firstIndex(where: { $0.0 == parts[0] }) { settings[i].1 = parts[1] } else { settings.append((parts[0], parts[1])) }
        }
        return """
            database: var/nurture.sqlite
            timezone: UTC
            fields: [first_name, company, country]
            sender:
              name: Test Sender
              email: sender@example.com
              postal_address: 1 Test Street
            throttle:
            \(settings.map { "  \($0.0): \($0.1)" }.joined(separator: "\n"))
            """
    }

    static func loadCatalog(_ path: String) throws -> Catalog {
        let sink = DiagnosticSink()
        guard let config = ConfigLoader.load(path: path, sink: sink), let catalog = CatalogLoader.load(config: config, sink: sink) else {
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: sink.items.map(\.description).joined(separator: "\n")])
        }
        return catalog
    }

    func addLead(_ email: String, persona: String, timezone: String? = nil, fields: [String: String] = ["first_name": "Ada"]) async throws {
        let lead = Lead(email: try EmailAddress(validating: email), persona: persona, timeZone: timezone, fields: fields,
                        consent: Consent(source: "test", at: clock.now()))
        _ = try await store.upsert([lead], now: clock.now())
    }

    func event(_ email: String, _ type: String, sequence: String? = nil, step: String? = nil, machine: Bool = false) async throws {
        try await recorder.record(NewEvent(email: try EmailAddress(validating: email), type: type, sequenceID: sequence, stepID: step,
                                     machine: machine, at: clock.now()))
    }

    /// Ticks at "now", then whenever the daemon's own `NextWake` says, up to `until` (inclusive) — without its poll,
    /// as nothing else adds work here — with the transport started around it; returns all entries.
    @discardableResult
    func run(until: Date) async throws -> [Scheduler.Report.Entry] {
        try await TransportService.withRunning(delivery) {
            var entries: [Scheduler.Report.Entry] = []
            for _ in 0..<10_000 {
                let report = try await scheduler.tick(now: clock.now())
                entries += report.entries
                let now = clock.now()
                let wake = NextWake.after(report, nextDue: report.moreWork ? nil : try await store.nextDueAt(), now: now, poll: nil)
                guard let next = wake.earliest(with: [], now: now), next <= until else { break }
                clock.advance(to: max(next, now))
            }
            clock.advance(to: max(until, clock.now()))
            return entries
        }
    }

    /// (sequence, step, time) of each message captured, in order.
    func sends(_ entries: [Scheduler.Report.Entry], _ email: String? = nil) -> [String] {
        entries.filter { $0.kind == .sent && (email == nil || $0.email == email) }
            .map { "\($0.sequenceID)/\($0.stepID)@\(DateText.iso($0.at))" }
    }

    func replaceSequence(_ name: String, _ yaml: String) throws {
        try yaml.write(toFile: directory + "/sequences/" + name, atomically: true, encoding: .utf8)
    }
}
