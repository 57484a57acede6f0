import Synchronization

/// Lets a gauge count from the store at most once per `interval` however often `/metrics` is scraped: a scrape
/// storm reads memory, never turns into a `count(*)` storm on the database.
final class ScrapeThrottle: Sendable {
    let interval: Duration
    private let counted = Mutex<ContinuousClock.Instant?>(nil)

    init(interval: Duration) { self.interval = interval }

    /// True at most once per interval: the caller counts now.
    func isDue() -> Bool {
        let now = ContinuousClock.now
        return counted.withLock { last in
            if let last, now - last < interval { return false }
            last = now
            return true
        }
    }
}
