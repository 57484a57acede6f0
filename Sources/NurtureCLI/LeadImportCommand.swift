import ArgumentParser
import Foundation
import NurtureAuthoring
import NurtureCore

/// `nurture lead import`: a CSV of leads; bad rows are reported by line and skipped, the rest stored.
/// Re-importing the same file changes nothing.
struct LeadImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import leads from a CSV file whose header row names the columns.",
        discussion: """
            Columns: email (required), persona, timezone, locale, recontact_after, consent_source, consent_at, \
            consent_text, consent_ip, and any field declared in the config. A bad row is reported as FILE:LINE and \
            skipped; the others are imported. Exits 1 if any row was rejected.

            Example:
              nurture lead import leads.csv --consent import:salon-2026 --persona cto
            """
    )

    @OptionGroup var options: ConfigOption
    @Argument(help: "CSV file (UTF-8, header row first).") var file: String
    @Option(help: "Where these leads gave consent; a consent_source column overrides it per row.") var consent: String
    @Option(help: "Persona for rows without a persona column or value.") var persona: String?
    @Option(help: "Field separator: ',' (default), ';' or 'tab'.") var delimiter: String = ","
    @Option(help: "Leads per transaction (1 to 100000).") var batchSize: Int = 2_000
    @Flag(help: "No progress output.") var quiet = false

    static let standardColumns: Set<String> = ["email", "persona", "timezone", "locale", "recontact_after",
                                               "consent_source", "consent_at", "consent_text", "consent_ip"]
    static let maxErrorsShown = 1_000

    func validate() throws {
        guard (1...100_000).contains(batchSize) else { throw ValidationError("--batch-size must be from 1 to 100000, found \(batchSize)") }
    }

    func run() async throws {
        let catalog = try options.loadCatalog()
        let separator = try delimiterByte()
        guard let data = try? Data(contentsOf: URL(fileURLWithPath: file), options: .alwaysMapped) else {
            Terminal.error("cannot read \(file)")
            throw ExitCode(1)
        }
        var reader = CSVReader(data: data, delimiter: separator)
        let columns = try header(&reader, declared: Set(catalog.config.fields))
        let store = try await options.openStore(catalog)
        let rules = LeadRules(declaredFields: Set(catalog.config.fields), personas: catalog.personas,
                              defaultTimeZone: catalog.config.defaultTimeZone)
        var tally = Tally()
        let started = Date()
        var batch: [Lead] = []
        batch.reserveCapacity(batchSize)
        var lastProgress = 0
        func flush() async throws {
            guard !batch.isEmpty else { return }
            for outcome in try await store.upsert(batch, now: Date()) { tally.count(outcome) }
            batch.removeAll(keepingCapacity: true)
            if !quiet, tally.rows - lastProgress >= 50_000 {
                lastProgress = tally.rows
                let percent = reader.byteCount == 0 ? 100 : reader.offset * 100 / reader.byteCount
                Terminal.stderr("\(Terminal.stderrIsTTY ? "\r" : "")\(tally.rows) rows (\(percent)%)\(Terminal.stderrIsTTY ? "" : "\n")")
            }
        }
        let now = Date()
        while let next = reader.next() {
            switch next {
            case .failure(.invalidUTF8(let line, let column)):
                tally.reject(file, line, "invalid UTF-8 in column \(column) ('\(columns.indices.contains(column - 1) ? columns[column - 1] : "?")')")
            case .failure(.unterminatedQuote(let line)):
                tally.reject(file, line, "a quoted field is never closed")
            case .failure(.strayQuote(let line, let column)):
                tally.reject(file, line, "stray quote in column \(column): a quoted field must be followed by a separator or the line's end, "
                             + "and a quote inside a field must be in a quoted field, doubled (\"\")")
            case .success(let record):
                guard record.fields.count == columns.count else {
                    tally.reject(file, record.line, "expected \(columns.count) columns, found \(record.fields.count)")
                    continue
                }
                do {
                    batch.append(try rules.lead(from: input(record, columns: columns), now: now))
                } catch {
                    tally.reject(file, record.line, error.description)
                }
                if batch.count >= batchSize { try await flush() }
            }
        }
        try await flush()
        if !quiet, lastProgress > 0, Terminal.stderrIsTTY { Terminal.stderr("\n") }
        let seconds = Date().timeIntervalSince(started)
        if tally.rejected > Self.maxErrorsShown {
            Terminal.stderr("… and \(tally.rejected - Self.maxErrorsShown) more rejected rows not shown\n")
        }
        print("\(file): \(tally.rows) rows in \(String(format: "%.2f", seconds)) s — \(tally.inserted) added, \(tally.updated) updated, "
              + "\(tally.unchanged) unchanged, \(tally.suppressed) suppressed, \(tally.rejected) rejected")
        if tally.rejected > 0 { throw ExitCode(1) }
    }

    private func delimiterByte() throws -> UInt8 {
        switch delimiter {
        case "tab", "\\t", "\t": return 0x09
        case let d where d.utf8.count == 1 && d != "\"" && d != "\n" && d != "\r": return d.utf8.first!
        default: throw ValidationError("--delimiter must be one character such as ',' or ';', or 'tab'")
        }
    }

    /// Reads and checks the header row; a bad header stops the import before anything is written.
    private func header(_ reader: inout CSVReader, declared: Set<String>) throws -> [String] {
        guard let first = reader.next() else {
            Terminal.error("\(file) is empty")
            throw ExitCode(1)
        }
        guard case .success(let record) = first else {
            Terminal.stderr("\(file):1: error: the header row cannot be read (invalid UTF-8 or an unclosed quote)\n")
            throw ExitCode(1)
        }
        let columns = record.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        var problems: [String] = []
        var seen = Set<String>()
        var twice: [String] = [], unknown: [String] = []
        for c in columns {
            if !seen.insert(c).inserted { twice.append(c) }
            if !Self.standardColumns.contains(c) && !declared.contains(c) { unknown.append(c) }
        }
        // Names come from the file: escaped, shortened, and listed once however many there are.
        func list(_ names: [String]) -> String {
            let shown = names.prefix(10).map { "'\(PrintableText.escaped($0, limit: 40))'" }.joined(separator: ", ")
            return names.count > 10 ? shown + " and \(names.count - 10) more" : shown
        }
        if !twice.isEmpty { problems.append("\(twice.count == 1 ? "column" : "columns") \(list(twice)) \(twice.count == 1 ? "appears" : "appear") twice") }
        if !unknown.isEmpty {
            problems.append("unknown \(unknown.count == 1 ? "column" : "columns") \(list(unknown)); columns are \(Self.standardColumns.sorted().joined(separator: ", "))"
                            + " and the declared fields \(declared.sorted().joined(separator: ", "))")
        }
        if !columns.contains("email") { problems.append("no 'email' column") }
        if !columns.contains("persona") && persona == nil { problems.append("no 'persona' column: add one or pass --persona") }
        if !problems.isEmpty {
            for p in problems { Terminal.stderr("\(file):\(record.line): error: \(p)\n") }
            Terminal.error("nothing imported")
            throw ExitCode(1)
        }
        return columns
    }

    private func input(_ record: CSVReader.Record, columns: [String]) -> LeadInput {
        var input = LeadInput(email: "", persona: persona ?? "", consentSource: consent)
        for (name, value) in zip(columns, record.fields) {
            switch name {
            case "email": input.email = value
            case "persona": if !value.isEmpty { input.persona = value }
            case "timezone": input.timeZone = value
            case "locale": input.locale = value
            case "recontact_after": input.recontactAfter = value
            case "consent_source": if !value.isEmpty { input.consentSource = value }
            case "consent_at": input.consentAt = value
            case "consent_text": input.consentText = value
            case "consent_ip": input.consentIP = value
            default: input.fields[name] = value
            }
        }
        return input
    }

    struct Tally {
        var rows = 0, inserted = 0, updated = 0, unchanged = 0, suppressed = 0, rejected = 0

        mutating func count(_ outcome: UpsertOutcome) {
            rows += 1
            switch outcome {
            case .inserted: inserted += 1
            case .updated: updated += 1
            case .unchanged: unchanged += 1
            case .suppressed: suppressed += 1
            }
        }

        mutating func reject(_ file: String, _ line: Int, _ message: String) {
            rows += 1
            rejected += 1
            if rejected <= LeadImportCommand.maxErrorsShown { Terminal.stderr("\(file):\(line): error: \(message)\n") }
        }
    }
}
