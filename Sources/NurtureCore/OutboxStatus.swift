/// Where a send is in its life (Postfix's queues: incoming → active → deferred): the one list the engine, the
/// stores' SQL, metrics and `lead show` use.
public enum OutboxStatus: String, Sendable, Hashable, CaseIterable {
    /// Waiting for its due time.
    case scheduled
    /// Committed as in flight before its transfer: after a crash, possibly sent.
    case sending
    case sent
    /// A temporary failure: waiting for its retry time.
    case deferred
    case skipped
    case cancelled
    case failed
    /// A wait or a branch that was decided: the enrollment went on to the step it chose. Never mail.
    case passed

    /// Waiting to be decided (due or not yet due).
    public static let waiting: [OutboxStatus] = [.scheduled, .deferred]
    /// Resolved for good: the enrollment has moved past this step.
    public static let resolved: [OutboxStatus] = [.sent, .skipped, .cancelled, .failed, .passed]
}

/// Where an enrollment is.
public enum EnrollmentState: String, Sendable, Hashable, CaseIterable {
    case active
    /// Every step resolved.
    case completed
    /// Ended early: an exit rule, an unsubscribe, a hand-off, a sunset.
    case exited
}

/// Where a hand-off to sales is.
public enum HandoffStatus: String, Sendable, Hashable, CaseIterable {
    case pending, delivered
    /// A reminder sales made moot by answering before it went out.
    case cancelled
}
