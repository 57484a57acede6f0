import Foundation

/// `postgresql://USER@HOST[:PORT]/DBNAME[?sslmode=disable|require|verify-full]`, the one form `database:` takes for
/// PostgreSQL. A password in the URL is refused: it belongs in `secrets.database_password_file`.
public struct PostgresURL: Sendable, Hashable {
    /// libpq's `sslmode` values Nurture accepts: `require` encrypts without checking the certificate, `verify-full`
    /// checks it and the host name.
    public enum SSLMode: String, Sendable, Hashable {
        case disable, require
        case verifyFull = "verify-full"
    }

    public var user: String
    public var host: String
    public var port: Int
    public var database: String
    public var sslMode: SSLMode

    /// Whether `text` is meant as a PostgreSQL URL (then it must parse), rather than a SQLite file path.
    public static func isPostgres(_ text: String) -> Bool { text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") }

    /// Why `text` is not a valid URL, or nil when it is.
    public static func problem(_ text: String) -> String? {
        guard isPostgres(text), let url = URLComponents(string: text) else { return "not a postgresql:// URL" }
        if url.password != nil { return "must not carry a password; put it in secrets.database_password_file" }
        guard let user = url.user, !user.isEmpty else { return "must name a user (postgresql://USER@HOST/DBNAME)" }
        guard let host = url.host, !host.isEmpty else { return "must name a host (postgresql://USER@HOST/DBNAME)" }
        if let port = url.port, !(1...65535).contains(port) { return "port must be 1 to 65535" }
        let database = String(url.path.drop { $0 == "/" })
        if database.isEmpty || database.contains("/") { return "must name one database (postgresql://USER@HOST/DBNAME)" }
        for item in url.queryItems ?? [] {
            guard item.name == "sslmode" else { return "unknown parameter '\(item.name)' (only sslmode is read)" }
            guard SSLMode(rawValue: item.value ?? "") != nil else { return "sslmode must be disable, require or verify-full" }
        }
        return nil
    }

    public init?(_ text: String) {
        guard Self.problem(text) == nil, let url = URLComponents(string: text), let user = url.user, let host = url.host else { return nil }
        self.user = user
        self.host = host
        port = url.port ?? 5432
        database = String(url.path.drop { $0 == "/" })
        // libpq's default is `prefer`, which a man in the middle can downgrade: without sslmode, TLS is required and verified.
        sslMode = (url.queryItems?.first { $0.name == "sslmode" }?.value).flatMap(SSLMode.init) ?? .verifyFull
    }
}
