import Foundation

/// How to reach the SMTP relay. The password comes from a file (systemd credentials), never from the config.
public struct SMTPSettings: Sendable, Hashable {
    public enum StartTLS: String, Sendable, Hashable, CaseIterable {
        /// Refuse to send unless the session is encrypted (the default).
        case required
        /// Encrypt when the server offers STARTTLS, send in clear otherwise.
        case opportunistic
        /// Never encrypt (a relay on loopback).
        case off
    }

    /// `smtp://host[:port]` or `smtps://host[:port]` (implicit TLS).
    public var url: String
    public var startTLS: StartTLS
    public var username: String?
    public var password: String?
    /// Simultaneous connections (curl multi transfers); also the bound on "possibly sent" after a crash.
    public var connections: Int
    public var connectTimeout: TimeInterval
    /// How long to wait for each server reply, notably the final one after DATA: a short value turns a slow
    /// "250 queued" into a duplicate, so the default is generous (Postfix waits 10 minutes).
    public var responseTimeout: TimeInterval
    /// A CA bundle to trust instead of the system's (a private relay's certificate).
    public var caFile: String?
    /// The name to announce in EHLO.
    public var heloName: String

    public init(url: String, startTLS: StartTLS = .required, username: String? = nil, password: String? = nil, connections: Int = 4,
                connectTimeout: TimeInterval = 30, responseTimeout: TimeInterval = 600, caFile: String? = nil, heloName: String = "localhost") {
        self.url = url
        self.startTLS = startTLS
        self.username = username
        self.password = password
        self.connections = connections
        self.connectTimeout = connectTimeout
        self.responseTimeout = responseTimeout
        self.caFile = caFile
        self.heloName = heloName
    }
}
