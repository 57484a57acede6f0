import Foundation

/// What a reload (CatalogReloader) needs from storage.
public protocol ReloadStore: Sendable {
    /// Makes leads of these personas be considered again (a reload added or changed a sequence).
    func reconsiderLeads(personas: [String]) async throws
}
