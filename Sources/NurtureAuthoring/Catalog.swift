import Foundation
import NurtureCore
import NurtureSigning

/// Config, sequences, templates and layouts loaded together and cross-checked: what `validate`, `preview`,
/// `simulate` and the daemon all run on, so they agree.
public struct Catalog: Sendable {
    public var config: NurtureConfig
    /// Sorted by id.
    public var sequences: [LoadedSequence]
    public var templates: [String: EmailTemplate]
    public var layout: Layout

    public var renderer: TemplateRenderer { TemplateRenderer(layout: layout) }

    public func sequence(_ id: String) -> NurtureSequence? { sequences.first { $0.sequence.id == id }?.sequence }

    /// Sequences a new lead of this persona enters automatically.
    public func sequences(forPersona persona: String) -> [NurtureSequence] {
        sequences.map(\.sequence).filter { $0.persona == persona }
    }

    public var personas: Set<String> { Set(sequences.map(\.sequence.persona)) }

    /// The signature a sequence's mail carries: its own `dkim:`, else the config's; nil (unsigned) or `relay`.
    public func dkim(for sequenceID: String) -> DKIMSettings? {
        sequences.first { $0.sequence.id == sequenceID }?.dkim ?? config.dkim
    }

    /// The variables a lead brings to a template, plus the engine's own.
    public func variables(for lead: Lead, sequence: NurtureSequence, unsubscribeURL: String) -> [String: String] {
        var v = lead.fields
        v["email"] = lead.email.value
        v["persona"] = lead.persona
        v["locale"] = lead.locale ?? config.defaultLocale
        v["timezone"] = lead.timeZone ?? config.defaultTimeZone
        let sender = sequence.sender ?? config.sender
        v["sender_name"] = sender.name
        v["sender_email"] = sender.email
        v["postal_address"] = config.postalAddress
        v["unsubscribe_url"] = unsubscribeURL
        return v
    }
}

/// Loads and cross-checks a catalog, reporting every problem it finds.
public enum CatalogLoader {
    /// - Parameter sequenceFiles: files to load instead of the config's sequences folder (for `validate PATH…`).
    public static func load(config: NurtureConfig, sequenceFiles: [String]? = nil, sink: DiagnosticSink) -> Catalog? {
        let before = sink.items.count
        let files = sequenceFiles ?? sequenceFilesIn(config.sequencesDirectory, sink: sink, config: config)
        let known = config.knownLeadFields
        let loaded = loadSequences(files, knownFields: known, secrets: config.secretsDirectory, sink: sink)
        checkSequences(loaded, sink: sink)
        checkDKIMAlignment(config, sequences: loaded, sink: sink)
        checkThresholds(config, sequences: loaded, sink: sink)

        let layout = TemplateLoader.loadLayout(directory: config.templatesDirectory, sink: sink)
        var names = Set(sequenceFiles == nil ? TemplateLoader.allNames(in: config.templatesDirectory) : [])
        var templates: [String: EmailTemplate] = [:]
        for seq in loaded {
            for step in seq.sequence.steps where !step.template.isEmpty {
                // A step's template, or each of its variants' (the first variant's is also `step.template`).
                let used = step.variants.isEmpty ? [(step.template, step.id)] : step.variants.map { ($0.template, "\(step.id)/\($0.id)") }
                for (name, key) in used {
                    let file = TemplateLoader.path(of: name, in: config.templatesDirectory)
                    if FileManager.default.fileExists(atPath: file) {
                        names.insert(name)
                    } else {
                        let p = seq.templatePositions[key] ?? .start
                        sink.error(seq.file, p.line, p.column, "unknown template '\(name)': \(file) does not exist")
                    }
                }
            }
        }
        for name in names.sorted() {
            if let t = TemplateLoader.load(name: name, directory: config.templatesDirectory, sink: sink) { templates[name] = t }
        }
        if let layout { checkTemplates(templates.values, layout: layout, config: config, sink: sink) }

        guard !sink.items[before...].contains(where: { $0.severity == .error }), let layout else { return nil }
        var digests: [String: String] = [:] // a template many sequences share is read once
        return Catalog(config: config, sequences: loaded.map { versioned($0, templatesDirectory: config.templatesDirectory, digests: &digests) }
                                                    .sorted { $0.sequence.id < $1.sequence.id },
                       templates: templates, layout: layout)
    }

    /// Sets the sequence's version: a digest of its file and of each template it names, so an edit of either is a
    /// new version; and keeps the snapshot `plan` compares against later (the file, and each template's digest).
    static func versioned(_ loaded: LoadedSequence, templatesDirectory: String, digests: inout [String: String]) -> LoadedSequence {
        var loaded = loaded
        let names = Set(loaded.sequence.steps.flatMap { [$0.template] + $0.variants.map(\.template) }.filter { !$0.isEmpty }).sorted()
        for name in names where digests[name] == nil {
            let bytes = Array((try? Data(contentsOf: URL(fileURLWithPath: TemplateLoader.path(of: name, in: templatesDirectory)))) ?? Data())
            digests[name] = ContentDigest.hex([bytes])
        }
        loaded.sequence.version = ContentDigest.hex([Array(loaded.snapshot.file.utf8)] + names.flatMap { [Array($0.utf8), Array(digests[$0]!.utf8)] })
        loaded.snapshot.templates = Dictionary(uniqueKeysWithValues: names.map { ($0, digests[$0]!) })
        return loaded
    }

    /// Parses the sequence files on every core (a thousand take a third of a second on one, before each
    /// `lead import`, `validate` or reload); diagnostics come out in file order as if read one by one.
    static func loadSequences(_ files: [String], knownFields: Set<String>, secrets: String? = nil, sink: DiagnosticSink) -> [LoadedSequence] {
        let sinks = files.map { _ in DiagnosticSink() }
        let results = UnsafeMutableBufferPointer<LoadedSequence?>.allocate(capacity: files.count)
        results.initialize(repeating: nil)
        defer { results.deinitialize().deallocate() }
        nonisolated(unsafe) let slots = results // each iteration writes its own slot only
        DispatchQueue.concurrentPerform(iterations: files.count) { i in
            slots[i] = SequenceLoader.load(path: files[i], knownFields: knownFields, secrets: secrets, sink: sinks[i])
        }
        for own in sinks { for d in own.items { sink.add(d) } }
        return results.compactMap { $0 }
    }

    /// DMARC passes on DKIM only when the From domain aligns with the signing domain: every sender checked against
    /// the signature it goes out with.
    static func checkDKIMAlignment(_ config: NurtureConfig, sequences: [LoadedSequence], sink: DiagnosticSink) {
        func check(_ sender: SenderIdentity, _ dkim: DKIMSettings, from file: String, at p: SourcePosition) {
            guard let signing = dkim.signing, !DKIMSettings.aligned(sender: sender.email, signing: signing.domain) else { return }
            let domain = sender.email.split(separator: "@").last.map(String.init) ?? sender.email
            sink.error(file, p.line, p.column, "the sender domain '\(domain)' is not aligned with the DKIM signing domain '\(signing.domain)': "
                       + "DMARC would fail; sign with d=\(domain) (or a parent domain of it), or give this sender its own 'dkim'")
        }
        if let dkim = config.dkim { check(config.sender, dkim, from: dkim.file, at: dkim.position) }
        for seq in sequences {
            if let own = seq.dkim {
                check(seq.sequence.sender ?? config.sender, own, from: own.file, at: own.position)
            } else if let sender = seq.sequence.sender, let dkim = config.dkim {
                check(sender, dkim, from: seq.file, at: seq.idPosition)
            }
        }
    }

    /// `*.yaml` / `*.yml` directly in the folder, sorted so diagnostics come in a stable order.
    public static func sequenceFilesIn(_ directory: String, sink: DiagnosticSink, config: NurtureConfig) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            sink.error(config.file ?? directory, 1, 1, "cannot read the sequences folder \(directory)")
            return []
        }
        return names.filter { ($0.hasSuffix(".yaml") || $0.hasSuffix(".yml")) && !$0.hasPrefix(".") }.sorted()
            .map { URL(fileURLWithPath: directory).appendingPathComponent($0).path }
    }

    /// Ids unique across files; no two sequences may enroll the same lead automatically.
    static func checkSequences(_ loaded: [LoadedSequence], sink: DiagnosticSink) {
        var ids: [String: LoadedSequence] = [:]
        for (i, seq) in loaded.enumerated() {
            let s = seq.sequence
            if let first = ids[s.id] {
                sink.error(seq.file, seq.idPosition.line, seq.idPosition.column,
                           "duplicate sequence id '\(s.id)' (also in \(first.file):\(first.idPosition.line))")
            } else {
                ids[s.id] = seq
            }
            for other in loaded[..<i] where other.sequence.persona == s.persona && other.sequence.entry.overlaps(s.entry) {
                sink.error(seq.file, seq.personaPosition.line, seq.personaPosition.column,
                           "sequences '\(other.sequence.id)' (\(other.file):\(other.personaPosition.line)) and '\(s.id)' would both enroll the same '\(s.persona)' lead; tell them apart with 'entry.match' or 'entry.stage'")
            }
        }
    }

    /// Every `enroll:` (thresholds, hand-off outcomes) names a sequence that admits the stage the lead is then at.
    static func checkThresholds(_ config: NurtureConfig, sequences: [LoadedSequence], sink: DiagnosticSink) {
        let byID = Dictionary(sequences.map { ($0.sequence.id, $0.sequence) }, uniquingKeysWith: { first, _ in first })
        let file = config.file ?? ""
        func check(_ target: String, stage: LifecycleStage?, what: String, at p: SourcePosition) {
            guard let sequence = byID[target] else {
                return sink.error(file, p.line, p.column, "\(what) enrolls into unknown sequence '\(target)'")
            }
            if let stage, !sequence.entry.stages.contains(stage) {
                let admitted = sequence.entry.stages.map(\.rawValue).sorted().joined(separator: ", ")
                sink.error(file, p.line, p.column, "\(what) enrolls a '\(stage.rawValue)' lead into '\(target)', whose 'entry.stage' "
                           + "admits only \(admitted); add \(stage.rawValue) to its 'entry.stage'")
            }
        }
        for (i, t) in config.scoring.thresholds.enumerated() {
            guard let target = t.enroll else { continue }
            // The stage the threshold moves the lead to, else the one its condition requires.
            let stage = t.stage ?? t.when?.terms.lazy.compactMap { if case .stage(true, let s) = $0 { s } else { nil } }.first
            let p = i < config.positions.thresholds.count ? config.positions.thresholds[i] : .start
            check(target, stage: stage, what: "scoring threshold at \(t.at)", at: p)
        }
        for outcome in HandoffOutcome.allCases {
            guard let rule = config.handoff.outcomes[outcome], let target = rule.enroll else { continue }
            check(target, stage: rule.stage, what: "'handoff.outcomes.\(outcome.rawValue)'",
                  at: config.positions.outcomeEnrolls[outcome] ?? .start)
        }
    }

    /// Every variable known; every email carries an unsubscribe link and the postal address in both parts.
    static func checkTemplates(_ templates: some Sequence<EmailTemplate>, layout: Layout, config: NurtureConfig, sink: DiagnosticSink) {
        let allowed = config.knownLeadFields.union(NurtureConfig.builtInVariables)
        let layoutAllowed = allowed.union(NurtureConfig.layoutVariables)
        func checkUses(_ uses: [MustacheTag], file: String, allowed: Set<String>) {
            for tag in uses where tag.kind != .comment && tag.kind != .close {
                if allowed.contains(tag.root) { continue }
                sink.error(file, tag.position.line, tag.position.column,
                           "unknown variable '\(tag.name)': neither built in nor a lead field declared in the config's 'fields'")
            }
        }
        checkUses(layout.htmlUses, file: layout.htmlFile, allowed: layoutAllowed)
        checkUses(layout.textUses, file: layout.textFile, allowed: layoutAllowed)
        for (file, uses) in [(layout.htmlFile, layout.htmlUses), (layout.textFile, layout.textUses)]
        where !uses.contains(where: { $0.root == "postal_address" }) {
            sink.error(file, 1, 1, "the layout never shows the sender's postal address: add {{postal_address}}")
        }
        if config.postalAddress.isEmpty {
            sink.error(config.file ?? "", 1, 1, "missing postal address: set 'sender.postal_address'")
        }
        let layoutHTMLUnsub = layout.htmlUses.contains { $0.root == "unsubscribe_url" }
        let layoutTextUnsub = layout.textUses.contains { $0.root == "unsubscribe_url" }
        for t in templates.sorted(by: { $0.name < $1.name }) {
            checkUses(t.uses, file: t.file, allowed: allowed)
            let own = t.uses.contains { $0.root == "unsubscribe_url" }
            if !own && !(layoutHTMLUnsub && layoutTextUnsub) {
                let missing = layoutHTMLUnsub ? TemplateLoader.textLayoutName : TemplateLoader.htmlLayoutName
                sink.error(t.file, 1, 1, "no unsubscribe link: neither this template nor \(missing) uses {{unsubscribe_url}}")
            }
        }
    }
}

extension ScoringContext {
    /// The scoring rules and hand-off channels of a configuration.
    public init(_ config: NurtureConfig) { self.init(rules: config.scoring, handoffChannels: config.handoff.channels, sla: config.handoff.sla) }
}

extension Catalog {
    public var scoringContext: ScoringContext { ScoringContext(config) }
}
