/// What `nurture db copy` moves, decided from both catalogs before a row is read: every SQLite table and column must
/// have a PostgreSQL counterpart of a compatible type, so a schema that drifted fails with every problem named
/// instead of silently dropping data.
struct CopyPlan: Sendable {
    /// How a SQLite value becomes the PostgreSQL column's value.
    enum Kind: Sendable, Equatable {
        case integer
        /// SQLite's 0/1 integer as PostgreSQL `boolean`; any other value is refused.
        case boolean
        case real
        case text
        /// SQLite JSON text as PostgreSQL `jsonb` (the server parses it; invalid JSON fails the copy).
        case json
    }

    struct Column: Sendable, Equatable {
        let name: String
        let kind: Kind
        /// The PostgreSQL type the batch's JSON field is read as (`text` for `jsonb`, cast after).
        var recordType: String {
            switch kind {
            case .integer: "bigint"
            case .boolean: "boolean"
            case .real: "double precision"
            case .text, .json: "text"
            }
        }
    }

    struct Table: Sendable, Equatable {
        let name: String
        let columns: [Column]
        /// The PostgreSQL identity column (ids are copied as they are, then the sequence is moved past them).
        let identity: String?
    }

    /// A SQLite column as `pragma_table_info` declares it.
    struct SourceColumn: Sendable, Equatable {
        let name: String
        let type: String
    }

    /// A PostgreSQL column as `information_schema.columns` describes it.
    struct TargetColumn: Sendable, Equatable {
        let name: String
        let type: String
        let nullable: Bool
        let hasDefault: Bool
        let identity: Bool
    }

    /// Parents before children, so every foreign key finds its row.
    static let order = ["meta", "lead", "enrollment", "outbox", "event", "score_ledger", "suppression", "inbound", "handoff",
                         "pending_enrollment", "sequence_version", "conversion"]
    /// Tables only PostgreSQL has: its migration record, and the cluster's node registry and leases (must be empty).
    static let targetOnly = ["schema_migration", "node", "lead_lease", "job_lease"]

    let tables: [Table]

    /// - Parameter autoincrement: SQLite tables whose ids are never reused (`AUTOINCREMENT`).
    init(source: [String: [SourceColumn]], autoincrement: Set<String>, target: [String: [TargetColumn]]) throws {
        var problems: [String] = []
        for name in source.keys.sorted() where !Self.order.contains(name) {
            problems.append("SQLite table \(name) is not one db copy knows: its rows would be lost")
        }
        for name in target.keys.sorted() where !Self.order.contains(name) && !Self.targetOnly.contains(name) {
            problems.append("PostgreSQL table \(name) has no SQLite counterpart")
        }
        for name in Array(source.keys) + Array(target.keys) where !Self.isPlainName(name) {
            problems.append("table name \(name) is not a plain lowercase identifier")
        }
        var tables: [Table] = []
        for name in Self.order {
            guard let from = source[name] else { problems.append("SQLite has no table \(name)"); continue }
            guard let to = target[name] else { problems.append("PostgreSQL has no table \(name): its rows would be lost"); continue }
            let byName = Dictionary(to.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            var columns: [Column] = []
            for column in from {
                guard Self.isPlainName(column.name) else {
                    problems.append("\(name).\(column.name): not a plain lowercase identifier")
                    continue
                }
                guard let counterpart = byName[column.name] else {
                    problems.append("\(name).\(column.name) is in SQLite but not in PostgreSQL: its values would be lost")
                    continue
                }
                guard let kind = Self.kind(sqlite: column.type, postgres: counterpart.type) else {
                    problems.append("\(name).\(column.name) is \(column.type.isEmpty ? "untyped" : column.type) in SQLite but \(counterpart.type) in PostgreSQL")
                    continue
                }
                columns.append(Column(name: column.name, kind: kind))
            }
            let sourceNames = Set(from.map(\.name))
            for column in to where !sourceNames.contains(column.name) && !column.nullable && !column.hasDefault {
                problems.append("\(name).\(column.name) is required in PostgreSQL (NOT NULL, no default) but SQLite has no such column")
            }
            let identity = to.first { $0.identity }?.name
            if autoincrement.contains(name), identity == nil {
                problems.append("\(name): SQLite never reuses its ids but PostgreSQL has no identity column to continue them")
            }
            if let identity, !columns.contains(where: { $0.name == identity }) {
                problems.append("\(name).\(identity): PostgreSQL's identity column is not copied from SQLite")
            }
            tables.append(Table(name: name, columns: columns, identity: identity))
        }
        guard problems.isEmpty else { throw DatabaseCopy.Failure.schemaMismatch(problems) }
        self.tables = tables
    }

    /// The conversions db copy knows; any other pair of types is a mismatch.
    static func kind(sqlite: String, postgres: String) -> Kind? {
        switch (sqlite.uppercased(), postgres) {
        case ("INTEGER", "bigint"), ("INTEGER", "integer"), ("INTEGER", "smallint"): .integer
        case ("INTEGER", "boolean"): .boolean
        case ("REAL", "double precision"): .real
        case ("TEXT", "text"): .text
        case ("TEXT", "jsonb"): .json
        default: nil
        }
    }

    /// Names reach SQL text only as double-quoted identifiers, and only when they are this plain.
    static func isPlainName(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || (97...122).contains(first) else { return false }
        return name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || (97...122).contains($0) || (48...57).contains($0) }
    }
}
