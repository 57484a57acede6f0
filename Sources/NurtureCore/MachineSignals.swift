import Foundation

/// Tells opens and clicks made by machines (mail privacy prefetches, security scanners, link checkers) from a
/// person's, so scoring can weigh them apart. They are still recorded, flagged, never dropped.
public enum MachineSignals {
    public struct Policy: Sendable, Hashable {
        /// An open this soon after delivery is a prefetch (Apple Mail Privacy Protection fetches on arrival).
        public var openWithin: TimeInterval = 10
        /// A click this soon after delivery is a scanner following every link.
        public var clickWithin: TimeInterval = 60
        /// Clicks on every link of a message within this window are a scanner's.
        public var burstWindow: TimeInterval = 5

        public init(openWithin: TimeInterval = 10, clickWithin: TimeInterval = 60, burstWindow: TimeInterval = 5) {
            self.openWithin = openWithin
            self.clickWithin = clickWithin
            self.burstWindow = burstWindow
        }
    }

    /// Lowercased fragments of user agents sent by scanners, link checkers and HTTP libraries, not mail readers.
    static let machineAgents = [
        "bot", "crawler", "spider", "scanner", "preview", "python-requests", "python-urllib", "curl/", "wget", "go-http-client",
        "java/", "okhttp", "libwww", "httpclient", "headlesschrome", "phantomjs", "barracuda", "mimecast", "proofpoint",
        "symantec", "messagelabs", "forcepoint", "trendmicro", "safelinks", "urldefense", "ironport", "fortiguard", "sophos",
        "zscaler", "cloudmark",
    ]

    /// Why an open looks automated, or nil.
    public static func open(userAgent: String?, sentAt: Date?, now: Date, policy: Policy) -> String? {
        if let why = agent(userAgent) { return why }
        if let sentAt, now.timeIntervalSince(sentAt) < policy.openWithin {
            return "opened \(seconds(now.timeIntervalSince(sentAt))) after delivery"
        }
        return nil
    }

    /// Why a click looks automated, or nil. Bursts across a message's links are judged where clicks are stored.
    public static func click(method: String, userAgent: String?, sentAt: Date?, now: Date, policy: Policy) -> String? {
        if method.uppercased() == "HEAD" { return "HEAD request" }
        if let why = agent(userAgent) { return why }
        if let sentAt, now.timeIntervalSince(sentAt) < policy.clickWithin {
            return "clicked \(seconds(now.timeIntervalSince(sentAt))) after delivery"
        }
        return nil
    }

    /// A burst: clicks on at least two distinct links, covering every link of the message, within the window.
    public static func isBurst(distinctLinksClicked: Int, linkCount: Int) -> Bool {
        linkCount >= 2 && distinctLinksClicked >= linkCount
    }

    static func agent(_ userAgent: String?) -> String? {
        guard let ua = userAgent?.trimmingCharacters(in: .whitespaces), !ua.isEmpty else { return "no user agent" }
        let lower = ua.lowercased()
        if let hit = machineAgents.first(where: { lower.contains($0) }) { return "user agent matches '\(hit)'" }
        return nil
    }

    static func seconds(_ t: TimeInterval) -> String { "\(max(0, Int(t.rounded(.down))))s" }
}
