import Foundation

/// Runs the real `nurture` binary, as a user would, in a scratch folder with its own config and database.
struct NurtureProcess {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `$NURTURE_BIN`, else the debug build; tests fail (not skip) if it was not built.
    static var binary: String {
        if let env = ProcessInfo.processInfo.environment["NURTURE_BIN"], !env.isEmpty { return env }
        return repository + "/.build/debug/nurture"
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    let directory: String

    /// A scratch folder with `nurture.yaml` = the shipped example, pointed at the shipped sequences and templates.
    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-cli-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var config = try String(contentsOfFile: Self.repository + "/nurture.example.yaml", encoding: .utf8)
        config = config.replacingOccurrences(of: "\nsequences: sequences\n", with: "\nsequences: \(Self.repository)/sequences\n")
        config = config.replacingOccurrences(of: "\ntemplates: templates\n", with: "\ntemplates: \(Self.repository)/templates\n")
        // Tests run daemons side by side: each gets its own HTTP port.
        let port = HTTPProbe.freePort()
        config = config.replacingOccurrences(of: "listen: 127.0.0.1:8080", with: "listen: 127.0.0.1:\(port)")
            .replacingOccurrences(of: "public_url: http://localhost:8080", with: "public_url: http://127.0.0.1:\(port)")
        try config.write(toFile: directory + "/nurture.yaml", atomically: true, encoding: .utf8)
    }

    func path(_ name: String) -> String { directory + "/" + name }

    /// `nurture ARGS` in the scratch folder, with no inherited NURTURE_CONFIG.
    func makeProcess(_ arguments: [String], environment: [String: String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = arguments
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "NURTURE_CONFIG")
        env.merge(environment) { _, new in new }
        process.environment = env
        return process
    }

    func write(_ name: String, _ bytes: [UInt8]) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
    }

    /// Runs `nurture ARGS` in the scratch folder (so ./nurture.yaml is discovered) and waits for it; `input` goes to its
    /// standard input, as an MTA's pipe transport gives a message.
    @discardableResult
    func run(_ arguments: [String], input: [UInt8]? = nil, environment: [String: String] = [:]) throws -> Result {
        guard FileManager.default.isExecutableFile(atPath: Self.binary) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "\(Self.binary) is missing: run 'swift build' first"])
        }
        let process = makeProcess(arguments, environment: environment)
        let out = path(".stdout-\(UUID().uuidString)"), err = path(".stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        if let input {
            let file = path(".stdin-\(UUID().uuidString)")
            try Data(input).write(to: URL(fileURLWithPath: file))
            process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
        }
        try process.run()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }
}

/// Waiting on a real process: checks a condition every 50 ms, for at most `timeout` seconds.
enum BoundedPoll {
    @discardableResult
    static func until(timeout: TimeInterval, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if condition() { return true }
            _ = DispatchSemaphore(value: 0).wait(timeout: .now() + .milliseconds(50))
        }
        return condition()
    }

    /// The same for a condition that asks a store (whose calls are async).
    @discardableResult
    static func until(timeout: TimeInterval, _ condition: () async -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if await condition() { return true }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return await condition()
    }

    /// Lets a real process run for a while (used to pick a kill moment), without a condition.
    static func wait(seconds: TimeInterval) {
        _ = DispatchSemaphore(value: 0).wait(timeout: .now() + .milliseconds(Int(seconds * 1000)))
    }
}

/// A running `nurture` process started by a test.
struct RunningNurture {
    let process: Process
    let stderrPath: String
    var pid: Int32 { process.processIdentifier }

    func kill(_ signal: Int32) { Foundation.kill(process.processIdentifier, signal) }

    /// Waits (bounded) for the exit and returns its status.
    func wait(timeout: TimeInterval = 30) -> Int32 {
        _ = BoundedPoll.until(timeout: timeout) { !process.isRunning }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }

    func stderr() -> String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }
}

extension NurtureProcess {
    /// Starts `nurture ARGS` in the background in the scratch folder.
    func start(_ arguments: [String], environment: [String: String] = [:]) throws -> RunningNurture {
        let process = makeProcess(arguments, environment: environment)
        let err = path(".serve-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: err, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return RunningNurture(process: process, stderrPath: err)
    }
}

/// Runs a tool to completion and returns its status and combined output (stdout, then stderr interleaved).
enum Tool {
    static func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let pipe = Pipe()
        p.standardOutput = pipe
        p.standardError = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

extension NurtureProcess {
    /// A statement run with the sqlite3 shell, trimmed (the daemon may be running: WAL). Only for injecting a fault
    /// into SQLite's schema; tests observe state through `lead show`, `stats`, the API and the outbox instead.
    func sql(_ query: String) throws -> String {
        try Tool.run("/usr/bin/sqlite3", [path("var/nurture.sqlite"), query]).output.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
