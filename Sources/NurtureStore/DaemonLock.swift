import Foundation

/// One `nurture serve` per database: an exclusive `flock` on the database file itself, so the lock follows the
/// file's identity (device and inode) whatever path, symlink or hard link reaches it; released by the kernel on
/// exit, even after SIGKILL, so a crash never leaves a stale lock. The holder's pid is written beside the file's
/// resolved path, for the message a second daemon prints.
public final class DaemonLock: Sendable {
    let fd: Int32
    public let path: String

    public enum LockError: Error, CustomStringConvertible {
        case held(path: String, pid: String)
        case cannotOpen(path: String, reason: String)

        public var description: String {
            switch self {
            case let .held(path, pid):
                "another nurture serve (pid \(pid.isEmpty ? "unknown" : pid)) is already running on this database (\(path))"
            case let .cannotOpen(path, reason): "cannot open database \(path) to lock it: \(reason)"
            }
        }
    }

    /// - Parameter database: the SQLite file; created empty (a valid empty database) when missing.
    public init(database: String) throws {
        path = database
        // A first `serve` on a new project runs before anything created the database's folder.
        try? FileManager.default.createDirectory(atPath: URL(fileURLWithPath: database).deletingLastPathComponent().path,
                                                 withIntermediateDirectories: true)
        let fd = open(database, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LockError.cannotOpen(path: database, reason: String(cString: strerror(errno))) }
        let pidFile = Self.pidFile(database)
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            let pid = (try? String(contentsOfFile: pidFile, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
            throw LockError.held(path: database, pid: pid)
        }
        try? "\(getpid())\n".write(toFile: pidFile, atomically: true, encoding: .utf8)
        self.fd = fd
    }

    /// `<resolved database path>.pid`: symlinks lead to the same one (a hard link elsewhere gets "pid unknown").
    static func pidFile(_ database: String) -> String {
        (realpath(database, nil).map { p in defer { free(p) }; return String(cString: p) } ?? database) + ".pid"
    }

    // No deinit: closing any descriptor of the database would drop the POSIX locks SQLite holds on it in this
    // process. The descriptor (and so the lock) lives until the process exits.
}
