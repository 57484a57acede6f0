import Foundation
import NurtureCore

extension SequenceStats {
    /// One sequence as `nurture stats --json` and `GET /api/v1/stats` show it.
    public var document: [String: Any] {
        let s = self
        return [
                "sequence": s.sequenceID, "enrolled": s.enrolled, "converted": s.converted, "handed_off": s.handedOff,
                "held_out": s.heldOut, "goal_converted": s.goalConverted, "holdout_converted": s.holdoutConverted,
                "goal_conversion_rate": s.conversionRate as Any? ?? NSNull(), "holdout_conversion_rate": s.holdoutRate as Any? ?? NSNull(),
                "variant_tests": StatsComparisons.lines(s.steps),
                "conversion_rate": s.enrolled == 0 ? NSNull() : Double(s.converted) / Double(s.enrolled) as Any,
                "handoff_rate": s.enrolled == 0 ? NSNull() : Double(s.handedOff) / Double(s.enrolled) as Any,
                "median_seconds_to_convert": s.medianToConvert as Any? ?? NSNull(), "median_seconds_to_handoff": s.medianToHandoff as Any? ?? NSNull(),
                "steps": s.steps.map { st -> [String: Any] in
                    ["step": st.stepID, "variant": st.variant as Any? ?? NSNull(), "conversions": st.conversions, "sent": st.sent, "bounced": st.bounced, "unique_opens": st.uniqueOpens, "unique_clicks": st.uniqueClicks,
                     "clicks": st.clicks, "machine_opens": st.machineOpens, "machine_clicks": st.machineClicks, "unsubscribes": st.unsubscribes,
                     "open_rate": st.rate(st.uniqueOpens) as Any? ?? NSNull(), "click_rate": st.rate(st.uniqueClicks) as Any? ?? NSNull(),
                     "bounce_rate": st.rate(st.bounced) as Any? ?? NSNull(), "unsubscribe_rate": st.rate(st.unsubscribes) as Any? ?? NSNull(),
                     "soft_bounced": st.softBounced, "complaints": st.complaints, "replies": st.replies, "auto_replies": st.autoReplies,
                     "complaint_rate": st.rate(st.complaints) as Any? ?? NSNull(), "reply_rate": st.rate(st.replies) as Any? ?? NSNull()]
                },
        ]
    }
}
