import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// Real HTTP requests to a running `nurture serve`, without following redirects (a redirect is what is tested).
final class HTTPProbe: NSObject, URLSessionTaskDelegate, @unchecked Sendable {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        func header(_ name: String) -> String? { headers.first { $0.key.lowercased() == name.lowercased() }?.value }
    }

    let base: String
    private var session: URLSession!

    init(port: Int) {
        base = "http://127.0.0.1:\(port)"
        super.init()
        let configuration = URLSessionConfiguration.ephemeral
        configuration.timeoutIntervalForRequest = 15
        session = URLSession(configuration: configuration, delegate: self, delegateQueue: nil)
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                    newRequest request: URLRequest, completionHandler: @escaping (URLRequest?) -> Void) {
        completionHandler(nil)
    }

    /// `path` is sent as written (it may hold odd characters on purpose).
    func request(_ method: String, _ path: String, headers: [String: String] = [:], body: Data? = nil) throws -> Reply {
        guard let url = URL(string: base + path) else { throw URLError(.badURL) }
        var request = URLRequest(url: url)
        request.httpMethod = method
        request.httpBody = body
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var outcome: Result<Reply, any Error> = .failure(URLError(.timedOut))
        session.dataTask(with: request) { data, response, error in
            if let http = response as? HTTPURLResponse {
                var headers: [String: String] = [:]
                for (k, v) in http.allHeaderFields { headers["\(k)"] = "\(v)" }
                outcome = .success(Reply(status: http.statusCode, headers: headers, body: data ?? Data()))
            } else {
                outcome = .failure(error ?? URLError(.badServerResponse))
            }
            done.signal()
        }.resume()
        _ = done.wait(timeout: .now() + 20)
        return try outcome.get()
    }

    func get(_ path: String, userAgent: String = "Mozilla/5.0 (X11; Linux x86_64) Thunderbird/128.0") throws -> Reply {
        try request("GET", path, headers: ["User-Agent": userAgent])
    }

    /// A free loopback port (bound then released).
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
