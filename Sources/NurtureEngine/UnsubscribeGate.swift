/// A store that can know of unsubscribes before they are in its tables (journaled while the writer was busy):
/// the scheduler sends nothing to these leads, from the moment the unsubscribe was answered.
public protocol UnsubscribeGate: Sendable {
    /// Lead ids with an unsubscribe answered but not yet applied.
    func pendingUnsubscribes() -> Set<Int64>
}
