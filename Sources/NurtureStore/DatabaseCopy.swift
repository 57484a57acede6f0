import Foundation
import GRDB
import PostgresNIO

/// `nurture db copy`: a SQLite installation into an empty PostgreSQL database, in one PostgreSQL transaction (all
/// or nothing). Ids are kept and every identity continues past the highest id SQLite ever gave out, erased rows
/// included, because ids left the database in tokens and Message-IDs; the instance id those Message-IDs carry is
/// copied too. SQLite is read in one snapshot while PostgreSQL inserts the previous batch.
public enum DatabaseCopy {
    /// One table's rows in the SQLite snapshot and in PostgreSQL after the copy, and the next id it hands out.
    public struct TableCount: Sendable, Equatable {
        public let table: String
        public let source: Int
        public let copied: Int
        /// The id PostgreSQL gives the next row (nil: the table has no identity).
        public let nextID: Int64?
    }

    public struct Report: Sendable {
        public let tables: [TableCount]
        /// The instance id in Message-IDs, now the target's.
        public let instance: String
    }

    public enum Failure: Error, CustomStringConvertible {
        case schemaMismatch([String])
        case targetNotEmpty(String, [String])
        case targetDaemonRunning(String)
        case badValue(table: String, column: String, row: Int, why: String)
        case insertFailed(table: String, why: String)
        case countMismatch([TableCount])
        case instanceNotCopied
        case targetKeyedOtherwise(String, String)

        public var description: String {
            switch self {
            case let .schemaMismatch(problems):
                "the SQLite and PostgreSQL schemas do not match; nothing was copied:\n" + problems.map { "  " + $0 }.joined(separator: "\n")
            case let .targetNotEmpty(target, tables):
                "\(target) is not empty (rows in \(tables.joined(separator: ", "))); db copy only fills an empty database, nothing was copied"
            case let .targetDaemonRunning(target): "a nurture serve is running on \(target); stop it first, nothing was copied"
            case let .badValue(table, column, row, why): "\(table).\(column), row \(row) of the SQLite table: \(why); nothing was copied"
            case let .insertFailed(table, why): "copying \(table) failed: \(why); nothing was copied"
            case let .countMismatch(counts):
                "row counts differ after the copy, rolled back: "
                    + counts.map { "\($0.table) \($0.source) in SQLite, \($0.copied) copied" }.joined(separator: "; ")
            case .instanceNotCopied: "the instance id (in every Message-ID) did not reach PostgreSQL; rolled back"
            case let .targetKeyedOtherwise(target, file):
                "\(target) was already opened with another erasure key than \(file) (another installation uses it); "
                    + "db copy only fills a new, empty database, nothing was copied"
            }
        }
    }

    /// What the SQLite snapshot holds, read before its rows.
    struct Summary: Sendable {
        var counts: [String: Int] = [:]
        /// Per table with an identity: the highest id given out (max of `sqlite_sequence` and of the rows).
        var highestIDs: [String: Int64] = [:]
        var instance: String?
    }

    /// What the SQLite reader hands the PostgreSQL writer.
    enum Item: Sendable {
        case summary(Summary)
        case rows(table: Int, json: String)
    }

    /// Rows per batch, and the JSON size at which a batch goes out earlier (outbox rows carry their links).
    static let batchRows = 5_000
    static let batchBytes = 4 << 20

    /// Opens (and migrates) the target with the source's erasure key file, so the target records that key's check;
    /// a database another installation already keyed is refused as such.
    public static func openTarget(_ options: PostgresStore.Options, erasureKeyFile: String) async throws -> PostgresStore {
        do {
            return try await PostgresStore.open(options, erasureKeyFile: erasureKeyFile)
        } catch ErasureKey.LoadError.mismatched {
            throw Failure.targetKeyedOtherwise(options.described, erasureKeyFile)
        }
    }

    /// Copies `source` into `target`, which must hold no data yet (its migrations have run: `openTarget`).
    /// The caller holds SQLite's daemon lock. Throws, with PostgreSQL rolled back, on any mismatch.
    public static func copy(from source: SQLiteStore, to target: PostgresStore) async throws -> Report {
        let (sourceTables, autoincrement) = try await source.read { db in
            var tables: [String: [CopyPlan.SourceColumn]] = [:]
            for name in try String.fetchAll(db, sql: SQLiteCopySQL.tables) {
                tables[name] = try Row.fetchAll(db, sql: SQLiteCopySQL.columns, arguments: [name]).map {
                    CopyPlan.SourceColumn(name: $0["name"], type: $0["type"])
                }
            }
            return (tables, Set(try String.fetchAll(db, sql: SQLiteCopySQL.autoincrementTables)))
        }
        let where_ = target.options.described
        return try await target.write { tx in
            let running: Bool? = try await tx.value(PostgresCopySQL.registeredNode, "present")
            guard running != true else { throw Failure.targetDaemonRunning(where_) }
            var targetTables: [String: [CopyPlan.TargetColumn]] = [:]
            for r in try await tx.rows(PostgresCopySQL.columns) {
                targetTables[try r["table_name"], default: []].append(CopyPlan.TargetColumn(
                    name: try r["column_name"], type: try r["data_type"], nullable: try r["nullable"], hasDefault: try r["has_default"],
                    identity: try r["is_identity"]))
            }
            let plan = try CopyPlan(source: sourceTables, autoincrement: autoincrement, target: targetTables)
            var used: [String] = []
            for table in plan.tables.map(\.name) + CopyPlan.targetOnly where table != "schema_migration" {
                let query = table == "meta" ? PostgresCopySQL.metaHasOtherRows : PostgresCopySQL.hasRows(table)
                let present: Bool? = try await tx.value(query, "present")
                if present == true { used.append(table) }
            }
            guard used.isEmpty else { throw Failure.targetNotEmpty(where_, used) }
            try await tx.execute(PostgresCopySQL.dropGeneratedInstance)

            let foreignKeys = try await dropForeignKeys(tx)
            let summary = try await insertRows(tx, from: source, plan: plan)
            for key in foreignKeys {
                do {
                    try await tx.execute(PostgresCopySQL.addConstraint(table: key.table, name: key.name, definition: key.definition))
                } catch {
                    throw Failure.insertFailed(table: key.table, why: "its foreign key \(key.name) does not hold: \(PostgresStore.describe(error))")
                }
            }
            return try await verify(tx, plan: plan, summary: summary)
        }
    }

    /// A foreign key as the catalog prints it, to be put back after the rows.
    struct ForeignKey: Sendable {
        let table: String
        let name: String
        let definition: String
    }

    /// Drops the schema's foreign keys for the copy (inside its transaction: nobody sees the schema without them).
    static func dropForeignKeys(_ tx: PostgresTransaction) async throws -> [ForeignKey] {
        let keys = try await tx.rows(PostgresCopySQL.foreignKeys).map { r in
            ForeignKey(table: try r["table_name"], name: try r["name"], definition: try r["definition"])
        }
        let odd = keys.filter { !CopyPlan.isPlainName($0.table) || !CopyPlan.isPlainName($0.name) }
        guard odd.isEmpty else { throw Failure.schemaMismatch(odd.map { "foreign key \($0.name) of \($0.table): not a plain name" }) }
        for key in keys { try await tx.execute(PostgresCopySQL.dropConstraint(table: key.table, name: key.name)) }
        return keys
    }

    /// Inserts every batch the SQLite reader produces, while it reads the next; returns the snapshot's summary.
    static func insertRows(_ tx: PostgresTransaction, from source: SQLiteStore, plan: CopyPlan) async throws -> Summary {
        let pipe = Handover()
        let reader = DatabaseLane(name: "nurture.copy.reader")
        defer { reader.release() }
        let producing = Task { try await reader.run { try read(source, plan: plan, into: pipe) } }
        var summary = Summary()
        do {
            for await item in pipe.items {
                switch item {
                case let .summary(s): summary = s
                case let .rows(index, json):
                    let table = plan.tables[index]
                    do {
                        try await tx.execute(PostgresCopySQL.insert(table, rows: json))
                    } catch {
                        throw Failure.insertFailed(table: table.name, why: PostgresStore.describe(error))
                    }
                }
                pipe.credits.signal()
            }
            try await producing.value
        } catch {
            pipe.stop()
            _ = try? await producing.value
            throw error
        }
        return summary
    }

    /// Moves each identity past the highest id SQLite gave out, then compares the counts and the instance id.
    static func verify(_ tx: PostgresTransaction, plan: CopyPlan, summary: Summary) async throws -> Report {
        var counts: [TableCount] = []
        for table in plan.tables {
            let copied: Int64 = try await tx.value(PostgresCopySQL.count(table.name), "n") ?? 0
            var next: Int64?
            if let identity = table.identity {
                let last = summary.highestIDs[table.name] ?? 0
                _ = try await tx.rows(PostgresCopySQL.continueIdentity(table: table.name, column: identity, last: last))
                next = last + 1
            }
            counts.append(TableCount(table: table.name, source: summary.counts[table.name] ?? -1, copied: Int(copied), nextID: next))
        }
        let wrong = counts.filter { $0.source != $0.copied }
        guard wrong.isEmpty else { throw Failure.countMismatch(wrong) }
        let instance: String? = try await tx.value(PostgresCopySQL.instanceID, "value")
        guard let instance, instance == summary.instance else { throw Failure.instanceNotCopied }
        return Report(tables: counts, instance: instance)
    }

    /// On the copy's own thread, in one read transaction (a snapshot: counts and rows agree): the summary, then
    /// every table's rows as JSON batches, at most two ahead of the writer.
    static func read(_ source: SQLiteStore, plan: CopyPlan, into pipe: Handover) throws {
        defer { pipe.finish() }
        try source.pool.read { db in
            var summary = Summary()
            summary.instance = try String.fetchOne(db, sql: SQLiteCopySQL.instanceID)
            let given = try db.tableExists("sqlite_sequence") ? try Row.fetchAll(db, sql: SQLiteCopySQL.highestIDs) : []
            let sequences = Dictionary(given.map { ($0["name"] as String, $0["seq"] as Int64) }, uniquingKeysWith: max)
            for table in plan.tables {
                summary.counts[table.name] = try Int.fetchOne(db, sql: SQLiteCopySQL.count(table)) ?? 0
                if let identity = table.identity {
                    let highest = try Int64.fetchOne(db, sql: SQLiteCopySQL.maxID(table, column: identity)) ?? 0
                    summary.highestIDs[table.name] = max(highest, sequences[table.name] ?? 0)
                }
            }
            try pipe.send(.summary(summary))
            for (index, table) in plan.tables.enumerated() {
                let keys = table.columns.map { JSONText.quoted($0.name) + ":" }
                var batch: [UInt8] = [], rows = 0, ordinal = 0
                let cursor = try Row.fetchCursor(db, sql: SQLiteCopySQL.select(table))
                func flush() throws {
                    guard rows > 0 else { return }
                    batch.append(UInt8(ascii: "]"))
                    try pipe.send(.rows(table: index, json: String(decoding: batch, as: UTF8.self)))
                    batch.removeAll(keepingCapacity: true)
                    rows = 0
                }
                while let row = try cursor.next() {
                    ordinal += 1
                    batch.append(rows == 0 ? UInt8(ascii: "[") : UInt8(ascii: ","))
                    batch.append(UInt8(ascii: "{"))
                    for (i, column) in table.columns.enumerated() {
                        if i > 0 { batch.append(UInt8(ascii: ",")) }
                        batch.append(contentsOf: keys[i].utf8)
                        do {
                            try append(row[i] as DatabaseValue, as: column.kind, to: &batch)
                        } catch let why as BadValue {
                            throw Failure.badValue(table: table.name, column: column.name, row: ordinal, why: why.text)
                        }
                    }
                    batch.append(UInt8(ascii: "}"))
                    rows += 1
                    if rows >= batchRows || batch.count >= batchBytes { try flush() }
                }
                try flush()
            }
        }
    }

    struct BadValue: Error { let text: String }

    /// One SQLite value as the JSON the PostgreSQL column's record type reads; refuses what would change meaning.
    static func append(_ value: DatabaseValue, as kind: CopyPlan.Kind, to out: inout [UInt8]) throws {
        switch (value.storage, kind) {
        case (.null, _): out.append(contentsOf: "null".utf8)
        case let (.int64(v), .integer), let (.int64(v), .real): out.append(contentsOf: String(v).utf8)
        case let (.int64(v), .boolean):
            guard v == 0 || v == 1 else { throw BadValue(text: "holds \(v), but a PostgreSQL boolean takes only 0 or 1") }
            out.append(contentsOf: (v == 1 ? "true" : "false").utf8)
        case let (.double(v), .real):
            guard v.isFinite else { throw BadValue(text: "holds \(v), which PostgreSQL's JSON cannot carry") }
            out.append(contentsOf: "\(v)".utf8)
        case let (.string(s), .text), let (.string(s), .json): out.append(contentsOf: JSONText.quoted(s).utf8)
        case (.blob, _): throw BadValue(text: "holds a blob, which no Nurture column stores")
        default: throw BadValue(text: "holds a \(storageName(value)) where \(kind) was declared") // the type, never the value
        }
    }

    static func storageName(_ value: DatabaseValue) -> String {
        switch value.storage {
        case .null: "null"
        case .int64: "integer"
        case .double: "real"
        case .string: "text"
        case .blob: "blob"
        }
    }
}
