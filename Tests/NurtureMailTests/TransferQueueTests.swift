@testable import NurtureMail
import Testing

struct TransferQueueTests {
    @Test func aBusyDomainWaitsWhileOthersStart() {
        var q = TransferQueue(domains: ["big.example", "big.example", "big.example", "small.example"], perDomain: 2)
        #expect(q.start() == 0)
        #expect(q.start() == 1)
        // A third to big.example would exceed its limit: the small one goes first.
        #expect(q.start() == 3)
        #expect(q.start() == nil)
        #expect(!q.isEmpty)
        q.finish(1)
        #expect(q.start() == 2)
        #expect(q.isEmpty)
        #expect(q.start() == nil)
    }

    @Test func keepsOrderWhenNothingLimits() {
        var q = TransferQueue(domains: ["a.example", "b.example", "c.example"], perDomain: 64)
        #expect([q.start(), q.start(), q.start(), q.start()] == [0, 1, 2, nil])
    }
}
