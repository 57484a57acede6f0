/// An `if:` test on a branch step (`score >= 20 and country == FR`, `clicked(pricing) or event(demo_requested)`):
/// comparisons of score, fit, stage, grade and lead fields, and past behaviour, joined by `and`, `or`, `not` and
/// parentheses. Typed when parsed against the names a sequence may use, so a typo is a `validate` error at its
/// column and never a branch that silently always goes one way.
public indirect enum FlowCondition: Hashable, Sendable, CustomStringConvertible {
    case score(LeadCondition.Comparison, Double)
    case fit(LeadCondition.Comparison, Double)
    case stage(equal: Bool, LifecycleStage)
    case grade(equal: Bool, String)
    /// A lead field compared with text (`==`, `!=`); a missing field equals nothing.
    case fieldText(String, equal: Bool, String)
    /// A lead field compared with a number; false when the field does not read as a number.
    case fieldNumber(String, LeadCondition.Comparison, Double)
    /// A human open or click of an earlier step of this enrollment.
    case engaged(Condition)
    /// A custom event recorded since the lead entered the sequence.
    case event(String)
    case not(FlowCondition)
    case and(FlowCondition, FlowCondition)
    case or(FlowCondition, FlowCondition)

    /// What a condition is judged on, gathered by the caller.
    public struct Facts: Sendable {
        public var lead: LeadCondition.Facts
        public var field: @Sendable (String) -> String?
        public var engagement: Engagement
        public var events: Set<String>

        public init(lead: LeadCondition.Facts, field: @escaping @Sendable (String) -> String?, engagement: Engagement, events: Set<String>) {
            self.lead = lead
            self.field = field
            self.engagement = engagement
            self.events = events
        }
    }

    public func holds(_ f: Facts) -> Bool {
        switch self {
        case .score(let c, let n): c.holds(f.lead.score, n)
        case .fit(let c, let n): c.holds(f.lead.fit, n)
        case .stage(let equal, let s): (f.lead.stage == s) == equal
        case .grade(let equal, let g): (f.lead.grade == g) == equal
        case .fieldText(let name, let equal, let v):
            (f.field(name).map { $0.caseInsensitiveCompare(v) == .orderedSame } ?? false) == equal
        case .fieldNumber(let name, let c, let n):
            f.field(name).flatMap { Double($0.trimmingCharacters(in: " ")) }.map { c.holds($0, n) } ?? false
        case .engaged(let c): f.engagement.holds(c)
        case .event(let name): f.events.contains(name)
        case .not(let c): !c.holds(f)
        case .and(let a, let b): a.holds(f) && b.holds(f)
        case .or(let a, let b): a.holds(f) || b.holds(f)
        }
    }

    /// Steps whose opens or clicks the condition reads (each must come before the branch).
    public var stepsRead: [String] {
        switch self {
        case .engaged(let c): [c.stepID]
        case .not(let c): c.stepsRead
        case .and(let a, let b), .or(let a, let b): a.stepsRead + b.stepsRead
        default: []
        }
    }

    public var description: String { render(top: true) }

    private func render(top: Bool) -> String {
        switch self {
        case .score(let c, let n): "score \(c.rawValue) \(LeadCondition.number(n))"
        case .fit(let c, let n): "fit \(c.rawValue) \(LeadCondition.number(n))"
        case .stage(let e, let s): "stage \(e ? "==" : "!=") \(s.rawValue)"
        case .grade(let e, let g): "grade \(e ? "==" : "!=") \(g)"
        case .fieldText(let name, let e, let v): "\(name) \(e ? "==" : "!=") \(Self.quoted(v))"
        case .fieldNumber(let name, let c, let n): "\(name) \(c.rawValue) \(LeadCondition.number(n))"
        case .engaged(let c): c.description
        case .event(let name): "event(\(name))"
        case .not(let c): "not \(c.render(top: false))"
        case .and(let a, let b): "\(a.render(top: false)) and \(b.render(top: false))"
        case .or(let a, let b): top ? "\(a.render(top: true)) or \(b.render(top: true))" : "(\(a.render(top: true)) or \(b.render(top: true)))"
        }
    }

    static func quoted(_ v: String) -> String {
        v.allSatisfy { $0.isLetter || $0.isNumber || "_-.@".contains($0) } && !v.isEmpty ? v : "\"\(v)\""
    }
}

extension FlowCondition {
    /// Why a condition was refused, and at which character of its text (0-based), for `file:line:column`.
    public struct ParseError: Error, Hashable, Sendable {
        public var message: String
        public var offset: Int
        public init(_ message: String, at offset: Int) {
            self.message = message
            self.offset = offset
        }
    }

    /// Parses `text`; `fields` are the lead fields the config declares (built-in ones included).
    public static func parse(_ text: String, fields: Set<String>) -> Result<FlowCondition, ParseError> {
        var p = FlowConditionParser(text: text, fields: fields)
        return p.parse()
    }
}

/// A recursive-descent parser over a tiny token stream: words, numbers, quoted text, operators and parentheses.
struct FlowConditionParser {
    enum Token: Equatable {
        case word(String), number(Double), text(String), op(LeadCondition.Comparison), open, close, end
    }

    let fields: Set<String>
    private var tokens: [(Token, Int)] = []
    private var i = 0
    private var lexError: FlowCondition.ParseError?

    init(text: String, fields: Set<String>) {
        self.fields = fields
        lex(Array(text))
    }

    private mutating func lex(_ c: [Character]) {
        var k = 0
        while k < c.count {
            let ch = c[k]
            if ch == " " || ch == "\t" { k += 1; continue }
            let start = k
            if ch == "(" { tokens.append((.open, k)); k += 1; continue }
            if ch == ")" { tokens.append((.close, k)); k += 1; continue }
            if "<>=!".contains(ch) {
                while k < c.count, "<>=!".contains(c[k]) { k += 1 }
                let s = String(c[start..<k])
                guard let op = LeadCondition.Comparison(rawValue: s) else {
                    lexError = .init("'\(s)' is not a comparison (>=, <=, >, <, ==, !=)", at: start)
                    return
                }
                tokens.append((.op(op), start))
                continue
            }
            if ch == "\"" || ch == "'" {
                k += 1
                while k < c.count, c[k] != ch { k += 1 }
                guard k < c.count else {
                    lexError = .init("unterminated quoted text", at: start)
                    return
                }
                tokens.append((.text(String(c[(start + 1)..<k])), start))
                k += 1
                continue
            }
            while k < c.count, !" \t()<>=!\"'".contains(c[k]) { k += 1 }
            let s = String(c[start..<k])
            if let n = Double(s), n.isFinite, s.first.map({ $0.isNumber || $0 == "-" || $0 == "." }) == true {
                tokens.append((.number(n), start))
            } else {
                tokens.append((.word(s), start))
            }
        }
        tokens.append((.end, c.count))
    }

    private var token: Token { tokens[i].0 }
    private var offset: Int { tokens[i].1 }

    mutating func parse() -> Result<FlowCondition, FlowCondition.ParseError> {
        if let lexError { return .failure(lexError) }
        if token == .end { return .failure(.init("an empty condition", at: 0)) }
        do {
            let c = try orExpression()
            guard token == .end else { throw FlowCondition.ParseError("expected 'and', 'or' or the end, not \(describe(token))", at: offset) }
            return .success(c)
        } catch let e as FlowCondition.ParseError {
            return .failure(e)
        } catch {
            return .failure(.init("\(error)", at: 0))
        }
    }

    private mutating func orExpression() throws -> FlowCondition {
        var left = try andExpression()
        while token == .word("or") {
            i += 1
            left = .or(left, try andExpression())
        }
        return left
    }

    private mutating func andExpression() throws -> FlowCondition {
        var left = try unary()
        while token == .word("and") {
            i += 1
            left = .and(left, try unary())
        }
        return left
    }

    private mutating func unary() throws -> FlowCondition {
        switch token {
        case .word("not"):
            i += 1
            return .not(try unary())
        case .open:
            i += 1
            let inner = try orExpression()
            guard token == .close else { throw FlowCondition.ParseError("expected ')' , not \(describe(token))", at: offset) }
            i += 1
            return inner
        case .word(let name):
            let at = offset
            i += 1
            if token == .open { return try call(name, at: at) }
            return try comparison(name, at: at)
        default:
            throw FlowCondition.ParseError("expected a comparison (score >= 20, country == FR) or clicked(STEP), opened(STEP), event(NAME), not \(describe(token))", at: offset)
        }
    }

    private mutating func call(_ name: String, at: Int) throws -> FlowCondition {
        i += 1 // (
        guard case .word(let arg) = token else { throw FlowCondition.ParseError("\(name)(…) takes a name", at: offset) }
        let argAt = offset
        i += 1
        guard token == .close else { throw FlowCondition.ParseError("expected ')' after \(name)(\(arg)", at: offset) }
        i += 1
        switch name {
        case "clicked", "opened":
            guard Identifier.isStepID(arg) else { throw FlowCondition.ParseError("'\(arg)' is not a step id", at: argAt) }
            return .engaged(name == "clicked" ? .clicked(step: arg) : .opened(step: arg))
        case "event":
            guard Identifier.isName(arg) else { throw FlowCondition.ParseError("event name '\(arg)' must be lowercase letters, digits and underscores", at: argAt) }
            return .event(arg)
        default:
            throw FlowCondition.ParseError("unknown test '\(name)(…)'; use clicked(STEP), opened(STEP) or event(NAME)", at: at)
        }
    }

    private mutating func comparison(_ name: String, at: Int) throws -> FlowCondition {
        guard case .op(let op) = token else { throw FlowCondition.ParseError("expected a comparison after '\(name)', not \(describe(token))", at: offset) }
        i += 1
        let value = token, valueAt = offset
        i += 1
        let equality = op == .equal || op == .notEqual
        switch name {
        case "score", "fit":
            guard case .number(let n) = value else { throw FlowCondition.ParseError("'\(name)' is a number; it cannot be compared with \(describe(value))", at: valueAt) }
            return name == "score" ? .score(op, n) : .fit(op, n)
        case "stage":
            guard equality else { throw FlowCondition.ParseError("'stage' takes == or !=, not \(op.rawValue)", at: valueAt) }
            guard let word = Self.word(value), let s = LifecycleStage(rawValue: word) else {
                throw FlowCondition.ParseError("unknown stage \(describe(value)); expected one of: \(LifecycleStage.allCases.map(\.rawValue).joined(separator: ", "))", at: valueAt)
            }
            return .stage(equal: op == .equal, s)
        case "grade":
            guard equality else { throw FlowCondition.ParseError("'grade' takes == or !=, not \(op.rawValue)", at: valueAt) }
            guard let g = Self.word(value), g.count == 1, g.first!.isUppercase else { throw FlowCondition.ParseError("a grade is one capital letter, not \(describe(value))", at: valueAt) }
            return .grade(equal: op == .equal, g)
        default:
            guard fields.contains(name) else {
                throw FlowCondition.ParseError("unknown name '\(name)': neither score, fit, stage, grade nor a field built in or declared in the config's 'fields'", at: at)
            }
            switch value {
            case .number(let n) where !equality: return .fieldNumber(name, op, n)
            case .number(let n): return .fieldText(name, equal: op == .equal, LeadCondition.number(n))
            case .word(let w) where equality && !["and", "or", "not"].contains(w): return .fieldText(name, equal: op == .equal, w)
            case .text(let t) where equality: return .fieldText(name, equal: op == .equal, t)
            case .word, .text: throw FlowCondition.ParseError("'\(op.rawValue)' compares numbers; field '\(name)' can only be compared with text by == or !=", at: valueAt)
            default: throw FlowCondition.ParseError("expected a value after '\(name) \(op.rawValue)', not \(describe(value))", at: valueAt)
            }
        }
    }

    private static func word(_ t: Token) -> String? {
        switch t {
        case .word(let w), .text(let w): w
        default: nil
        }
    }

    private func describe(_ t: Token) -> String {
        switch t {
        case .word(let w): "'\(w)'"
        case .number(let n): "the number \(LeadCondition.number(n))"
        case .text(let s): "the text \"\(s)\""
        case .op(let o): "'\(o.rawValue)'"
        case .open: "'('"
        case .close: "')'"
        case .end: "the end of the condition"
        }
    }
}
