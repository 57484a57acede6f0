
/// A template compiled once at load time, so rendering on the delivery path is only substitution.
public struct EmailTemplate: Sendable {
    public var name: String
    public var file: String
    /// Raw texts as authored (for `preview` and tests).
    public var subjectSource: String
    public var preheaderSource: String?
    public var bodySource: String
    /// Every variable the template names, with where, for validation.
    public var uses: [MustacheTag]

    let subject: CompiledTemplate
    let preheader: CompiledTemplate?
    let text: CompiledTemplate
    let html: CompiledTemplate
}

/// The shared HTML and text frames every email is rendered into; they carry the unsubscribe link and postal address.
public struct Layout: Sendable {
    public var htmlFile: String
    public var textFile: String
    public var htmlUses: [MustacheTag]
    public var textUses: [MustacheTag]

    let html: CompiledTemplate
    let text: CompiledTemplate
}
