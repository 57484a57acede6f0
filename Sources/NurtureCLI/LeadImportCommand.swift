import ArgumentParser
import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureEngine

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
        let rows = LeadBatchReader(file: file, columns: columns, rules: rules, persona: persona, consent: consent,
                                   batchSize: batchSize, now: Date(), prepare: { [store, scoring = catalog.scoringContext] in
                                       var prepared = store.prepare($0)
                                       prepared.fitRules = scoring.rules.fit
                                       prepared.scoring = scoring
                                       return prepared
                                   })
        var tally = Tally()
        let started = Date()
        var lastProgress = 0
        // Rows are parsed and validated on the reader's thread while the previous batch is written here.
        let batches = rows.batches(from: reader)
        defer { batches.stop() } // a failed write stops the reader too
        for await batch in batches {
            tally.reject(batch.rejected)
            if let prepared = batch.prepared {
                for outcome in try await store.upsert(prepared, now: Date()) { tally.count(outcome) }
            }
            if !quiet, tally.rows - lastProgress >= 50_000 {
                lastProgress = tally.rows
                let percent = reader.byteCount == 0 ? 100 : batch.offset * 100 / reader.byteCount
                Terminal.stderr("\(Terminal.stderrIsTTY ? "\r" : "")\(tally.rows) rows (\(percent)%)\(Terminal.stderrIsTTY ? "" : "\n")")
            }
        }
        if !quiet, lastProgress > 0, Terminal.stderrIsTTY { Terminal.stderr("\n") }
        let seconds = Date().timeIntervalSince(started)
        if tally.rejected > LeadBatchReader.maxErrorsShown {
            Terminal.stderr("… and \(tally.rejected - LeadBatchReader.maxErrorsShown) more rejected rows not shown\n")
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

        /// Rows the reader rejected (it has reported them).
        mutating func reject(_ count: Int) {
            rows += count
            rejected += count
        }
    }
}
