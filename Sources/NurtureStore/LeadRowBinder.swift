import Foundation
import GRDB
import GRDBSQLite
import NurtureCore

/// Binds one lead's `SQL.upsertLead` parameters straight onto SQLite: boxing twelve values per row into GRDB's
/// `StatementArguments` and converting them back was a sixth of `lead import`'s time.
enum LeadRowBinder {
    /// SQLite copies the bytes before returning (`SQLITE_TRANSIENT`), so Swift's buffers need not outlive the call.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    /// Makes the cached statement take bindings made here: GRDB then only resets it before each execution.
    static func prepare(_ statement: Statement) {
        statement.setUncheckedArguments(StatementArguments(Array(repeating: DatabaseValue.null, count: 12)))
    }

    /// Parameters as `SQL.upsertLead` numbers them; the statement is reset first (bindings need a reset statement).
    static func bind(_ statement: Statement, _ lead: Lead, key: String, fields: String, now: Int64, millis: (Date) -> Int64) throws {
        let s = statement.sqliteStatement
        sqlite3_reset(s)
        try text(s, 1, lead.email.value)
        try text(s, 2, key)
        try text(s, 3, lead.persona)
        try text(s, 4, lead.timeZone)
        try text(s, 5, lead.locale)
        try text(s, 6, fields)
        try text(s, 7, lead.consent.source)
        try integer(s, 8, millis(lead.consent.at))
        try text(s, 9, lead.consent.text)
        try text(s, 10, lead.consent.ip)
        try integer(s, 11, lead.recontactAfter.map(millis))
        try integer(s, 12, now)
    }

    private static func text(_ s: SQLiteStatement, _ index: Int32, _ value: String?) throws {
        guard var value else { return try check(sqlite3_bind_null(s, index)) }
        try check(value.withUTF8 { bytes in
            // An empty buffer may have no address, and a null pointer would bind NULL instead of ''.
            bytes.isEmpty ? sqlite3_bind_text(s, index, "", 0, transient)
                : sqlite3_bind_text(s, index, UnsafeRawPointer(bytes.baseAddress!).assumingMemoryBound(to: CChar.self),
                                    Int32(bytes.count), transient)
        })
    }

    private static func integer(_ s: SQLiteStatement, _ index: Int32, _ value: Int64?) throws {
        try check(value.map { sqlite3_bind_int64(s, index, $0) } ?? sqlite3_bind_null(s, index))
    }

    private static func check(_ code: Int32) throws {
        guard code == SQLITE_OK else { throw DatabaseError(resultCode: ResultCode(rawValue: code), message: "cannot bind a lead's value") }
    }
}
