import Foundation

/// One `nurture serve` per database: an exclusive `flock` on `<database>.lock`, released by the kernel on exit,
/// even after SIGKILL, so a crash never leaves a stale lock.
public final class DaemonLock: Sendable {
    let fd: Int32
    public let path: String

    public enum LockError: Error, CustomStringConvertible {
        case held(path: String, pid: String)
        case cannotOpen(path: String, reason: String)

        public var description: String {
            switch self {
            case let .held(path, pid):
                "another nurture serve (pid \(pid.isEmpty ? "unknown" : pid)) is already running on this database (lock \(path))"
            case let .cannotOpen(path, reason): "cannot open lock file \(path): \(reason)"
            }
        }
    }

    public init(path: String) throws {
        self.path = path
        // A first `serve` on a new project runs before anything created the database's folder.
        try? FileManager.default.createDirectory(atPath: URL(fileURLWithPath: path).deletingLastPathComponent().path,
                                                 withIntermediateDirectories: true)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw LockError.cannotOpen(path: path, reason: String(cString: strerror(errno))) }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            var buffer = [UInt8](repeating: 0, count: 32)
            let n = pread(fd, &buffer, buffer.count, 0)
            close(fd)
            let pid = n > 0 ? String(decoding: buffer[..<n], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines) : ""
            throw LockError.held(path: path, pid: pid)
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(fd, 0)
        _ = pwrite(fd, pid, pid.count, 0)
        self.fd = fd
    }

    deinit { close(fd) }
}
