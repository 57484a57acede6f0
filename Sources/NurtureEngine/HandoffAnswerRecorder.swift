import Foundation
import NurtureAuthoring
import NurtureCore

/// Records sales' answer about a hand-off with the configured outcomes: the one path of the API and of
/// `nurture handoff set`, so both validate and apply an answer the same way.
public struct HandoffAnswerRecorder: Sendable {
    let store: HandoffAnswerStore
    let catalog: CatalogHolder

    public init(store: HandoffAnswerStore, catalog: CatalogHolder) {
        self.store = store
        self.catalog = catalog
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case unknownOutcome(String)
        case badReason(String)
        case unknownHandoff(String)

        public var description: String {
            switch self {
            case .unknownOutcome(let o):
                "unknown outcome '\(PrintableText.escaped(o, limit: 40))'; expected one of: \(HandoffOutcome.allCases.map(\.rawValue).joined(separator: ", "))"
            case .badReason(let why): why
            case .unknownHandoff(let id): "no hand-off \(PrintableText.escaped(id, limit: 40))"
            }
        }
    }

    /// Validates and records; `id` as written (a path segment, an argument).
    public func answer(id: String, outcome: String, reason: String?, at: Date) async throws -> HandoffAnswerResult {
        guard let o = HandoffOutcome(rawValue: outcome) else { throw Failure.unknownOutcome(outcome) }
        if let reason {
            guard reason.count <= 200, !reason.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) else {
                throw Failure.badReason("'reason' must be one line of at most 200 characters")
            }
        }
        guard let n = Int64(id), n > 0 else { throw Failure.unknownHandoff(id) }
        let config = catalog.current.config
        let reasonText = reason.flatMap { $0.trimmingCharacters(in: .whitespaces).isEmpty ? nil : $0.trimmingCharacters(in: .whitespaces) }
        guard let result = try await store.answerHandoff(n, HandoffAnswer(outcome: o, reason: reasonText, at: at),
                                                         outcomes: config.handoff.outcomes, scoring: catalog.current.scoringContext) else {
            throw Failure.unknownHandoff(id)
        }
        return result
    }
}
