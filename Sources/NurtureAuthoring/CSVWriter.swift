/// CSV for spreadsheets: RFC 4180 quoting, and formula injection neutralised.
public enum CSVWriter {
    /// A cell starting with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`, so no spreadsheet runs it as a formula.
    public static func cell(_ value: String) -> String {
        var v = value
        if let first = v.first, "=+-@\t\r".contains(first) { v = "'" + v }
        if v.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) { v = "\"" + v.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }
        return v
    }
}
