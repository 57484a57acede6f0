import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureMail

/// GDPR erasure as one operation for the CLI and the API: the lead's rows (store), and the copies of its messages a
/// file outbox keeps, so nothing about the lead stays on disk but the keyed hash that keeps it suppressed.
public struct LeadEraser: Sendable {
    let store: ErasureStore
    let transport: NurtureConfig.TransportSettings

    public init(store: ErasureStore, transport: NurtureConfig.TransportSettings) {
        self.store = store
        self.transport = transport
    }

    /// What an erasure removed; nil sends means there was no such lead (the address is suppressed all the same).
    public struct Result: Sendable {
        public var sends: Int?
        public var files: Int
    }

    public func erase(_ address: EmailAddress, now: Date) async throws -> Result {
        guard let outboxIDs = try await store.erase(address, now: now) else { return Result(sends: nil, files: 0) }
        var files = 0
        if case .file(let directory) = transport {
            files = FileTransport.removeMessages(outboxIDs: Set(outboxIDs), in: directory)
        }
        return Result(sends: outboxIDs.count, files: files)
    }
}
