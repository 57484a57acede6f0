import Foundation
import NurtureCore
import Testing

struct MachineSignalsTests {
    let sent = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = MachineSignals.Policy(openWithin: 10, clickWithin: 60, burstWindow: 5)
    let reader = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko)"

    @Test func opensSoonAfterDeliveryOrFromLibrariesAreMachines() {
        #expect(MachineSignals.open(userAgent: reader, sentAt: sent, now: sent.addingTimeInterval(3), policy: policy) == "opened 3s after delivery")
        #expect(MachineSignals.open(userAgent: reader, sentAt: sent, now: sent.addingTimeInterval(10), policy: policy) == nil)
        #expect(MachineSignals.open(userAgent: "Barracuda Sentinel (EE)", sentAt: sent, now: sent.addingTimeInterval(3_600), policy: policy)
            == "user agent matches 'barracuda'")
        #expect(MachineSignals.open(userAgent: "  ", sentAt: sent, now: sent.addingTimeInterval(3_600), policy: policy) == "no user agent")
        // Gmail's image proxy fetches when the reader opens the mail: a person.
        #expect(MachineSignals.open(userAgent: "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
                                    sentAt: sent, now: sent.addingTimeInterval(600), policy: policy) == nil)
    }

    @Test func headRequestsEarlyClicksAndScannersAreMachines() {
        let later = sent.addingTimeInterval(3_600)
        #expect(MachineSignals.click(method: "HEAD", userAgent: reader, sentAt: sent, now: later, policy: policy) == "HEAD request")
        #expect(MachineSignals.click(method: "GET", userAgent: reader, sentAt: sent, now: sent.addingTimeInterval(59), policy: policy)
            == "clicked 59s after delivery")
        #expect(MachineSignals.click(method: "GET", userAgent: reader, sentAt: sent, now: sent.addingTimeInterval(60), policy: policy) == nil)
        #expect(MachineSignals.click(method: "GET", userAgent: "Go-http-client/1.1", sentAt: sent, now: later, policy: policy)
            == "user agent matches 'go-http-client'")
    }

    @Test func aBurstCoversEveryLinkOfAMessageWithTwoOrMore() {
        #expect(MachineSignals.isBurst(distinctLinksClicked: 3, linkCount: 3))
        #expect(!MachineSignals.isBurst(distinctLinksClicked: 2, linkCount: 3))
        #expect(!MachineSignals.isBurst(distinctLinksClicked: 1, linkCount: 1)) // one link, one click: a person
    }
}
