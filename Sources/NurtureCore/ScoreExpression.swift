/// The `score >= N` form of an exit rule's `when:`; kept tiny on purpose so authors cannot write programs.
public enum ScoreExpression {
    /// Parses `score >= N` (spaces optional); returns N.
    public static func parseAtLeast(_ text: String) -> Double? {
        let compact = text.filter { $0 != " " }
        guard compact.hasPrefix("score>=") else { return nil }
        return Double(compact.dropFirst("score>=".count))
    }
}
