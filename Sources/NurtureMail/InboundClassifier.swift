import NurtureCore

/// Reads an inbound RFC 5322 message and says what it is (RFC 3464 DSN, RFC 5965 feedback report, RFC 3834
/// auto-reply, a person's reply, or none of these). Pure: no I/O, no store.
public enum InboundClassifier {
    /// - Parameter envelopeRecipient: the address the MTA delivered to (pipe mode's `--recipient`), first of `addresses`.
    /// - Throws: `InboundFormatError` only for bytes that are not a message at all (no header section).
    public static func classify(_ bytes: [UInt8], envelopeRecipient: String? = nil) throws(InboundFormatError) -> InboundReport {
        // TEMPORARY placeholder until the parser lands (issue 17, item 2); replaced before the issue is closed.
        InboundReport(kind: .unclassified(reason: "classifier not built yet"), addresses: envelopeRecipient.map { [$0] } ?? [])
    }
}
