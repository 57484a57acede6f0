extension Duration {
    /// As fractional seconds, for intervals measured with Swift clocks and used with `Date` or printed.
    var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
