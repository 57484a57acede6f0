import Hummingbird

/// Path parameters as the client meant them: Hummingbird hands them over still percent-encoded, so every route
/// reads them through here, decoded exactly once (`%40` is `@`, `%2B` or `%2b` is `+`, a bare `+` stays `+`).
enum PathParameter {
    /// The decoded parameter; nil when it is missing or its percent-encoding is malformed (`%zz`, a lone `%`).
    static func get(_ name: String, _ context: TrackingContext) -> String? {
        context.parameters.get(name).flatMap { $0.removingPercentEncoding }
    }
}
