import Foundation

/// A real SMTP server for a test: aiosmtpd (or the mid-DATA dropper) from Tests/Support/smtp_server.py, or
/// Postfix's smtp-sink, on a free loopback port; stopped when the test drops it.
final class SMTPTestServer {
    static let support = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Support").path

    let process: Process
    let port: Int
    let directory: String

    struct Captured {
        var eml: String
        var mailFrom: String
        var recipients: [String]
        var peerPort: Int?
    }

    /// - Parameter arguments: `capture …` or `drop …` options of smtp_server.py (without --dir).
    init(_ arguments: [String]) throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-smtp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.support + "/smtp_server.py"] + arguments + ["--dir", directory]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.standardError
        try process.run()
        // The server prints "READY <port>" once listening; EOF means it failed to start.
        var line = ""
        while !line.contains("\n") {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += String(decoding: chunk, as: UTF8.self)
        }
        guard line.hasPrefix("READY "), let port = Int(line.dropFirst(6).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "smtp_server.py did not start (is aiosmtpd installed?): \(line)"])
        }
        self.port = port
    }

    deinit { Self.stop(process) }

    /// Stops a child for good. Foundation's `waitUntilExit` can spin forever here, so wait on `isRunning`, bounded.
    static func stop(_ process: Process) {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        awaitExit(process)
    }

    static func awaitExit(_ process: Process, timeout: TimeInterval = 30) {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { _ = DispatchSemaphore(value: 0).wait(timeout: .now() + .milliseconds(10)) }
    }

    var url: String { "smtp://127.0.0.1:\(port)" }

    var captured: [Captured] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".eml") }.sorted()
        return names.map { name in
            let json = (try? Data(contentsOf: URL(fileURLWithPath: directory + "/" + name.replacingOccurrences(of: ".eml", with: ".json"))))
                .flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] } ?? [:]
            return Captured(eml: directory + "/" + name, mailFrom: json["mail_from"] as? String ?? "",
                            recipients: json["rcpt_tos"] as? [String] ?? [], peerPort: json["peer_port"] as? Int)
        }
    }

    /// Runs check_mime.py (Python's own parser) over files; returns the problems found per file.
    static func checkMIME(_ files: [String], expected: [String: Any]) throws -> [String: [String]] {
        let spec = FileManager.default.temporaryDirectory.appendingPathComponent("expected-\(UUID().uuidString).json")
        try JSONSerialization.data(withJSONObject: expected).write(to: spec)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["python3", support + "/check_mime.py", spec.path] + files
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        awaitExit(p)
        var problems: [String: [String]] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let r = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            problems[r["file"] as! String] = r["problems"] as? [String] ?? ["unreadable"]
        }
        return problems
    }

    /// A self-signed certificate for 127.0.0.1/localhost, made with openssl for this test.
    static func makeCertificate() throws -> (cert: String, key: String) {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                       "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", dir + "/key.pem", "-out", dir + "/cert.pem"]
        p.standardError = FileHandle.nullDevice
        try p.run()
        awaitExit(p)
        return (dir + "/cert.pem", dir + "/key.pem")
    }
}

/// Postfix's smtp-sink: a fast sink for volume tests.
final class SMTPSink {
    let process: Process
    let port: Int

    /// On a port the kernel just found free (a random one was once another test's server, which then answered), and
    /// only once smtp-sink itself accepts: a sink that could not bind has exited.
    init() throws {
        for _ in 0..<5 {
            let port = Self.freePort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/sbin/smtp-sink")
            process.arguments = ["-u", "nobody", "127.0.0.1:\(port)", "256"]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            // Wait (bounded) until it accepts connections.
            for _ in 0..<100 where process.isRunning {
                if Self.accepts(port), process.isRunning {
                    (self.port, self.process) = (port, process)
                    return
                }
                _ = DispatchSemaphore(value: 0).wait(timeout: .now() + .milliseconds(20))
            }
            SMTPTestServer.stop(process)
        }
        struct DidNotStart: Error {}
        throw DidNotStart()
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func accepts(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    deinit { SMTPTestServer.stop(process) }
}
