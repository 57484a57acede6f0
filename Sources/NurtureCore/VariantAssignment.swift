/// Deterministic A/B and holdout assignment: a hash keyed by sequence, step and lead picks the same variant on every
/// restart, replay, node, `simulate` and `plan`, and a reload that keeps a step's variants keeps every lead's.
public enum VariantAssignment {
    /// Holdout shares are resolved to 1/10 000.
    static let holdoutScale: UInt64 = 10_000

    /// The variant `leadKey` gets at `step` (nil when the step has no variants): weights split the hash's range.
    public static func variant(of step: Step, sequenceID: String, leadKey: String) -> Variant? {
        guard !step.variants.isEmpty else { return nil }
        let total = step.variants.reduce(UInt64(0)) { $0 + UInt64(max(0, $1.weight)) }
        guard total > 0 else { return step.variants[0] }
        var point = hash(["variant", sequenceID, step.id, leadKey]) % total
        for v in step.variants {
            let w = UInt64(max(0, v.weight))
            if point < w { return v }
            point -= w
        }
        return step.variants[step.variants.count - 1]
    }

    /// Whether a lead entering `sequence` is held out (enrolled and counted, never mailed).
    public static func isHeldOut(_ sequence: NurtureSequence, leadKey: String) -> Bool {
        guard sequence.holdout > 0 else { return false }
        let threshold = UInt64((sequence.holdout * Double(holdoutScale)).rounded())
        return hash(["holdout", sequence.id, leadKey]) % holdoutScale < threshold
    }

    /// FNV-1a over the parts (NUL-separated), finished with SplitMix64's mixer so nearby keys spread evenly.
    /// Stable across platforms and releases, unlike `Hasher`, which is seeded per process.
    public static func hash(_ parts: [String]) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for (i, part) in parts.enumerated() {
            if i > 0 { h = (h ^ 0) &* 0x0000_0100_0000_01b3 }
            for byte in part.utf8 { h = (h ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        }
        h ^= h >> 30
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 27
        h = h &* 0x94d0_49bb_1331_11eb
        h ^= h >> 31
        return h
    }
}
