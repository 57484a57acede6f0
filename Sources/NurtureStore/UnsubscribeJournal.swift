import Foundation
import NurtureCore
import Synchronization

/// One-click unsubscribes made durable without the database: appended and fsynced to a file beside it, so the
/// reply never waits for SQLite's writer (another process may hold it). Entries are applied to the database when
/// the writer is free, and at start-up; until then the scheduler treats their leads as unsubscribed. The file
/// holds only ids and times, never an address, and is emptied once everything in it is committed.
public final class UnsubscribeJournal: Sendable {
    public struct Entry: Sendable, Hashable {
        public var outboxID: Int64
        public var leadID: Int64
        public var at: Date
        public var via: String
    }

    struct State {
        var fd: Int32 = -1
        var pending: [Entry] = []
    }

    public let path: String
    private let state: Mutex<State>

    public enum JournalError: Error, CustomStringConvertible {
        case cannotWrite(String, String)
        public var description: String {
            switch self { case let .cannotWrite(path, why): "cannot record the unsubscribe in \(path): \(why)" }
        }
    }

    /// Reads what an earlier run left unapplied; a torn last line (a crash before its fsync, so never answered) is dropped.
    public init(path: String) {
        self.path = path
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        lines.removeLast() // "" after the last newline, or the torn line
        state = Mutex(State(pending: lines.compactMap(Self.parse)))
    }

    static func parse(_ line: Substring) -> Entry? {
        let parts = line.split(separator: " ", maxSplits: 3)
        guard parts.count == 4, let outbox = Int64(parts[0]), let lead = Int64(parts[1]), let millis = Int64(parts[2]) else { return nil }
        return Entry(outboxID: outbox, leadID: lead, at: Date(timeIntervalSince1970: Double(millis) / 1000), via: String(parts[3]))
    }

    /// Leads with an unsubscribe not yet in the database.
    public var pendingLeads: Set<Int64> { state.withLock { Set($0.pending.map(\.leadID)) } }
    public var pending: [Entry] { state.withLock { $0.pending } }

    /// Appends and fsyncs; when it returns, the unsubscribe survives a crash or a power loss.
    public func record(_ entry: Entry) throws {
        let via = entry.via.filter { !$0.isNewline }
        let line = Array("\(entry.outboxID) \(entry.leadID) \(Int64((entry.at.timeIntervalSince1970 * 1000).rounded())) \(via)\n".utf8)
        try state.withLock { s in
            if s.fd < 0 {
                let created = !FileManager.default.fileExists(atPath: path)
                s.fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o600)
                guard s.fd >= 0 else { throw JournalError.cannotWrite(path, String(cString: strerror(errno))) }
                if created { Self.syncFolder(of: path) }
            }
            let size = lseek(s.fd, 0, SEEK_END)
            let written = line.withUnsafeBytes { write(s.fd, $0.baseAddress, $0.count) }
            guard written == line.count, fsync(s.fd) == 0 else {
                let why = String(cString: strerror(errno))
                _ = ftruncate(s.fd, size) // no torn line for the next entry to be glued to
                throw JournalError.cannotWrite(path, why)
            }
            s.pending.append(entry)
        }
    }

    /// The entry is committed to the database: forget it, and empty the file once nothing is left.
    public func applied(_ entry: Entry) {
        state.withLock { s in
            s.pending.removeAll { $0 == entry }
            guard s.pending.isEmpty else { return }
            if s.fd >= 0 {
                _ = ftruncate(s.fd, 0)
                _ = fsync(s.fd)
            } else if FileManager.default.fileExists(atPath: path) {
                _ = truncate(path, 0)
            }
        }
    }

    /// A new file's name is durable only once its folder is synced.
    static func syncFolder(of path: String) {
        let fd = open(URL(fileURLWithPath: path).deletingLastPathComponent().path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return }
        _ = fsync(fd)
        close(fd)
    }
}
