import Foundation

/// A data-subject access document (JSON-ready values), immutable once built so it may cross to the caller.
public struct LeadExport: @unchecked Sendable {
    public let document: [String: Any]

    public init(document: [String: Any]) { self.document = document }
}
