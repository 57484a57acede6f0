import Foundation

/// A loopback port that accepts connections (the kernel's backlog) and never says a word.
final class SilentServer: @unchecked Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.fd = fd
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let ok = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard ok, listen(fd, 8) == 0 else { throw CocoaError(.fileWriteUnknown) }
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Accepts the next connection and keeps it open, silent: a bounded poll for the client under test, which
    /// never blocks a thread of the cooperative pool (the client's request must get to run meanwhile).
    func waitForConnection() async throws {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        var ready = false
        for _ in 0..<3_000 where !ready {
            ready = poll(&descriptor, 1, 0) == 1
            if !ready { try await Task.sleep(for: .milliseconds(10)) }
        }
        guard ready else { throw CocoaError(.fileReadUnknown) }
        let client = accept(fd, nil, nil)
        guard client >= 0 else { throw CocoaError(.fileReadUnknown) }
        accepted.append(client)
    }

    private var accepted: [Int32] = []

    /// A loopback port nothing listens on (bound, read, released).
    static func freePort() throws -> Int {
        let server = try SilentServer()
        server.close()
        return server.port
    }

    func close() {
        for client in accepted { Glibc.close(client) }
        Glibc.close(fd)
    }
}
