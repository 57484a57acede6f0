import Foundation
import Testing

/// `nurture serve` under systemd's protocols, without systemd: the notify socket is the test's own, and the unit
/// file is checked with systemd-analyze.
@Suite(.serialized)
struct SystemdTests {
    /// A datagram socket bound where `$NOTIFY_SOCKET` will point, as systemd's would be.
    final class NotifySocket {
        let fd: Int32
        let name: String
        let path: String?

        /// - Parameter abstract: bind in the abstract namespace (`@name`) rather than at a file path.
        init(abstract: Bool) throws {
            fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let id = UUID().uuidString.prefix(8)
            var bytes: [UInt8]
            if abstract {
                name = "@nurture-test-\(id)"
                path = nil
                bytes = [0] + Array("nurture-test-\(id)".utf8)
            } else {
                let p = FileManager.default.temporaryDirectory.appendingPathComponent("notify-\(id).sock").path
                name = p
                path = p
                bytes = Array(p.utf8) + [0]
            }
            withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
            let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + bytes.count)
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
            guard bound == 0 else { throw POSIXError(.EADDRINUSE) }
            var timeout = timeval(tv_sec: 0, tv_usec: 200_000)
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        }

        deinit {
            close(fd)
            if let path { unlink(path) }
        }

        /// The next datagram, or nil after `timeout` seconds.
        func receive(timeout: TimeInterval) -> String? {
            let deadline = Date().addingTimeInterval(timeout)
            var buffer = [UInt8](repeating: 0, count: 4096)
            while Date() < deadline {
                let n = recv(fd, &buffer, buffer.count, 0)
                if n > 0 { return String(decoding: buffer[..<n], as: UTF8.self) }
            }
            return nil
        }

        /// Datagrams until one contains `needle` (which is returned last), or nil after `timeout`.
        func until(_ needle: String, timeout: TimeInterval) -> [String]? {
            let deadline = Date().addingTimeInterval(timeout)
            var seen: [String] = []
            while Date() < deadline {
                guard let m = receive(timeout: deadline.timeIntervalSinceNow) else { break }
                seen.append(m)
                if m.contains(needle) { return seen }
            }
            return nil
        }
    }

    static func accepts(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } } == 0
    }

    static func port(of p: NurtureProcess) throws -> Int {
        let config = try String(contentsOfFile: p.path("nurture.yaml"), encoding: .utf8)
        let line = try #require(config.split(separator: "\n").first { $0.contains("listen: 127.0.0.1:") })
        return try #require(Int(line.split(separator: ":").last!))
    }

    @Test func readyWatchdogReloadAndStopAreNotified() throws {
        let socket = try NotifySocket(abstract: false)
        let p = try NurtureProcess()
        let port = try Self.port(of: p)
        let serve = try p.start(["serve"], environment: ["NOTIFY_SOCKET": socket.name, "WATCHDOG_USEC": "1000000"])
        let beforeReady = try #require(socket.until("READY=1", timeout: 30), "\(serve.stderr())")
        // At the moment READY=1 arrives, the HTTP port already accepts connections.
        #expect(Self.accepts(port: port))
        // Only watchdog pings and status lines may come before it (systemd ignores pings until start-up completes).
        #expect(beforeReady.dropLast().allSatisfy { $0 == "WATCHDOG=1" || $0.hasPrefix("STATUS=") }, "\(beforeReady)")
        #expect(beforeReady.last!.contains("STATUS=serving 5 sequences"))
        // The scheduler loop pings every half interval (0.5 s here): several within 3 s.
        var pings = 0
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline, let m = socket.receive(timeout: deadline.timeIntervalSinceNow) { if m.contains("WATCHDOG=1") { pings += 1 } }
        #expect(pings >= 4)
        serve.kill(SIGHUP)
        let reload = try #require(socket.until("READY=1", timeout: 10))
        let reloading = try #require(reload.firstIndex { $0.contains("RELOADING=1") })
        #expect(reload[reloading].contains("MONOTONIC_USEC="))
        #expect(reloading < reload.count - 1)
        serve.kill(SIGTERM)
        #expect(socket.until("STOPPING=1", timeout: 10) != nil)
        #expect(serve.wait() == 0, "\(serve.stderr())")
    }

    @Test func abstractNotifySocketAndJournalPriorities() throws {
        let socket = try NotifySocket(abstract: true)
        let p = try NurtureProcess()
        let serve = try p.start(["serve"], environment: ["NOTIFY_SOCKET": socket.name, "JOURNAL_STREAM": "8:12345"])
        #expect(socket.until("READY=1", timeout: 30) != nil, "\(serve.stderr())")
        serve.kill(SIGTERM)
        #expect(serve.wait() == 0)
        let lines = serve.stderr().split(separator: "\n")
        #expect(!lines.isEmpty)
        // Every line is one event with a syslog priority journald understands, and no timestamp of ours.
        #expect(lines.allSatisfy { $0.hasPrefix("<6>") || $0.hasPrefix("<5>") || $0.hasPrefix("<4>") }, "\(lines)")
        #expect(lines.contains { $0.hasPrefix("<5>") && $0.contains("generated a new link-signing key") })
        let key = try String(contentsOfFile: p.path("var/secrets/token.key"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!serve.stderr().contains(key))
    }

    /// MemoryDenyWriteExecute= holds with every linked library (Swift runtime, NIO, libcurl, OpenSSL, SQLite): the
    /// daemon runs under the kernel's own W^X lock (prctl PR_SET_MDWE), sends mail and answers HTTP.
    @Test func runsWithMemoryDenyWriteExecute() throws {
        let socket = try NotifySocket(abstract: false)
        let p = try NurtureProcess()
        let port = try Self.port(of: p)
        let imported = try p.run(["lead", "import", NurtureProcess.repository + "/demo/leads.csv", "--consent", "test"])
        #expect(imported.status == 0, "\(imported.stderr)")
        let wrapper = NurtureProcess.repository + "/Tests/Support/mdwe_exec.py"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [wrapper, NurtureProcess.binary, "serve", "--speed", "4320"]
        process.currentDirectoryURL = URL(fileURLWithPath: p.directory)
        var env = ProcessInfo.processInfo.environment
        env["NOTIFY_SOCKET"] = socket.name
        env.removeValue(forKey: "NURTURE_CONFIG")
        process.environment = env
        let log = p.path("mdwe.log")
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try process.run()
        let stderr = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(socket.until("READY=1", timeout: 30) != nil, "\(stderr())")
        #expect(BoundedPoll.until(timeout: 30) {
            ((try? FileManager.default.contentsOfDirectory(atPath: p.path("var/outbox"))) ?? []).contains { $0.hasSuffix(".eml") }
        }, "\(stderr())")
        #expect(try HTTPProbe(port: port).get("/healthz").status == 200)
        kill(process.processIdentifier, SIGTERM)
        #expect(BoundedPoll.until(timeout: 30) { !process.isRunning })
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "\(stderr())")
    }

    static func make(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Tool.run("/usr/bin/make", ["-s", "-C", NurtureProcess.repository] + arguments)
    }

    /// `make install` into a staging root, then `serve` as systemd would start it there: data in
    /// `$STATE_DIRECTORY`, secrets from `$CREDENTIALS_DIRECTORY`; a second install keeps the edited config.
    @Test func installedLayoutServesFromStateAndCredentialDirectories() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("install-\(UUID().uuidString)").path
        let install = try Self.make(["install", "DESTDIR=\(root)", "BIN=\(NurtureProcess.binary)"])
        #expect(install.status == 0, "\(install.output)")
        let etc = root + "/etc/nurture", state = root + "/var/lib/nurture"
        let key = try FileManager.default.attributesOfItem(atPath: etc + "/credentials/token.key")
        #expect((key[.posixPermissions] as? Int) == 0o600)
        let port = HTTPProbe.freePort()
        let config = try String(contentsOfFile: etc + "/nurture.yaml", encoding: .utf8)
            .replacingOccurrences(of: "listen: 127.0.0.1:8080", with: "listen: 127.0.0.1:\(port)")
        try config.write(toFile: etc + "/nurture.yaml", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: state, withIntermediateDirectories: true) // systemd's StateDirectory=

        let socket = try NotifySocket(abstract: false)
        let serve = Process()
        serve.executableURL = URL(fileURLWithPath: root + "/usr/local/bin/nurture")
        serve.arguments = ["serve", "--config", etc + "/nurture.yaml"]
        serve.currentDirectoryURL = URL(fileURLWithPath: "/")
        serve.environment = ["STATE_DIRECTORY": state, "CREDENTIALS_DIRECTORY": etc + "/credentials", "NOTIFY_SOCKET": socket.name,
                             "PATH": "/usr/bin:/bin"]
        let log = root + "/serve.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        serve.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        try serve.run()
        let stderr = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(socket.until("READY=1", timeout: 30) != nil, "\(stderr())")
        #expect(FileManager.default.fileExists(atPath: state + "/nurture.sqlite"))
        #expect(!stderr().contains("generated a new link-signing key"), "the installed credential is used")
        kill(serve.processIdentifier, SIGTERM)
        #expect(BoundedPoll.until(timeout: 30) { !serve.isRunning })
        serve.waitUntilExit()
        #expect(serve.terminationStatus == 0, "\(stderr())")

        let again = try Self.make(["install", "DESTDIR=\(root)", "BIN=\(NurtureProcess.binary)"])
        #expect(again.output.contains("kept the existing /etc/nurture/nurture.yaml"))
        #expect(try String(contentsOfFile: etc + "/nurture.yaml", encoding: .utf8) == config)
        let uninstall = try Self.make(["uninstall", "DESTDIR=\(root)"])
        #expect(uninstall.status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/usr/local/bin/nurture"))
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/systemd/system/nurture.service"))
        #expect(FileManager.default.fileExists(atPath: etc + "/nurture.yaml"))
    }

    /// The unit with its ExecStart pointed at the binary under test (verify fails when that binary is missing).
    static func unitUnderTest() throws -> String {
        let unit = try String(contentsOfFile: NurtureProcess.repository + "/systemd/nurture.service", encoding: .utf8)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("unit-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let path = dir + "/nurture.service"
        try unit.replacingOccurrences(of: "/usr/local/bin/nurture", with: NurtureProcess.binary).write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func analyze(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Tool.run("/usr/bin/systemd-analyze", arguments)
    }

    @Test func unitFileVerifiesAndIsHardened() throws {
        let unit = try Self.unitUnderTest()
        // verify only warns about typos (exit 0): any output at all is a failure.
        let verify = try Self.analyze(["verify", unit])
        #expect(verify.status == 0 && verify.output.isEmpty, "\(verify.output)")
        let security = try Self.analyze(["security", "--offline=true", "--threshold=15", unit])
        #expect(security.status == 0, "\(security.output)")
        let overall = try #require(security.output.split(separator: "\n").first { $0.contains("Overall exposure level") })
        let score = try #require(Double(overall.split(separator: ":").last!.split(separator: " ").first!))
        #expect(score <= 1.5, "\(overall)")
    }
}
