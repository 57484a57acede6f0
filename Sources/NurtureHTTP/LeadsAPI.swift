import Foundation

/// The events and leads API the HTTP server exposes under `/api/v1` (bearer token). Owned here, implemented by
/// the engine, which has the store and the configuration.
public protocol LeadsAPI: Sendable {
    /// `POST /api/v1/leads`: create or update a lead, with the rules of `nurture lead add`.
    func upsertLead(_ body: [UInt8]) async -> APIResponse
    /// `POST /api/v1/events`: a custom event, scored and checked against exit rules.
    func recordEvent(_ body: [UInt8]) async -> APIResponse
    /// `GET /api/v1/leads/{email}`: the lead, its enrollments, score and ledger.
    func lead(_ email: String) async -> APIResponse
    /// `GET /api/v1/leads/{email}/export`: everything stored about the lead.
    func export(_ email: String) async -> APIResponse
    /// `GET /api/v1/stats`: what `nurture stats --json` shows per sequence, step and variant.
    func stats() async -> APIResponse
    /// `DELETE /api/v1/leads/{email}`: erasure.
    func erase(_ email: String) async -> APIResponse
    /// `POST /api/v1/handoffs/{id}`: sales' answer about a hand-off (`{"outcome": "won", "reason": "…"}`).
    func answerHandoff(_ id: String, _ body: [UInt8]) async -> APIResponse
}

/// A JSON answer: an object or array for success, `{"error": "…"}` otherwise.
public struct APIResponse: Sendable {
    public var status: Int
    public var body: [UInt8]

    public init(status: Int, json: Any) {
        self.status = status
        body = Array((try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)) + [0x0A]
    }

    public static func error(_ status: Int, _ message: String) -> APIResponse { APIResponse(status: status, json: ["error": message]) }
}
