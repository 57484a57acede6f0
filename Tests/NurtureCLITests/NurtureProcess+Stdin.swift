import Foundation

extension NurtureProcess {
    /// Runs `nurture ARGS` with `input` on its standard input, as an MTA's pipe transport does.
    func run(_ arguments: [String], input: [UInt8], environment: [String: String] = [:]) throws -> Result {
        let file = path(".stdin-\(UUID().uuidString)")
        try write(String(file.dropFirst(directory.count + 1)), input)
        let process = makeProcess(arguments, environment: environment)
        let out = path(".stdout-\(UUID().uuidString)"), err = path(".stderr-\(UUID().uuidString)")
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        process.standardInput = try FileHandle(forReadingFrom: URL(fileURLWithPath: file))
        process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try process.run()
        process.waitUntilExit()
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }
}
