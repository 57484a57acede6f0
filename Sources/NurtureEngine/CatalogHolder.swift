import NurtureAuthoring
import Synchronization

/// The catalog in force; a reload swaps it atomically, so a tick always sees one consistent version.
public final class CatalogHolder: Sendable {
    private let value: Mutex<Catalog>

    public init(_ catalog: Catalog) { value = Mutex(catalog) }

    public var current: Catalog { value.withLock { $0 } }

    public func replace(with catalog: Catalog) { value.withLock { $0 = catalog } }
}
