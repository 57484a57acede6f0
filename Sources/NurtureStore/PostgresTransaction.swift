import Logging
import PostgresNIO

/// A pooled connection inside one of the store's transactions: queries in, rows out by column name.
struct PostgresTransaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    func rows(_ query: PostgresQuery) async throws -> [PostgresRecord] {
        try await connection.query(query, logger: logger).collect().map { PostgresRecord(row: $0.makeRandomAccess()) }
    }

    func row(_ query: PostgresQuery) async throws -> PostgresRecord? { try await rows(query).first }

    /// The first row's column, nil when there is no row or the value is NULL (aggregates over nothing, CASE without a match).
    func value<T: PostgresDecodable>(_ query: PostgresQuery, _ column: String) async throws -> T? where T._DecodableType == T {
        guard let row = try await row(query) else { return nil }
        return try row[column] as T?
    }

    func execute(_ query: PostgresQuery) async throws { _ = try await connection.query(query, logger: logger).collect() }

    /// Rows the statement returned: its effect, for statements that end with `RETURNING`.
    func count(_ query: PostgresQuery) async throws -> Int { try await connection.query(query, logger: logger).collect().count }
}

/// One result row, read by column name.
struct PostgresRecord {
    let row: PostgresRandomAccessRow

    subscript<T: PostgresDecodable>(_ column: String) -> T {
        get throws { try row[column].decode(T.self) }
    }
}
