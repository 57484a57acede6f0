import Hummingbird

/// Path parameters as the client meant them: Hummingbird hands them over still percent-encoded, so every route
/// reads them through here, decoded exactly once (`%40` is `@`, `%2B` or `%2b` is `+`, a bare `+` stays `+`).
enum PathParameter {
    /// The decoded parameter; nil when it is missing or its percent-encoding is malformed (`%zz`, a lone `%`).
    static func get(_ name: String, _ context: TrackingContext) -> String? {
        // Most tokens hold no `%`: Foundation's decoding of every pixel's token was 6 % of the open path.
        context.parameters.get(name).flatMap { $0.utf8.contains(UInt8(ascii: "%")) ? $0.removingPercentEncoding : $0 }
    }
}
