import Foundation

/// `scoring.fit`: who the lead is, scored apart from what it did, so a student who clicks everything does not
/// outrank a CTO who reads quietly. Each rule adds its points when it matches; the grade comes from the total.
public struct FitRules: Hashable, Sendable {
    public var rules: [FitRule]
    /// Highest first: a lead gets the first grade whose `minimum` its fit reaches, else `belowAll`.
    public var grades: [FitGrade]
    /// The grade under every bound.
    public var belowAll: String

    public init(rules: [FitRule] = [], grades: [FitGrade] = FitRules.defaultGrades, belowAll: String = "D") {
        self.rules = rules
        self.grades = grades
        self.belowAll = belowAll
    }

    public static let defaultGrades = [FitGrade(letter: "A", minimum: 40), FitGrade(letter: "B", minimum: 20), FitGrade(letter: "C", minimum: 5)]
    public var isEmpty: Bool { rules.isEmpty }
}

public struct FitGrade: Hashable, Sendable {
    public var letter: String
    public var minimum: Double

    public init(letter: String, minimum: Double) {
        self.letter = letter
        self.minimum = minimum
    }
}

/// One fit rule: a test on a lead field or on the address's domain, worth `points` (negative for a poor fit).
public struct FitRule: Hashable, Sendable {
    public enum FieldTest: Hashable, Sendable {
        /// Case-insensitive equality with one of the values.
        case oneOf([String])
        /// A case-insensitive regular expression found anywhere in the value (job title patterns).
        case pattern(String)
        /// A number within bounds (inclusive; nil is open): company size ranges.
        case range(min: Double?, max: Double?)
    }

    public enum DomainTest: Hashable, Sendable {
        /// The built-in list of free-mail providers (gmail.com, outlook.com, …).
        case freeMail
        /// The domain or a parent of it is in the set (competitors, or a disposable list read from a file).
        case domains(Set<String>)
    }

    public enum Test: Hashable, Sendable {
        case field(String, FieldTest)
        case emailDomain(DomainTest)
    }

    public var test: Test
    public var points: Double
    /// How the ledger names the rule (`job_title ~ /cto/`, `email domain in lists/disposable.txt`): stable across
    /// reloads of the same rule, so a recomputation lists only what changed.
    public var label: String

    public init(test: Test, points: Double, label: String) {
        self.test = test
        self.points = points
        self.label = label
    }
}

/// What the fit rules make of one lead: the total, its grade, and each matched rule's points by label.
public struct FitResult: Hashable, Sendable {
    public var points: Double
    public var grade: String
    public var matched: [String: Double]

    public init(points: Double, grade: String, matched: [String: Double]) {
        self.points = points
        self.grade = grade
        self.matched = matched
    }
}
