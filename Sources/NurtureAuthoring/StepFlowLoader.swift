import Yams
import NurtureCore

/// Reads a step's `wait_for:`, `if:`, `then:` and `else:`, and checks the sequence's step graph once every step is
/// known: gotos to missing steps, steps nothing reaches, loops without a wait (which would mail forever).
enum StepFlowLoader {
    static let keys = ["wait_for", "if", "then", "else"]

    /// A `then:`/`else:` or a step named by a condition, kept until every step id is known.
    struct Reference {
        var stepIndex: Int
        var node: Node
        var kind: Kind
        enum Kind { case then, otherwise, engaged(String) }
    }

    /// Reads the flow keys of one step into `step`; returns what can only be checked against the other steps.
    static func read(_ m: [String: (key: Node, value: Node)], into step: inout Step, index: Int, reader r: NodeReader,
                     knownFields: Set<String>) -> [Reference] {
        var refs: [Reference] = []
        let wait = m["wait_for"], branch = m["if"]
        if wait != nil && branch != nil {
            r.error(branch!.key, "a step either waits ('wait_for') or branches ('if'), not both: make them two steps")
            return []
        }
        if let (_, n) = wait, let w = waitFor(n, reader: r) {
            step.flow = .wait(w)
            if case .engaged(let c) = w.behaviour { refs.append(Reference(stepIndex: index, node: n, kind: .engaged(c.stepID))) }
        }
        if let (_, n) = branch, let c = condition(n, reader: r, knownFields: knownFields) {
            step.flow = .branch(c)
            refs += c.stepsRead.map { Reference(stepIndex: index, node: n, kind: .engaged($0)) }
        }
        let control = wait != nil || branch != nil
        if control {
            for key in ["template", "variants", "skip_if", "only_if", "class"] where m[key] != nil {
                r.error(m[key]!.key, "'\(key)' is for a step that sends mail; a '\(wait != nil ? "wait_for" : "if")' step sends nothing")
            }
            if wait != nil, let (k, _) = m["after"] {
                r.error(k, "a 'wait_for' step starts waiting as soon as it is reached: its 'within' says how long; put a delay on the step after it")
            }
        } else if let (k, _) = m["else"] {
            r.error(k, "'else' is for a 'wait_for' or an 'if' step; a mail step goes on to its 'then' (or the next step)")
        }
        if let (_, n) = m["then"], let j = jump(n, "'then'", reader: r) {
            step.then = j
            if case .step = j { refs.append(Reference(stepIndex: index, node: n, kind: .then)) }
        }
        if control, let (_, n) = m["else"], let j = jump(n, "'else'", reader: r) {
            step.otherwise = j
            if case .step = j { refs.append(Reference(stepIndex: index, node: n, kind: .otherwise)) }
        }
        return refs
    }

    static func waitFor(_ node: Node, reader r: NodeReader) -> WaitFor? {
        guard let m = r.mapping(node, "'wait_for'", allowed: ["event", "within"], required: ["event", "within"]),
              let (_, eventNode) = m["event"], let text = r.singleLine(eventNode, "'wait_for.event'"),
              let within = m["within"].flatMap({ r.timeSpan($0.value, "'wait_for.within'") }) else { return nil }
        guard within.seconds > 0 else {
            r.error(m["within"]!.value, "'wait_for.within' must be longer than nothing")
            return nil
        }
        if text.contains("(") {
            guard let c = Condition(parsing: text) else {
                r.error(eventNode, "bad behaviour '\(PrintableText.escaped(text, limit: 60))': write an event name, clicked(STEP) or opened(STEP)")
                return nil
            }
            return WaitFor(behaviour: .engaged(c), within: within)
        }
        guard Identifier.isName(text) else {
            r.error(eventNode, "event name '\(PrintableText.escaped(text, limit: 60))' must be lowercase letters, digits and underscores")
            return nil
        }
        return WaitFor(behaviour: .event(text), within: within)
    }

    static func condition(_ node: Node, reader r: NodeReader, knownFields: Set<String>) -> FlowCondition? {
        guard let text = r.singleLine(node, "'if'") else { return nil }
        switch FlowCondition.parse(text, fields: knownFields) {
        case .success(let c):
            return c
        case .failure(let e):
            let p = r.position(node)
            let quoted: Bool = if case .scalar(let s) = node { s.style == .singleQuoted || s.style == .doubleQuoted } else { false }
            r.sink.error(r.file, p.line, p.column + e.offset + (quoted ? 1 : 0),
                         "bad condition '\(PrintableText.escaped(text, limit: 80))': \(e.message)")
            return nil
        }
    }

    static func jump(_ node: Node, _ what: String, reader r: NodeReader) -> Jump? {
        guard let text = r.singleLine(node, what) else { return nil }
        let words = text.split(separator: " ", omittingEmptySubsequences: true)
        if words == ["exit"] { return .exit }
        if words.count == 2, words[0] == "goto", Identifier.isStepID(String(words[1])) { return .step(String(words[1])) }
        r.error(node, "\(what) must be 'goto STEP' or 'exit', not '\(PrintableText.escaped(text, limit: 60))'")
        return nil
    }

    /// Checks what needs every step: targets exist, engagement conditions name mail steps, every step can be reached,
    /// and every loop goes through a wait.
    static func check(_ steps: [Step], references: [Reference], idNodes: [Node], reader r: NodeReader) {
        let index = Dictionary(steps.enumerated().map { ($1.id, $0) }, uniquingKeysWith: { a, _ in a })
        var brokenTargets = false
        for ref in references {
            switch ref.kind {
            case .then, .otherwise:
                let jump = ref.kind.isThen ? steps[ref.stepIndex].then : steps[ref.stepIndex].otherwise
                if case .step(let id)? = jump, index[id] == nil {
                    r.error(ref.node, "goto '\(id)': there is no step '\(id)' in this sequence")
                    brokenTargets = true
                }
            case .engaged(let id):
                guard let i = index[id] else {
                    r.error(ref.node, "the condition names step '\(id)', which does not exist in this sequence")
                    continue
                }
                if !steps[i].flow.isMail { r.error(ref.node, "the condition names step '\(id)', which sends no mail to open or click") }
                else if i == ref.stepIndex { r.error(ref.node, "a step cannot wait for or test its own opens") }
            }
        }
        guard !brokenTargets, !steps.isEmpty, steps.count == idNodes.count else { return }
        let edges = steps.indices.map { successors(of: $0, in: steps, index: index) }
        // Reachability from the first step.
        var reached = Set([0]), queue = [0]
        while let i = queue.popLast() {
            for j in edges[i] where reached.insert(j).inserted { queue.append(j) }
        }
        for i in steps.indices where !reached.contains(i) {
            r.error(idNodes[i], "step '\(steps[i].id)' can never be reached: neither the step before it nor any goto leads to it")
        }
        // A cycle of steps none of which waits: strongly connected components of the graph without waits.
        let isWait = steps.map { if case .wait = $0.flow { true } else { false } }
        for component in stronglyConnected(edges: edges.enumerated().map { i, js in isWait[i] ? [] : js.filter { !isWait[$0] } })
        where component.count > 1 || (component.count == 1 && edges[component[0]].contains(component[0]) && !isWait[component[0]]) {
            let path = component.sorted().map { steps[$0].id }
            r.error(idNodes[component.min()!], "steps \(path.joined(separator: " → ")) → \(path[0]) form a loop with no 'wait_for': it would run (and mail) without end")
        }
    }

    /// Where a step can go next (an index past the end is the enrollment's end and is left out).
    static func successors(of i: Int, in steps: [Step], index: [String: Int]) -> [Int] {
        func target(_ j: Jump?) -> Int? {
            switch j {
            case .exit?: nil
            case .step(let id)?: index[id]
            case nil: i + 1 < steps.count ? i + 1 : nil
            }
        }
        let s = steps[i]
        let out = s.flow.isMail ? [target(s.then)] : [target(s.then), target(s.otherwise)]
        return Array(Set(out.compactMap { $0 })).sorted()
    }

    /// Tarjan's algorithm; each component as a list of node indexes.
    static func stronglyConnected(edges: [[Int]]) -> [[Int]] {
        var index = 0, stack: [Int] = [], onStack = Set<Int>()
        var indexes = [Int?](repeating: nil, count: edges.count), low = [Int](repeating: 0, count: edges.count)
        var components: [[Int]] = []
        func visit(_ v: Int) {
            indexes[v] = index
            low[v] = index
            index += 1
            stack.append(v)
            onStack.insert(v)
            for w in edges[v] {
                if indexes[w] == nil {
                    visit(w)
                    low[v] = min(low[v], low[w])
                } else if onStack.contains(w) {
                    low[v] = min(low[v], indexes[w]!)
                }
            }
            if low[v] == indexes[v] {
                var component: [Int] = []
                while let w = stack.popLast() {
                    onStack.remove(w)
                    component.append(w)
                    if w == v { break }
                }
                components.append(component)
            }
        }
        for v in edges.indices where indexes[v] == nil { visit(v) }
        return components
    }
}

extension StepFlowLoader.Reference.Kind {
    var isThen: Bool { if case .then = self { true } else { false } }
}
