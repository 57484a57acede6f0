import Foundation

/// The embedded default transport: one `.eml` per message in a folder, written atomically
/// (temporary name, fsync, rename, fsync of the folder) so a crash never leaves half a message.
public final class FileTransport: Transport, @unchecked Sendable {
    public let directory: String
    public let concurrency = 1
    /// File writes and fsync block: they run here, never on Swift's cooperative threads.
    private let queue = DispatchQueue(label: "nurture.file-transport")

    public init(directory: String) throws {
        self.directory = directory
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // A crash mid-write leaves only a temporary file, never a partial .eml: clear those.
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where name.hasPrefix(".tmp-") {
            try? FileManager.default.removeItem(atPath: directory + "/" + name)
        }
    }

    public func transfer(_ messages: [OutgoingMessage], perDomain: Int) async -> [DeliveryResult] {
        await withCheckedContinuation { (continuation: CheckedContinuation<[DeliveryResult], Never>) in
            queue.async { continuation.resume(returning: messages.map(self.write)) }
        }
    }

    /// Deletes the `.eml` copies of these sends (an erasure); returns how many files went.
    public static func removeMessages(outboxIDs: Set<Int64>, in directory: String) -> Int {
        guard !outboxIDs.isEmpty, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return 0 }
        var removed = 0
        for name in names where name.hasSuffix(".eml") {
            // STAMP-OUTBOXID-RANDOM.eml (see `write`).
            let parts = name.dropLast(4).split(separator: "-")
            guard parts.count == 3, let id = Int64(parts[1]), outboxIDs.contains(id) else { continue }
            if unlink(directory + "/" + name) == 0 { removed += 1 }
        }
        if removed > 0 {
            let dir = open(directory, O_RDONLY)
            if dir >= 0 { fsync(dir); close(dir) }
        }
        return removed
    }

    private func write(_ message: OutgoingMessage) -> DeliveryResult {
        // Unique per attempt, so a message resent after a crash shows up twice rather than silently overwriting.
        let stamp = Int64(Date().timeIntervalSince1970 * 1000)
        let name = "\(stamp)-\(message.outboxID)-\(UInt32.random(in: 0...UInt32.max)).eml"
        let final = directory + "/" + name, temporary = directory + "/.tmp-" + name
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o640)
        guard fd >= 0 else { return .temporaryFailure("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let ok = message.data.withUnsafeBytes { raw -> Bool in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 { if errno == EINTR { continue }; return false }
                offset += n
            }
            return true
        }
        let synced = ok && fsync(fd) == 0
        close(fd)
        guard synced, rename(temporary, final) == 0 else {
            let why = String(cString: strerror(errno))
            unlink(temporary)
            return .temporaryFailure("cannot write \(final): \(why)")
        }
        let dir = open(directory, O_RDONLY)
        if dir >= 0 { fsync(dir); close(dir) }
        return .sent(reply: "written \(name)")
    }
}
