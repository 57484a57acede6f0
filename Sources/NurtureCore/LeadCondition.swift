/// A `when:` test over what scoring knows of a lead (`fit >= 20 and score >= 50`, `stage == customer`): comparisons
/// joined by `and`, typed when parsed, so a typo is a `validate` error and never a condition that is always false.
public struct LeadCondition: Hashable, Sendable, CustomStringConvertible {
    public enum Term: Hashable, Sendable {
        case score(Comparison, Double)
        case fit(Comparison, Double)
        case stage(equal: Bool, LifecycleStage)
        case grade(equal: Bool, String)
    }

    public enum Comparison: String, Hashable, Sendable, CaseIterable {
        case atLeast = ">=", atMost = "<=", above = ">", below = "<", equal = "==", notEqual = "!="

        func holds(_ a: Double, _ b: Double) -> Bool {
            switch self {
            case .atLeast: a >= b
            case .atMost: a <= b
            case .above: a > b
            case .below: a < b
            case .equal: a == b
            case .notEqual: a != b
            }
        }
    }

    /// What a condition is judged on.
    public struct Facts: Hashable, Sendable {
        public var score: Double
        public var fit: Double
        public var stage: LifecycleStage
        public var grade: String?

        public init(score: Double, fit: Double, stage: LifecycleStage, grade: String?) {
            self.score = score
            self.fit = fit
            self.stage = stage
            self.grade = grade
        }
    }

    public var terms: [Term]

    public init(terms: [Term]) { self.terms = terms }

    public func holds(_ f: Facts) -> Bool {
        terms.allSatisfy { term in
            switch term {
            case .score(let c, let n): c.holds(f.score, n)
            case .fit(let c, let n): c.holds(f.fit, n)
            case .stage(let equal, let s): (f.stage == s) == equal
            case .grade(let equal, let g): (f.grade == g) == equal
            }
        }
    }

    /// The condition says which stages it is for (otherwise a threshold keeps to prospects).
    public var namesStage: Bool { terms.contains { if case .stage = $0 { true } else { false } } }

    /// The least score that can satisfy the condition on its own terms (`score >= 50` → 50), for exits written
    /// the old way.
    public var scoreAtLeast: Double? {
        terms.compactMap { if case .score(.atLeast, let n) = $0 { n } else { nil } }.max()
    }

    /// Parses `TERM and TERM …`; TERM is `score|fit OP NUMBER`, `stage ==|!= STAGE` or `grade ==|!= LETTER`.
    public static func parse(_ text: String) -> Result<LeadCondition, ParseError> {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard !parts.isEmpty else { return .failure(ParseError("an empty condition")) }
        // Re-split around operators written without spaces (`score>=50`).
        var tokens: [String] = []
        for part in parts {
            var rest = Substring(part)
            while !rest.isEmpty {
                if let op = Comparison.allCases.map(\.rawValue).sorted(by: { $0.count > $1.count }).first(where: { rest.hasPrefix($0) }) {
                    tokens.append(op)
                    rest = rest.dropFirst(op.count)
                } else {
                    // A run of operator characters that is no operator (`=`, `=>`) is one token, refused below; without
                    // this, `score = 50` never advanced and the parse looped forever.
                    let isOperator: (Character) -> Bool = { "<>=!".contains($0) }
                    let end = isOperator(rest.first!) ? (rest.firstIndex { !isOperator($0) } ?? rest.endIndex)
                        : (rest.firstIndex(where: isOperator) ?? rest.endIndex)
                    tokens.append(String(rest[..<end]))
                    rest = rest[end...]
                }
            }
        }
        var terms: [Term] = []
        var i = 0
        while i < tokens.count {
            guard i + 2 < tokens.count else { return .failure(ParseError("'\(tokens[i...].joined(separator: " "))' is not a comparison")) }
            let (name, opText, value) = (tokens[i], tokens[i + 1], tokens[i + 2])
            guard let op = Comparison(rawValue: opText) else { return .failure(ParseError("'\(opText)' is not a comparison (>=, <=, >, <, ==, !=)")) }
            switch name {
            case "score", "fit":
                guard let n = Double(value), n.isFinite else { return .failure(ParseError("'\(name)' compares to a number, not '\(value)'")) }
                terms.append(name == "score" ? .score(op, n) : .fit(op, n))
            case "stage":
                guard op == .equal || op == .notEqual else { return .failure(ParseError("'stage' takes == or !=")) }
                guard let s = LifecycleStage(rawValue: value) else {
                    return .failure(ParseError("unknown stage '\(value)'; expected one of: \(LifecycleStage.allCases.map(\.rawValue).joined(separator: ", "))"))
                }
                terms.append(.stage(equal: op == .equal, s))
            case "grade":
                guard op == .equal || op == .notEqual else { return .failure(ParseError("'grade' takes == or !=")) }
                guard value.count == 1, value.first!.isUppercase else { return .failure(ParseError("a grade is one capital letter, not '\(value)'")) }
                terms.append(.grade(equal: op == .equal, value))
            default:
                return .failure(ParseError("unknown name '\(name)'; a condition compares score, fit, stage or grade"))
            }
            i += 3
            if i < tokens.count {
                guard tokens[i] == "and" else { return .failure(ParseError("expected 'and' before '\(tokens[i])'")) }
                i += 1
                guard i < tokens.count else { return .failure(ParseError("nothing after 'and'")) }
            }
        }
        return .success(LeadCondition(terms: terms))
    }

    public struct ParseError: Error, Hashable, Sendable {
        public var message: String
        public init(_ message: String) { self.message = message }
    }

    public var description: String {
        terms.map { term in
            switch term {
            case .score(let c, let n): "score \(c.rawValue) \(Self.number(n))"
            case .fit(let c, let n): "fit \(c.rawValue) \(Self.number(n))"
            case .stage(let e, let s): "stage \(e ? "==" : "!=") \(s.rawValue)"
            case .grade(let e, let g): "grade \(e ? "==" : "!=") \(g)"
            }
        }.joined(separator: " and ")
    }

    static func number(_ n: Double) -> String { n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n) }
}
