import ArgumentParser
import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureEngine
import NurtureStore

/// `nurture db`: moving an installation between stores.
struct DBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db",
        abstract: "Database administration.",
        subcommands: [DBCopyCommand.self]
    )
}

/// `nurture db copy`: the configured SQLite installation into an empty PostgreSQL database, verified per table.
struct DBCopyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "copy",
        abstract: "Copy the SQLite installation (the config's database) into an empty PostgreSQL database.",
        discussion: """
            Stop nurture serve first: the copy takes the daemon's lock on the SQLite file. The target's schema is \
            created, then every table is copied in one PostgreSQL transaction (all or nothing) with its ids, the \
            identities continue past the highest id SQLite ever gave out, and the row counts are checked per table. \
            A target that already holds data is refused. Afterwards point database: at the URL, and keep the same \
            secrets.token_key_file and secrets.erasure_key_file, so old links and erased addresses keep working.

            The password is read from --password-file, else from secrets.database_password_file; never from the URL.

            Example:
              nurture db copy --to 'postgresql://nurture@db.internal:5432/nurture?sslmode=verify-full' \\
                --password-file /etc/nurture/credentials/db_password
            """
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "The target: postgresql://USER@HOST[:PORT]/DBNAME[?sslmode=disable|require|verify-full].") var to: String
    @Option(help: "File holding the PostgreSQL user's password (default: secrets.database_password_file).") var passwordFile: String?

    func validate() throws {
        if let problem = PostgresURL.problem(to) { throw ValidationError("--to \(problem)") }
    }

    func run() async throws {
        let config = try options.loadCatalog().config
        guard !config.usesPostgres else { throw failure("'database' is already a PostgreSQL URL; db copy reads a SQLite installation") }
        guard FileManager.default.fileExists(atPath: config.database) else { throw failure("no SQLite database at \(config.database)") }
        var password: String?
        if let file = passwordFile ?? config.secrets.databasePassword {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw failure("cannot read the password file \(file)") }
            password = text.trimmingCharacters(in: .newlines)
        }
        var target = try PostgresStore.Options(url: to, password: password, poolSize: 1)
        target.connectTimeout = .seconds(config.postgres.connectTimeout.seconds)

        let started = ContinuousClock.now
        let source: SQLiteStore
        do {
            // The daemon's own lock: no nurture serve writes to the file while it is read.
            source = try await SQLiteStore.open(path: config.database, erasureKeyFile: config.erasureKeyFile, exclusive: true)
        } catch let error as DaemonLock.LockError {
            if case let .held(_, pid) = error {
                throw failure("nurture serve (pid \(pid.isEmpty ? "unknown" : pid)) is running on \(config.database); stop it before copying "
                     + "(systemctl stop nurture): nothing was copied")
            }
            throw failure("\(error)")
        } catch {
            throw failure("\(error)")
        }
        if source.hasJournaledUnsubscribes {
            // One-click unsubscribes answered while the writer was busy live in a file beside the database: into it first.
            let n = try await source.applyJournaledUnsubscribes(scoring: ScoringContext(config))
            Terminal.stderr("applied \(n) journaled unsubscribe\(n == 1 ? "" : "s") to \(config.database) before copying\n")
        }
        let store: PostgresStore
        do {
            // Same erasure key file: the target records its check, so a daemon given another key is refused.
            store = try await DatabaseCopy.openTarget(target, erasureKeyFile: config.erasureKeyFile)
        } catch {
            throw failure("\(error)")
        }
        let report: DatabaseCopy.Report
        do {
            report = try await DatabaseCopy.copy(from: source, to: store)
        } catch {
            await store.close()
            throw failure("\(error)")
        }
        await store.close()
        await source.close()
        let elapsed = ContinuousClock.now - started

        print("table".padding(toLength: 20, withPad: " ", startingAt: 0) + "source".leftPad(10) + "copied".leftPad(10) + "next id".leftPad(10))
        for t in report.tables {
            print(t.table.padding(toLength: 20, withPad: " ", startingAt: 0) + String(t.source).leftPad(10) + String(t.copied).leftPad(10)
                  + (t.nextID.map(String.init) ?? "-").leftPad(10))
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print("copied \(report.tables.reduce(0) { $0 + $1.copied }) rows into \(target.described) in \(String(format: "%.1f", seconds)) s; counts verified")
        let tokenKey = config.secrets.tokenKey ?? URL(fileURLWithPath: config.keyDirectory).appendingPathComponent("token.key").path
        print("next: set database: \(to) and secrets.database_password_file, and keep secrets.token_key_file: \(tokenKey) "
              + "and secrets.erasure_key_file: \(config.erasureKeyFile)")
    }

    /// Printed as `error: …`; the command exits 1.
    private func failure(_ message: String) -> ExitCode {
        Terminal.error(message)
        return ExitCode(1)
    }
}
