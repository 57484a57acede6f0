import Foundation
import Testing

/// The one-daemon lock holds whatever path reaches the database file.
@Suite(.serialized)
struct DaemonLockTests {
    @Test func aSecondServeThroughASymlinkOrAHardLinkToTheDatabaseRefusesToStart() throws {
        let made = try MinimalProject.make(leads: 1)
        let p = made.project
        let first = try p.start(["serve"])
        defer { first.kill(SIGTERM); _ = first.wait() }
        #expect(BoundedPoll.until(timeout: 30) { MinimalProject.outbox(p).count == 1 }, "\(first.stderr())")
        try FileManager.default.createSymbolicLink(atPath: p.path("var/alias.sqlite"), withDestinationPath: "nurture.sqlite")
        try FileManager.default.createDirectory(atPath: p.path("elsewhere"), withIntermediateDirectories: true)
        #expect(link(p.path("var/nurture.sqlite"), p.path("elsewhere/hard.sqlite")) == 0)
        let config = try String(contentsOfFile: p.path("nurture.yaml"), encoding: .utf8)
        for (name, database) in [("symlink", "var/alias.sqlite"), ("hardlink", "elsewhere/hard.sqlite")] {
            let port = HTTPProbe.freePort()
            try config.replacingOccurrences(of: "database: var/nurture.sqlite", with: "database: \(database)")
                .replacingOccurrences(of: "listen: 127.0.0.1:\(made.port)", with: "listen: 127.0.0.1:\(port)")
                .write(toFile: p.path("\(name).yaml"), atomically: true, encoding: .utf8)
            // Bounded: a second daemon that did start is stopped after 15 s, and the test fails.
            let second = try p.start(["serve", "--config", p.path("\(name).yaml")])
            #expect(second.wait(timeout: 15) == 1, "\(name): \(second.stderr())")
            #expect(second.stderr().contains("is already running on this database"), "\(name): \(second.stderr())")
            if name == "symlink" { #expect(second.stderr().contains("pid \(first.pid)"), "\(second.stderr())") }
        }
        // Nothing was sent twice.
        #expect(MinimalProject.outbox(p).count == 1)
    }
}
