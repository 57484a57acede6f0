import PostgresNIO

/// The PostgreSQL side of `nurture db copy`. Table and column names come from the catalogs, are checked by
/// `CopyPlan.isPlainName` and double-quoted (spliced with `unescaped:`); every value is bound: a batch of rows
/// travels as one JSON array parameter, read back by `json_to_recordset` (plain `json`: parsed once as it is read,
/// not first built into a `jsonb` tree — a quarter less server CPU on a 100 000-lead copy).
enum PostgresCopySQL {
    typealias Q = PostgresQuery

    /// Every column of every table in the store's schema.
    static let columns: Q = """
        SELECT c.table_name::text AS table_name, c.column_name::text AS column_name, c.data_type::text AS data_type,
               c.is_nullable = 'YES' AS nullable, (c.column_default IS NOT NULL OR c.is_identity = 'YES') AS has_default,
               c.is_identity = 'YES' AS is_identity
        FROM information_schema.columns c
        JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
        ORDER BY c.table_name, c.ordinal_position
        """
    /// A registered node: a `nurture serve` runs on the database (or stopped without leaving; either way not empty).
    static let registeredNode: Q = "SELECT EXISTS (SELECT 1 FROM node) AS present"
    static func hasRows(_ table: String) -> Q { "SELECT EXISTS (SELECT 1 FROM \(unescaped: quoted(table))) AS present" }
    /// The meta keys a new database gets from its migrations and its first open; anything else means it was used.
    static let generatedMetaKeys = ["instance", "erasure_key_check"]
    static let metaHasOtherRows: Q = "SELECT EXISTS (SELECT 1 FROM meta WHERE key <> ALL(\(generatedMetaKeys))) AS present"
    /// The new database's own instance id gives way to the SQLite one: Message-IDs already sent carry it.
    static let dropGeneratedInstance: Q = "DELETE FROM meta WHERE key = 'instance'"
    static let instanceID = PostgresSQL.instanceID
    /// Rows copied into `table`; meta's count leaves out the erasure key check the target recorded itself.
    static func count(_ table: String) -> Q {
        table == "meta" ? "SELECT count(*) AS n FROM meta WHERE key <> 'erasure_key_check'"
            : "SELECT count(*) AS n FROM \(unescaped: quoted(table))"
    }

    /// The schema's foreign keys, with the definition PostgreSQL itself prints for each (to put back verbatim).
    static let foreignKeys: Q = """
        SELECT cl.relname::text AS table_name, co.conname::text AS name, pg_get_constraintdef(co.oid) AS definition
        FROM pg_constraint co JOIN pg_class cl ON cl.oid = co.conrelid JOIN pg_namespace n ON n.oid = co.connamespace
        WHERE co.contype = 'f' AND n.nspname = current_schema() ORDER BY 1, 2
        """
    /// Checked per row, the foreign keys cost half the server's time on a large copy; dropped inside the copy's
    /// transaction and added back after the rows (one validating join each), nobody ever sees the schema without them.
    static func dropConstraint(table: String, name: String) -> Q {
        "ALTER TABLE \(unescaped: quoted(table)) DROP CONSTRAINT \(unescaped: quoted(name))"
    }
    /// `definition` is the catalog's own `pg_get_constraintdef` text, never data.
    static func addConstraint(table: String, name: String, definition: String) -> Q {
        "ALTER TABLE \(unescaped: quoted(table)) ADD CONSTRAINT \(unescaped: quoted(name)) \(unescaped: definition)"
    }

    /// One batch of `table`'s rows (a JSON array of objects keyed by column), ids included.
    static func insert(_ table: CopyPlan.Table, rows: String) -> Q {
        let names = table.columns.map { quoted($0.name) }.joined(separator: ", ")
        let values = table.columns.map { "u.\(quoted($0.name))" + ($0.kind == .json ? "::jsonb" : "") }.joined(separator: ", ")
        let record = table.columns.map { "\(quoted($0.name)) \($0.recordType)" }.joined(separator: ", ")
        let overriding = table.identity == nil ? "" : " OVERRIDING SYSTEM VALUE"
        return """
            INSERT INTO \(unescaped: quoted(table.name)) (\(unescaped: names))\(unescaped: overriding)
            SELECT \(unescaped: values) FROM json_to_recordset(\(rows)::json) AS u(\(unescaped: record))
            """
    }

    /// Moves an identity's sequence so the next id is `last + 1` (or 1 when no id was ever given out).
    static func continueIdentity(table: String, column: String, last: Int64) -> Q {
        last > 0 ? "SELECT setval(pg_get_serial_sequence(\(table), \(column)), \(last), true) AS at"
            : "SELECT setval(pg_get_serial_sequence(\(table), \(column)), 1, false) AS at"
    }

    static func quoted(_ name: String) -> String { "\"" + name + "\"" }
}
