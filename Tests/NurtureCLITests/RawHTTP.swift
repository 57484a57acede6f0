import Foundation

/// A raw TCP connection to the daemon, for what URLSession cannot send: trickled headers, bad chunks, HTTP/1.0.
final class RawHTTP {
    let fd: Int32

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let ok = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard ok == 0 else { close(fd); throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(fd) }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Foundation.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Reads until `until` holds for what arrived, the peer closes, or `timeout` passes. `closed` tells which.
    func read(timeout: TimeInterval, until: (String) -> Bool = { _ in false }) -> (text: String, closed: Bool) {
        let answer = readBytes(timeout: timeout) { until(String(decoding: $0, as: UTF8.self)) }
        return (String(decoding: answer.bytes, as: UTF8.self), answer.closed)
    }

    /// `read` byte for byte (a GIF is not UTF-8).
    func readBytes(timeout: TimeInterval, until: ([UInt8]) -> Bool = { _ in false }) -> (bytes: [UInt8], closed: Bool) {
        var data = [UInt8]()
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while Date() < deadline {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, Int32(max(1, deadline.timeIntervalSinceNow * 1000)))
            if ready <= 0 { break }
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { return (data, true) }
            data += buffer[0..<n]
            if until(data) { break }
        }
        return (data, false)
    }

    /// One exchange on a new connection: the whole answer, up to the close.
    static func exchange(port: Int, _ request: String, timeout: TimeInterval = 10) throws -> (text: String, closed: Bool) {
        let c = try RawHTTP(port: port)
        c.send(request)
        return c.read(timeout: timeout)
    }
}
