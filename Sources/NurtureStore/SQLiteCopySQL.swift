/// The SQLite side of `nurture db copy`: the catalog and one read per table. Table and column names come from the
/// catalog, are checked by `CopyPlan.isPlainName` and double-quoted; no value is ever part of the text.
enum SQLiteCopySQL {
    /// Nurture's tables (GRDB's migration record and SQLite's own tables are not data).
    static let tables = """
        SELECT name FROM sqlite_master
        WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'grdb_migrations' ORDER BY name
        """
    static let columns = "SELECT name, type FROM pragma_table_info(?) ORDER BY cid"
    /// Tables whose ids are never handed out twice, even after a delete.
    static let autoincrementTables = "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%AUTOINCREMENT%'"
    /// The highest id each AUTOINCREMENT table ever gave out, deleted (erased) rows included.
    static let highestIDs = "SELECT name, seq FROM sqlite_sequence"
    static let instanceID = SQL.instanceID

    static func select(_ table: CopyPlan.Table) -> String {
        "SELECT \(table.columns.map { quoted($0.name) }.joined(separator: ", ")) FROM \(quoted(table.name))"
    }
    static func count(_ table: CopyPlan.Table) -> String { "SELECT count(*) FROM \(quoted(table.name))" }
    static func maxID(_ table: CopyPlan.Table, column: String) -> String { "SELECT max(\(quoted(column))) FROM \(quoted(table.name))" }

    static func quoted(_ name: String) -> String { "\"" + name + "\"" }
}
