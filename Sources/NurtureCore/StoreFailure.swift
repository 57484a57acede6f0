/// Why a store could not commit, in terms callers act on: a full disk is reported to operators (health, one log
/// line) and retried; a busy database (another process holds the writer) is simply retried.
public enum StoreFailure: Error, CustomStringConvertible, Sendable, Equatable {
    case diskFull(String)
    case busy(String)
    /// The store was closed (the daemon is stopping): nothing more is accepted.
    case closed

    public var description: String {
        switch self {
        case .diskFull(let detail): "disk full: \(detail)"
        case .busy(let detail): "database busy: \(detail)"
        case .closed: "the store is closed"
        }
    }
}
