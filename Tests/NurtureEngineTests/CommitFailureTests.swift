import Foundation
import NurtureCore
import NurtureEngine
import Testing

/// A failed commit of delivery results (a full disk, a busy database) must not strand delivered mail in `sending`,
/// lose its links, or send it again (issue 12, item 4). Real SQLite files; the disk is a real 3 MB tmpfs.
@Suite(.serialized)
struct CommitFailureTests {
    static let sequence = SchedulingScenarioTests.sequence("seq", persona: "p", steps: """
          - { id: one, after: 0m, template: step }
          - { id: two, after: 3d, template: step }
        """)

    static func sql(_ db: String, _ query: String) throws -> String {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/sqlite3")
        p.arguments = [db, query]
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func run(_ tool: String, _ args: [String]) -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return -1 }
        SMTPTestServer.awaitExit(p)
        return p.isRunning ? -1 : p.terminationStatus
    }

    @Test func resultsThatCouldNotBeCommittedOnAFullDiskAreCommittedOnceSpaceIsBackWithoutARestart() async throws {
        let mountPoint = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-full-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
        #expect(Self.run("/bin/mount", ["-t", "tmpfs", "-o", "size=3m", "tmpfs", mountPoint]) == 0, "tests run as root and may mount a tmpfs")
        defer { _ = Self.run("/bin/umount", [mountPoint]) }
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence], directory: mountPoint + "/project")
        for i in 0..<6 { try await h.addLead("lead\(i)@example.com", persona: "p") }
        let filler = mountPoint + "/filler"
        // The disk fills up while the messages are in flight: the transfers succeed, their commit cannot.
        h.transport.beforeSending { _ in
            guard !FileManager.default.fileExists(atPath: filler + ".once") else { return } // once only
            FileManager.default.createFile(atPath: filler + ".once", contents: nil)
            let fd = open(filler, O_WRONLY | O_CREAT, 0o600)
            let chunk = [UInt8](repeating: 0, count: 4096)
            while write(fd, chunk, chunk.count) > 0 {}
            close(fd)
        }
        await #expect(throws: StoreFailure.self) { try await h.scheduler.tick(now: h.clock.now()) }
        // One transfer group went out (the next is claimed only with its results); its results wait in memory.
        #expect(h.transport.sent.count == 1)
        #expect(await h.scheduler.storageProblem.map { "\($0)" }?.hasPrefix("disk full") == true)
        #expect(await h.scheduler.uncommittedResults == 1)
        // Still full: the next tick fails again, sends nothing, keeps the results.
        await #expect(throws: StoreFailure.self) { try await h.scheduler.tick(now: h.clock.now()) }
        #expect(h.transport.sent.count == 1)
        try FileManager.default.removeItem(atPath: filler)
        do { _ = try await h.scheduler.tick(now: h.clock.now()) } catch { Issue.record("after freeing space: \(error)"); throw error }
        #expect(await h.scheduler.storageProblem == nil)
        #expect(await h.scheduler.uncommittedResults == 0)
        let db = h.directory + "/var/nurture.sqlite"
        #expect(try Self.sql(db, "SELECT count(*) FROM outbox WHERE status = 'sending'") == "0")
        #expect(h.transport.sent.count == 6)
        #expect(try Self.sql(db, "SELECT count(*) FROM outbox WHERE step_id = 'one' AND status = 'sent' AND links IS NOT NULL") == "6")
        #expect(try Self.sql(db, "SELECT count(*) FROM outbox WHERE step_id = 'two' AND status = 'scheduled'") == "6")
        try await h.run(until: h.clock.now().addingTimeInterval(86_400))
        #expect(h.transport.sent.count == 6) // nothing went out twice
    }

    @Test func resultsCommittedLaterWhenAnotherProcessHoldsTheWriterDuringTheTransfer() async throws {
        let h = try EngineHarness(sequences: ["a.yaml": Self.sequence])
        try await h.addLead("ada@example.com", persona: "p")
        let db = h.directory + "/var/nurture.sqlite"
        let holder = Process()
        holder.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        holder.arguments = ["python3", "-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None)
            c.execute('BEGIN IMMEDIATE')
            print('locked', flush=True)
            sys.stdin.readline()
            c.execute('ROLLBACK')
            """, db]
        let input = Pipe(), output = Pipe()
        holder.standardInput = input
        holder.standardOutput = output
        h.transport.beforeSending { _ in
            // Like a large import or a rescore taking the writer while the message transfers.
            try? holder.run()
            _ = output.fileHandleForReading.availableData
        }
        await #expect(throws: StoreFailure.self) { try await h.scheduler.tick(now: h.clock.now()) }
        #expect(await h.scheduler.uncommittedResults == 1)
        try input.fileHandleForWriting.write(contentsOf: Data("release\n".utf8))
        SMTPTestServer.awaitExit(holder) // bounded: Foundation's waitUntilExit can spin forever on such a child
        _ = try await h.scheduler.tick(now: h.clock.now())
        #expect(try Self.sql(db, "SELECT status FROM outbox WHERE step_id = 'one'") == "sent")
        #expect(try Self.sql(db, "SELECT possibly_sent FROM outbox WHERE step_id = 'one'") == "0")
        try await h.run(until: h.clock.now().addingTimeInterval(86_400))
        #expect(h.transport.sent.count == 1)
    }
}
