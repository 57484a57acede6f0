import Foundation
import Logging
import NurtureAuthoring
import NurtureCore

/// Re-reads config, sequences and templates; a version that does not validate never replaces the one running.
public struct CatalogReloader: Sendable {
    public let configPath: String
    let holder: CatalogHolder
    let store: ReloadStore
    let logger: Logger

    public init(configPath: String, holder: CatalogHolder, store: ReloadStore, logger: Logger) {
        self.configPath = configPath
        self.holder = holder
        self.store = store
        self.logger = logger
    }

    /// Loads and validates everything, exactly as `nurture validate` does.
    public static func load(configPath: String) -> (Catalog?, [Diagnostic]) {
        let sink = DiagnosticSink()
        let catalog = ConfigLoader.load(path: configPath, sink: sink).flatMap { CatalogLoader.load(config: $0, sink: sink) }
        return (sink.hasErrors ? nil : catalog, sink.sorted)
    }

    /// Returns false (and keeps the running catalog) when the new files have errors.
    @discardableResult
    public func reload() async -> Bool {
        let (loaded, diagnostics) = Self.load(configPath: configPath)
        guard var new = loaded else {
            for d in diagnostics { logger.error("\(d)") }
            logger.error("reload refused: the new files have errors; still running on the previous ones")
            return false
        }
        for d in diagnostics { logger.warning("\(d)") }
        let old = holder.current
        let (config, kept) = RestartOnlySettings.keep(old.config, in: new.config)
        new.config = config
        holder.replace(with: new)
        // Leads of personas whose sequences appeared or changed their gate may enter now.
        let before = Dictionary(uniqueKeysWithValues: old.sequences.map { ($0.sequence.id, $0.sequence) })
        let changed = new.sequences.map(\.sequence).filter { s in before[s.id].map { $0.entry != s.entry || $0.persona != s.persona } ?? true }
        do {
            try await store.reconsiderLeads(personas: Array(Set(changed.map(\.persona))).sorted())
        } catch {
            logger.error("reload: cannot mark leads for enrollment: \(error)")
        }
        for key in kept { logger.warning("reload: \(key) changed; it takes effect at the next restart (the running value is kept)") }
        if old.config.http.publicURL != new.config.http.publicURL {
            logger.notice("reload: http.public_url is now \(new.config.http.publicURL): mail sent from now on links there; links already sent keep working while their address still reaches this server")
        }
        logger.info("reloaded \(new.sequences.count) sequences and \(new.templates.count) templates")
        return true
    }
}
