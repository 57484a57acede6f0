import Logging
import NurtureMail
import ServiceLifecycle

/// A transport in a `ServiceGroup`: its threads live as long as the group's run, and stop at graceful shutdown.
/// Listed before the services that use it, so that it stops after them (a group shuts down in reverse order).
public struct TransportService: Service {
    let transport: Transport

    public init(_ transport: Transport) { self.transport = transport }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { [transport] in try await transport.run() }
        } catch is CancellationError {}
    }

    /// Runs `body` with the transport started in a group of its own, then shuts it down and waits until its threads
    /// have ended: how `send-test`, `simulate` and tests use a transport, the way the daemon does.
    public static func withRunning<T: Sendable>(_ transport: Transport, logger: Logger = Logger(label: "nurture.transport"),
                                                isolation: isolated (any Actor)? = #isolation,
                                                _ body: () async throws -> T) async throws -> T {
        let group = ServiceGroup(configuration: .init(services: [.init(service: TransportService(transport))], logger: logger))
        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            let result: Result<T, any Error>
            do { result = .success(try await body()) } catch { result = .failure(error) }
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return try result.get()
        }
    }
}
