import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureEngine
import Synchronization

/// The CSV rows of `lead import`, parsed and validated into batches on a thread of its own, at most `depth` batches
/// ahead of the writer: reading the file and storing it overlap on two cores, and memory stays bounded.
struct LeadBatchReader: Sendable {
    /// Valid leads of consecutive rows, in file order, with how many rows between them were rejected (and reported).
    struct Batch: Sendable {
        var leads: [Lead]
        /// The leads as the store prepared them, on the reader's thread (set on the batches handed over).
        var prepared: PreparedLeads?
        var rejected: Int
        /// Bytes of the file read so far, for the progress line.
        var offset: Int
    }

    let file: String
    let columns: [String]
    let rules: LeadRules
    let persona: String?
    let consent: String
    let batchSize: Int
    /// Stamps consent for rows that give no time.
    let now: Date
    /// The store's own work on each batch that needs no database (keys, keyed hashes), done here beside the writer.
    let prepare: @Sendable ([Lead]) -> PreparedLeads
    static let maxErrorsShown = 1_000

    /// Starts the reading thread; it stops when the file ends or when the consumer stops iterating.
    func batches(from reader: CSVReader, depth: Int = 2) -> Batches {
        let handoff = Handoff(depth: depth)
        let (stream, continuation) = AsyncStream.makeStream(of: Batch.self, bufferingPolicy: .unbounded)
        continuation.onTermination = { _ in handoff.stop() }
        let thread = Thread { [self] in
            var reader = reader
            read(&reader) { batch in
                var ready = batch
                if !batch.leads.isEmpty { ready.prepared = prepare(batch.leads) }
                ready.leads = []
                guard handoff.waitForSlot() else { return false }
                continuation.yield(ready)
                return true
            }
            continuation.finish()
        }
        thread.name = "lead-import-reader"
        thread.start()
        return Batches(stream: stream, handoff: handoff)
    }

    /// The batches in file order; taking one frees a slot for the reader.
    struct Batches: AsyncSequence, Sendable {
        let stream: AsyncStream<Batch>
        let handoff: Handoff

        func stop() { handoff.stop() }

        func makeAsyncIterator() -> Iterator { Iterator(base: stream.makeAsyncIterator(), handoff: handoff) }

        struct Iterator: AsyncIteratorProtocol {
            var base: AsyncStream<Batch>.Iterator
            let handoff: Handoff

            mutating func next() async -> Batch? {
                guard let batch = await base.next() else { return nil }
                handoff.taken()
                return batch
            }
        }
    }

    /// Bounds how far the reader runs ahead, and tells it when the consumer has gone.
    final class Handoff: Sendable {
        private let slots: DispatchSemaphore
        private let stopped = Atomic<Bool>(false)

        init(depth: Int) { slots = DispatchSemaphore(value: depth) }

        /// Blocks the reader's own thread (never a task's) until a batch may be handed over; false once stopped.
        func waitForSlot() -> Bool {
            slots.wait()
            return !stopped.load(ordering: .sequentiallyConsistent)
        }

        func taken() { slots.signal() }

        func stop() {
            stopped.store(true, ordering: .sequentiallyConsistent)
            slots.signal()
        }
    }

    /// Reads every row; `emit` gets each full batch and the last partial one, and returns false to stop.
    func read(_ reader: inout CSVReader, emit: (Batch) -> Bool) {
        var batch = Batch(leads: [], prepared: nil, rejected: 0, offset: 0)
        batch.leads.reserveCapacity(batchSize)
        var shown = 0
        func reject(_ line: Int, _ message: String) {
            batch.rejected += 1
            shown += 1
            if shown <= Self.maxErrorsShown { Terminal.stderr("\(file):\(line): error: \(message)\n") }
        }
        while let next = reader.next() {
            switch next {
            case .failure(.invalidUTF8(let line, let column)):
                reject(line, "invalid UTF-8 in column \(column) ('\(columns.indices.contains(column - 1) ? columns[column - 1] : "?")')")
            case .failure(.unterminatedQuote(let line)):
                reject(line, "a quoted field is never closed")
            case .failure(.strayQuote(let line, let column)):
                reject(line, "stray quote in column \(column): a quoted field must be followed by a separator or the line's end, "
                       + "and a quote inside a field must be in a quoted field, doubled (\"\")")
            case .success(let record):
                guard record.fields.count == columns.count else {
                    reject(record.line, "expected \(columns.count) columns, found \(record.fields.count)")
                    continue
                }
                do {
                    batch.leads.append(try rules.lead(from: input(record), now: now))
                } catch {
                    reject(record.line, error.description)
                }
                if batch.leads.count >= batchSize {
                    batch.offset = reader.offset
                    guard emit(batch) else { return }
                    batch.leads.removeAll(keepingCapacity: true)
                    batch.rejected = 0
                }
            }
        }
        batch.offset = reader.offset
        if !batch.leads.isEmpty || batch.rejected > 0 { _ = emit(batch) }
    }

    private func input(_ record: CSVReader.Record) -> LeadInput {
        var input = LeadInput(email: "", persona: persona ?? "", consentSource: consent)
        for (name, value) in zip(columns, record.fields) {
            switch name {
            case "email": input.email = value
            case "persona": if !value.isEmpty { input.persona = value }
            case "timezone": input.timeZone = value
            case "locale": input.locale = value
            case "recontact_after": input.recontactAfter = value
            case "consent_source": if !value.isEmpty { input.consentSource = value }
            case "consent_at": input.consentAt = value
            case "consent_text": input.consentText = value
            case "consent_ip": input.consentIP = value
            default: input.fields[name] = value
            }
        }
        return input
    }
}
