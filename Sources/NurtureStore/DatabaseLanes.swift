import Foundation
import GRDB

/// The store's threads: one writer (SQLite has one), a few readers (WAL readers never wait for the writer), and
/// one for health pings, so `/healthz` is answered even when every other lane is stuck behind a held lock.
final class DatabaseLanes: Sendable {
    let writer = DatabaseLane(name: "nurture.store.writer")
    let readers = (0..<3).map { DatabaseLane(name: "nurture.store.reader\($0)") }
    let ping = DatabaseLane(name: "nurture.store.ping")
    /// Journal fsyncs and in-line unsubscribe applies, which must not queue behind the writer's batch.
    let journal = DatabaseLane(name: "nurture.store.journal")

    var all: [DatabaseLane] { [writer, ping, journal] + readers }

    /// The reader with the least work queued.
    var reader: DatabaseLane { readers.min { $0.load < $1.load }! }

    func shutdown() async {
        for lane in all { await lane.shutdown() }
    }

    deinit { for lane in all { lane.release() } }
}
