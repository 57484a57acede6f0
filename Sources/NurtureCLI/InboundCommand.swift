import ArgumentParser
import Foundation
import Logging
import NurtureAuthoring
import NurtureCore
import NurtureEngine
import NurtureMail

/// `nurture inbound`: what comes back (bounces, complaints, replies) — one message from an MTA's pipe, or the list
/// of messages kept aside.
struct InboundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inbound",
        abstract: "Process one inbound message (bounce, complaint, reply) from standard input, or list the messages kept aside.",
        subcommands: [InboundPipeCommand.self, InboundQuarantineCommand.self],
        defaultSubcommand: InboundPipeCommand.self
    )
}

/// The MTA's pipe transport (Postfix `pipe`, `.forward`, procmail): sysexits tell it whether to retry.
struct InboundPipeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipe",
        abstract: "Read one RFC 5322 message on standard input and record what it says (the default of 'nurture inbound').",
        discussion: """
            Exit status: 0 when the message was recorded, deliberately ignored or kept aside; 75 (EX_TEMPFAIL) when it \
            could not be recorded durably, so the MTA retries; 65 (EX_DATAERR) only for input that is no message at all.
            Postfix master.cf: nurture unix - n n - - pipe flags=Rq user=nurture argv=/usr/bin/nurture inbound --recipient ${recipient}
            """
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "The envelope recipient the MTA delivered to (Postfix: ${recipient}); where a VERP id is looked for first.")
    var recipient: String?

    static let exTempFail: Int32 = 75
    static let exDataErr: Int32 = 65

    func run() async throws {
        if let recipient, recipient.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            Terminal.error("--recipient holds a control character")
            throw ExitCode(Self.exDataErr)
        }
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = .warning
            return handler
        }
        let logger = Logger(label: "nurture.inbound")
        // The message is read whole first (the MTA is waiting on the pipe); a configuration or store that fails after
        // that is a temporary failure, so the MTA keeps the message and retries.
        let catalog: Catalog
        do { catalog = try options.loadCatalog() } catch { throw ExitCode(Self.exTempFail) }
        let (bytes, size) = Self.readStandardInput(limit: catalog.config.inbound.maxMessageSize)
        do {
            let store = try await StoreOpener.admin(catalog.config)
            let processor = InboundProcessor(store: store, catalog: CatalogHolder(catalog), signer: try Daemon.tokenSigner(catalog.config, logger: logger),
                                             clock: SystemClock(), logger: logger)
            let result = try await processor.process(bytes, size: size, source: "pipe", envelopeRecipient: recipient)
            await store.close()
            print(result.duplicate ? "already processed" : result.outcome.rawValue + (result.leadID.map { " lead=\($0)" } ?? "")
                  + (result.reason.map { ": " + LogRedaction.addresses($0) } ?? ""))
        } catch let error as InboundFormatError {
            Terminal.error("not a message: \(error)")
            throw ExitCode(Self.exDataErr)
        } catch {
            Terminal.error("cannot record the message, the MTA should retry: \(LogRedaction.addresses("\(error)"))")
            throw ExitCode(Self.exTempFail)
        }
    }

    /// Up to `limit` bytes of standard input, and its whole size: the rest is read and dropped, so the MTA never sees a
    /// broken pipe for a message that was in fact handled.
    static func readStandardInput(limit: Int) -> ([UInt8], Int) {
        var kept: [UInt8] = []
        var total = 0
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                break
            }
            if n == 0 { break }
            total += n
            if kept.count < limit { kept += buffer[..<min(n, limit - kept.count)] }
        }
        return (kept, total)
    }
}

/// `nurture inbound quarantine [ID]`: the messages kept aside and why; with an id, that message as received.
struct InboundQuarantineCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "quarantine",
                                                    abstract: "List inbound messages kept aside with their reasons; with an id, print that message.")

    @OptionGroup var options: ConfigOption
    @Argument(help: "A kept-aside message's id: print it as received.") var id: Int64?
    @Option(help: "How many to list, newest first.") var limit = 50

    func run() async throws {
        let catalog = try options.loadCatalog()
        let store = try await options.openStore(catalog)
        if let id {
            guard let bytes = try await store.inboundMessage(id) else {
                Terminal.error("no kept copy of inbound message \(id)")
                throw ExitCode(1)
            }
            FileHandle.standardOutput.write(Data(bytes))
            return
        }
        let items = try await store.quarantined(limit: max(1, limit))
        if items.isEmpty { print("no inbound message kept aside") }
        for q in items {
            print("\(q.id)  \(DateText.iso(q.receivedAt))  \(q.source)  \(q.size) bytes\(q.kept ? "" : " (copy dropped)")  \(q.reason)")
        }
    }
}
