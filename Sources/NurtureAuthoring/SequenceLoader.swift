import Foundation
import Yams
import NurtureCore

/// A sequence together with where its parts were written, so cross-file checks can point at the right line.
public struct LoadedSequence: Sendable {
    public var sequence: NurtureSequence
    public var file: String
    public var idPosition: SourcePosition
    public var personaPosition: SourcePosition
    /// Where each step's `template:` value is, for unknown-template errors.
    public var templatePositions: [String: SourcePosition]
    /// The sequence's own `dkim:`, when it sends from another domain than the config's.
    public var dkim: DKIMSettings?
    /// What its version names (the catalog sets it): recorded by the daemon, compared by `plan`.
    public var snapshot = SequenceSnapshot(file: "", templates: [:])
}

/// A sequence version as the database keeps it: the file's text and each template's digest.
public struct SequenceSnapshot: Sendable, Hashable, Codable {
    public var file: String
    public var templates: [String: String]

    public init(file: String, templates: [String: String]) {
        self.file = file
        self.templates = templates
    }

    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data("{}".utf8), as: UTF8.self)
    }

    public static func decode(_ json: String) -> SequenceSnapshot? { try? JSONDecoder().decode(SequenceSnapshot.self, from: Data(json.utf8)) }
}

/// Loads one sequence file and checks everything that can be checked inside that file.
public enum SequenceLoader {
    static let topKeys = ["id", "persona", "name", "priority", "sender", "dkim", "entry", "window", "steps", "exit", "reenter", "goal", "holdout"]

    /// - Parameter secrets: where relative DKIM key files resolve; the sequence file's folder when nil.
    public static func load(path: String, knownFields: Set<String>, secrets: String? = nil, sink: DiagnosticSink) -> LoadedSequence? {
        guard let text = YAMLSource.readText(path, sink: sink),
              let root = YAMLSource.parse(text, path: path, sink: sink) else { return nil }
        let before = sink.items.count
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var loaded = read(root, reader: NodeReader(file: path, sink: sink), knownFields: knownFields, secrets: secrets ?? folder)
        loaded?.snapshot.file = text // its version's digest is taken from this text, not from a second read
        return sink.items[before...].contains { $0.severity == .error } ? nil : loaded
    }

    /// A recorded version's file, read back for `plan` (its diagnostics are not the operator's concern: nil if broken).
    public static func load(text: String, path: String, knownFields: Set<String>) -> NurtureSequence? {
        let sink = DiagnosticSink()
        guard let root = YAMLSource.parse(text, path: path, sink: sink),
              let loaded = read(root, reader: NodeReader(file: path, sink: sink), knownFields: knownFields),
              !sink.items.contains(where: { $0.severity == .error }) else { return nil }
        return loaded.sequence
    }

    static func read(_ root: Node, reader r: NodeReader, knownFields: Set<String>, secrets: String = ".") -> LoadedSequence? {
        guard let top = r.mapping(root, "a sequence", allowed: topKeys, required: ["id", "persona", "steps"]) else { return nil }
        var seq = NurtureSequence(id: "", persona: "", name: "", steps: [])
        var loaded = LoadedSequence(sequence: seq, file: r.file, idPosition: .start, personaPosition: .start, templatePositions: [:])
        if let (_, n) = top["id"], let id = r.singleLine(n, "'id'") {
            if Identifier.isStepID(id) { seq.id = id } else { r.error(n, "sequence id '\(id)' must be lowercase letters, digits and dashes") }
            loaded.idPosition = r.position(n)
        }
        if let (_, n) = top["persona"], let persona = r.singleLine(n, "'persona'") {
            if Identifier.isName(persona) { seq.persona = persona } else { r.error(n, "persona '\(persona)' must be lowercase letters, digits and underscores") }
            loaded.personaPosition = r.position(n)
        }
        seq.name = top["name"].flatMap { r.singleLine($0.value, "'name'") } ?? seq.id
        if let (_, n) = top["priority"], let p = r.int(n, "'priority'", range: -1_000...1_000) { seq.priority = p }
        if let (_, n) = top["sender"] { seq.sender = sender(n, reader: r) }
        if let (_, n) = top["dkim"] { loaded.dkim = DKIMSettings.read(n, "'dkim'", reader: r, secrets: secrets) }
        if let (_, n) = top["entry"] { seq.entry = entry(n, reader: r, knownFields: knownFields) }
        if let (_, n) = top["window"] { seq.window = window(n, reader: r) }
        if let (_, n) = top["steps"] { (seq.steps, loaded.templatePositions) = steps(n, reader: r, knownFields: knownFields) }
        if let (_, n) = top["exit"] { seq.exits = exits(n, reader: r) }
        if let (_, n) = top["reenter"] { seq.reenterAfter = reenter(n, reader: r) }
        if let (_, n) = top["goal"] { seq.goal = goal(n, reader: r) }
        if let (_, n) = top["holdout"], let share = holdout(n, reader: r) { seq.holdout = share }
        loaded.sequence = seq
        return loaded
    }

    static func sender(_ node: Node, reader r: NodeReader) -> SenderIdentity? {
        guard let m = r.mapping(node, "'sender'", allowed: ["name", "email", "reply_to"], required: ["name", "email"]),
              let name = m["name"].flatMap({ r.singleLine($0.value, "'sender.name'") }),
              let email = m["email"].flatMap({ ConfigLoader.address($0.value, "'sender.email'", reader: r) }) else { return nil }
        let replyTo = m["reply_to"].flatMap { ConfigLoader.address($0.value, "'sender.reply_to'", reader: r) }
        return SenderIdentity(name: name, email: email, replyTo: replyTo)
    }

    static func entry(_ node: Node, reader r: NodeReader, knownFields: Set<String>) -> EntryGate {
        var gate = EntryGate()
        guard let m = r.mapping(node, "'entry'", allowed: ["require", "consent", "min_score", "min_fit", "match", "stage"]) else { return gate }
        if let (_, n) = m["require"], let items = r.list(n, "'entry.require'") {
            gate.require = []
            for item in items {
                guard let field = r.singleLine(item, "a required field") else { continue }
                if !knownFields.contains(field) {
                    r.error(item, "required field '\(field)' is neither built in nor declared in the config's 'fields'")
                } else if !gate.require.contains(field) {
                    gate.require.append(field)
                }
            }
        }
        if let (_, n) = m["consent"], let consent = r.singleLine(n, "'entry.consent'"), consent != "required" {
            r.error(n, "'entry.consent' can only be 'required': Nurture never mails a lead without consent")
        }
        if let (_, n) = m["min_score"], let v = r.number(n, "'entry.min_score'") { gate.minScore = v }
        if let (_, n) = m["min_fit"], let v = r.number(n, "'entry.min_fit'") { gate.minFit = v }
        if let (_, n) = m["stage"], let items = r.list(n, "'entry.stage'", scalarIsList: true) {
            let stages = items.compactMap { HandoffSettingsLoader.stage($0, "'entry.stage'", reader: r) }
            if items.isEmpty { r.error(n, "'entry.stage' is empty, so no lead could ever enter") }
            if !stages.isEmpty { gate.stages = Set(stages) }
        }
        if let (_, n) = m["match"], let entries = r.freeMapping(n, "'entry.match'") {
            for (field, keyNode, value) in entries {
                guard knownFields.contains(field) else {
                    r.error(keyNode, "'entry.match' field '\(field)' is neither built in nor declared in the config's 'fields'")
                    continue
                }
                if let v = r.singleLine(value, "'entry.match.\(field)'") { gate.match[field] = v }
            }
        }
        return gate
    }

    static func window(_ node: Node, reader r: NodeReader) -> SendWindow {
        var window = SendWindow.always
        guard let m = r.mapping(node, "'window'", allowed: ["days", "hours", "timezone", "except"]) else { return window }
        if let (_, n) = m["days"], let items = r.list(n, "'window.days'") {
            let days = r.days(items) { "bad window: unknown day '\($0)'; use mon, tue, wed, thu, fri, sat, sun" }
            if items.isEmpty { r.error(n, "bad window: 'days' is empty, so nothing could ever be sent") }
            window.days = days
        }
        if let (_, n) = m["hours"], let text = r.singleLine(n, "'window.hours'") {
            if let (start, end) = SendWindow.parseHours(text) {
                window.startMinute = start
                window.endMinute = end
            } else {
                r.error(n, "bad window: hours '\(text)' must read like 09:00-17:30, with the start before the end")
            }
        }
        window.timeZone = m["timezone"].flatMap { r.timeZone($0.value, "'window.timezone'") }
        if let (_, n) = m["except"], let items = r.list(n, "'window.except'", scalarIsList: true) {
            for item in items {
                guard let text = r.singleLine(item, "a 'window.except' date") else { continue }
                if SendWindow.isBlackoutDate(text) {
                    window.except.insert(text)
                } else {
                    r.error(item, "bad blackout date '\(PrintableText.escaped(text, limit: 40))': write a day as 2026-12-25")
                }
            }
        }
        return window
    }

    static func steps(_ node: Node, reader r: NodeReader, knownFields: Set<String> = []) -> ([Step], [String: SourcePosition]) {
        guard let items = r.list(node, "'steps'") else { return ([], [:]) }
        if items.isEmpty { r.error(node, "'steps' is empty: a sequence needs at least one step") }
        var steps: [Step] = []
        var positions: [String: SourcePosition] = [:]
        var seen: [String: SourcePosition] = [:]
        // Conditions are checked after all ids are known, to tell "later" from "missing".
        var pending: [(stepIndex: Int, node: Node, skip: Bool)] = []
        var references: [StepFlowLoader.Reference] = [], idNodes: [Node] = []
        for item in items {
            guard let m = r.mapping(item, "a step", allowed: ["id", "after", "template", "skip_if", "only_if", "class", "variants"] + StepFlowLoader.keys,
                                    required: ["id"]),
                  let idNode = m["id"]?.value, let id = r.singleLine(idNode, "step 'id'") else { continue }
            let control = m["wait_for"] != nil || m["if"] != nil
            if !control {
                for key in ["after", "template"] where m[key] == nil && !(key == "template" && m["variants"] != nil) {
                    r.error(item, "a step is missing required key '\(key)'")
                }
                if let (k, _) = m["template"], m["variants"] != nil {
                    r.error(k, "a step has either a 'template' or 'variants' (each with its template), not both")
                }
            }
            guard Identifier.isStepID(id) else {
                r.error(idNode, "step id '\(id)' must be lowercase letters, digits and dashes")
                continue
            }
            if let first = seen[id] {
                r.error(idNode, "duplicate step id '\(id)' (first defined at line \(first.line))")
                continue
            }
            seen[id] = r.position(idNode)
            let after = m["after"].flatMap { r.timeSpan($0.value, "'after'") } ?? .zero
            var template = ""
            if let n = m["template"]?.value, let t = r.singleLine(n, "'template'") {
                if TemplateLoader.isValidName(t) {
                    template = t
                    positions[id] = r.position(n)
                } else {
                    r.error(n, "template name '\(t)' must be a path under templates/ without '.md' (letters, digits, '-', '_', '/')")
                }
            }
            var step = Step(id: id, after: after, template: control ? "" : template)
            if !control, let (_, n) = m["variants"] {
                step.variants = variants(n, stepID: id, reader: r, positions: &positions)
                step.template = step.variants.first?.template ?? ""
            }
            if !control, let (_, n) = m["class"], let text = r.singleLine(n, "'class'") {
                switch text {
                case "transactional": step.transactional = true
                case "nurture": break
                default: r.error(n, "'class' must be 'nurture' (the default) or 'transactional' (mail the lead asked for)")
                }
            }
            references += StepFlowLoader.read(m, into: &step, index: steps.count, reader: r, knownFields: knownFields)
            steps.append(step)
            idNodes.append(idNode)
            if !control, let n = m["skip_if"]?.value { pending.append((steps.count - 1, n, true)) }
            if !control, let n = m["only_if"]?.value { pending.append((steps.count - 1, n, false)) }
        }
        StepFlowLoader.check(steps, references: references, idNodes: idNodes, reader: r)
        for (index, node, skip) in pending {
            guard let conditions = r.list(node, skip ? "'skip_if'" : "'only_if'", scalarIsList: true) else { continue }
            for c in conditions {
                guard let text = r.singleLine(c, "a condition") else { continue }
                guard let condition = Condition(parsing: text) else {
                    r.error(c, "bad condition '\(text)': write clicked(STEP) or opened(STEP)")
                    continue
                }
                let target = steps.firstIndex { $0.id == condition.stepID }
                if target == nil {
                    r.error(c, "condition '\(text)' names step '\(condition.stepID)', which does not exist in this sequence")
                } else if target! >= index {
                    r.error(c, "condition '\(text)' names step '\(condition.stepID)', which does not come before step '\(steps[index].id)'")
                } else if skip {
                    steps[index].skipIf.append(condition)
                } else {
                    steps[index].onlyIf.append(condition)
                }
            }
        }
        return (steps, positions)
    }

    /// `goal: { on: converted, within: 30d, exit: true }`: the conversion the sequence works for.
    static func goal(_ node: Node, reader r: NodeReader) -> Goal? {
        guard let m = r.mapping(node, "'goal'", allowed: ["on", "within", "exit"], required: ["on", "within"]),
              let (_, eventNode) = m["on"], let event = r.singleLine(eventNode, "'goal.on'"),
              let within = m["within"].flatMap({ r.timeSpan($0.value, "'goal.within'") }) else { return nil }
        guard Identifier.isName(event), !EventKind.reservedNames.contains(event) || event == "replied" else {
            r.error(eventNode, "goal event '\(PrintableText.escaped(event, limit: 40))' must be an event you post (lowercase letters, digits and underscores), like converted")
            return nil
        }
        guard within.seconds > 0 else {
            r.error(m["within"]!.value, "'goal.within' must be longer than nothing")
            return nil
        }
        let exits = m["exit"].flatMap { r.bool($0.value, "'goal.exit'") } ?? true
        return Goal(event: event, within: within, exits: exits)
    }

    /// `holdout: 10%`: the share of entering leads never mailed, so stats can show the sequence's lift.
    static func holdout(_ node: Node, reader r: NodeReader) -> Double? {
        guard let text = r.singleLine(node, "'holdout'") else { return nil }
        let digits = text.hasSuffix("%") ? String(text.dropLast()).trimmingCharacters(in: .whitespaces) : ""
        guard let percent = Double(digits), percent.isFinite, percent >= 0, percent <= 50, !digits.hasPrefix("+") else {
            r.error(node, "bad holdout '\(PrintableText.escaped(text, limit: 40))': write a share from 0% to 50%, like 10%")
            return nil
        }
        return percent / 100
    }

    /// `reenter: { after: 90d }`: how long after an enrollment ended the lead may enter again.
    static func reenter(_ node: Node, reader r: NodeReader) -> TimeSpan? {
        guard let m = r.mapping(node, "'reenter'", allowed: ["after"], required: ["after"]),
              let (_, n) = m["after"], let after = r.timeSpan(n, "'reenter.after'") else { return nil }
        guard after.seconds >= 86_400 else {
            r.error(n, "'reenter.after' must be a day or more: a lead would start the sequence over and over")
            return nil
        }
        return after
    }

    /// `variants: [{ id: a, template: T, weight: 50 }, …]`: two or more versions of one step.
    static func variants(_ node: Node, stepID: String, reader r: NodeReader, positions: inout [String: SourcePosition]) -> [Variant] {
        guard let items = r.list(node, "'variants'") else { return [] }
        var out: [Variant] = []
        for item in items {
            guard let m = r.mapping(item, "a variant", allowed: ["id", "template", "weight"], required: ["id", "template"]),
                  let (_, idNode) = m["id"], let id = r.singleLine(idNode, "variant 'id'"),
                  let (_, tNode) = m["template"], let t = r.singleLine(tNode, "variant 'template'") else { continue }
            guard Identifier.isStepID(id) else {
                r.error(idNode, "variant id '\(PrintableText.escaped(id, limit: 40))' must be lowercase letters, digits and dashes")
                continue
            }
            if out.contains(where: { $0.id == id }) {
                r.error(idNode, "duplicate variant id '\(id)' in step '\(stepID)'")
                continue
            }
            guard TemplateLoader.isValidName(t) else {
                r.error(tNode, "template name '\(t)' must be a path under templates/ without '.md' (letters, digits, '-', '_', '/')")
                continue
            }
            let weight = m["weight"].flatMap { r.int($0.value, "variant 'weight'", range: 1...10_000) } ?? 1
            positions["\(stepID)/\(id)"] = r.position(tNode)
            out.append(Variant(id: id, template: t, weight: weight))
        }
        if out.count == 1 { r.error(node, "'variants' needs two or more variants to compare (one is just 'template')") }
        return out.count >= 2 ? out : []
    }

    static func exits(_ node: Node, reader r: NodeReader) -> [ExitRule] {
        guard let items = r.list(node, "'exit'") else { return [] }
        var rules: [ExitRule] = []
        for item in items {
            guard let m = r.mapping(item, "an exit rule", allowed: ["on", "when", "then"]) else { continue }
            var action = ExitRule.Action.exit
            if let (_, n) = m["then"], let text = r.singleLine(n, "'then'") {
                if let a = ExitRule.Action(rawValue: text) { action = a } else { r.error(n, "'then' must be 'exit' or 'handoff'") }
            }
            switch (m["on"], m["when"]) {
            case let ((_, n)?, nil):
                guard let name = r.singleLine(n, "'on'") else { continue }
                if Identifier.isName(name) {
                    rules.append(ExitRule(trigger: .event(name), action: action))
                } else {
                    r.error(n, "event name '\(name)' must be lowercase letters, digits and underscores")
                }
            case let (nil, (_, n)?):
                guard let text = r.singleLine(n, "'when'") else { continue }
                switch LeadCondition.parse(text) {
                case .success(let c):
                    // One `score >= N` term stays the trigger it always was.
                    if c.terms.count == 1, case .score(.atLeast, let threshold) = c.terms[0] {
                        rules.append(ExitRule(trigger: .scoreAtLeast(threshold), action: action))
                    } else {
                        rules.append(ExitRule(trigger: .condition(c), action: action))
                    }
                case .failure(let e):
                    r.error(n, "bad rule '\(PrintableText.escaped(text, limit: 80))': \(e.message); write e.g. 'score >= 50' or 'fit >= 20 and stage == sql'")
                }
            default:
                r.error(item, "an exit rule needs exactly one of 'on: EVENT' or 'when: CONDITION' (e.g. score >= 50)")
            }
        }
        return rules
    }
}
