import Foundation

/// `nurture lead show EMAIL --json` as the tests read it: what an operator sees of a lead, whatever the store.
struct LeadView: Decodable {
    struct Send: Decodable {
        var id: Int64; var sequence: String; var step: String; var status: String; var sentAt: String?; var attempts: Int
        var reason: String?; var possiblySent: Bool
    }
    struct Event: Decodable { var type: String; var sequence: String?; var step: String?; var machine: Bool; var link: Int?; var why: String?; var repeated: Bool; var detail: String? }
    struct Enrollment: Decodable { var sequence: String; var state: String; var endReason: String? }
    struct Ledger: Decodable { var delta: Double; var scoreAfter: Double; var cause: String }
    struct Choice: Decodable { var type: String; var sequence: String?; var via: String?; var until: String? }

    var email: String
    var stage: String
    var score: Double
    var suppressed: String?
    var fields: [String: String]
    var enrollments: [Enrollment]
    /// Latest first, as the report lists them; `chronological` for the order they happened in.
    var events: [Event]
    var ledger: [Ledger]
    var sends: [Send]
    var pausedUntil: String?
    var consentHistory: [Choice]

    var chronological: [Event] { events.reversed() }

    func sends(step: String) -> [Send] { sends.filter { $0.step == step } }

    static func decode(_ json: String) throws -> LeadView {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(LeadView.self, from: Data(json.utf8))
    }
}
