/// Days of the week as authors name them in send windows.
public enum Weekday: String, CaseIterable, Sendable, Hashable, Comparable {
    case mon, tue, wed, thu, fri, sat, sun

    /// Gregorian calendar weekday number (1 = Sunday … 7 = Saturday), as Foundation reports it.
    public var gregorianNumber: Int {
        switch self {
        case .sun: 1
        case .mon: 2
        case .tue: 3
        case .wed: 4
        case .thu: 5
        case .fri: 6
        case .sat: 7
        }
    }

    public init?(gregorianNumber: Int) {
        guard let day = Weekday.allCases.first(where: { $0.gregorianNumber == gregorianNumber }) else { return nil }
        self = day
    }

    private var order: Int { Weekday.allCases.firstIndex(of: self)! }
    public static func < (a: Weekday, b: Weekday) -> Bool { a.order < b.order }
}
