/// CSV for spreadsheets: RFC 4180 quoting, and formula injection neutralised.
public enum CSVWriter {
    /// A cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`, so no spreadsheet runs it as a formula.
    /// Checked on code points, not Characters: found by fuzzing, `"` or `,` followed by a combining mark is one
    /// Character that equals neither, so such a cell went out unquoted (and `=` + a mark escaped the `'`).
    public static func cell(_ value: String) -> String {
        var v = value
        if let first = v.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { v = "'" + v }
        guard v.unicodeScalars.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return v }
        var quoted = String.UnicodeScalarView()
        quoted.append("\"")
        for scalar in v.unicodeScalars {
            if scalar == "\"" { quoted.append("\"") }
            quoted.append(scalar)
        }
        quoted.append("\"")
        return String(quoted)
    }
}
