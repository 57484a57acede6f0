import Foundation
import Logging
import Synchronization

/// One line per event on stderr. Under systemd (`$JOURNAL_STREAM` set) each line starts with its syslog priority
/// (`<3>` error … `<7>` debug) and carries no timestamp, since journald adds both; otherwise a timestamped line.
struct JournalLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String
    let journal: Bool

    private static let lock = Mutex(())

    init(label: String, journal: Bool) {
        self.label = label
        self.journal = journal
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let extra = event.metadata { all.merge(extra) { _, new in new } }
        let fields = all.isEmpty ? "" : " " + all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        // A message is one line: a multi-line one (a list of diagnostics) is joined rather than split into events.
        let text = "\(event.message)".split(whereSeparator: \.isNewline).joined(separator: " | ") + fields
        let line = journal ? "<\(Self.priority(event.level))>\(text)\n"
            : "\(Self.timestamp()) \(event.level) \(label): \(text)\n"
        Self.lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }

    static func timestamp() -> String {
        var now = time(nil)
        var parts = tm()
        localtime_r(&now, &parts)
        var buffer = [Int8](repeating: 0, count: 32)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &parts)
        return String(cString: buffer)
    }
}
