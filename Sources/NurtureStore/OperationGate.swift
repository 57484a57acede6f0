import Synchronization
import NurtureCore

/// Calls in progress, so `close` can wait for them and then refuse more.
final class OperationGate: Sendable {
    private struct State {
        var closed = false
        var active = 0
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = Mutex(State())

    func enter() throws {
        try state.withLock { s in
            guard !s.closed else { throw StoreFailure.closed }
            s.active += 1
        }
    }

    func leave() {
        let waiters = state.withLock { s -> [CheckedContinuation<Void, Never>] in
            s.active -= 1
            guard s.active == 0 else { return [] }
            defer { s.waiters = [] }
            return s.waiters
        }
        for w in waiters { w.resume() }
    }

    func close() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let now = state.withLock { s -> Bool in
                s.closed = true
                if s.active == 0 { return true }
                s.waiters.append(c)
                return false
            }
            if now { c.resume() }
        }
    }
}
