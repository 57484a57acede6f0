import NurtureAuthoring
import Testing

struct CSVWriterTests {
    @Test func cellsNeverStartAFormula() {
        #expect(CSVWriter.cell("=HYPERLINK(\"http://evil\")") == "\"'=HYPERLINK(\"\"http://evil\"\")\"")
        #expect(CSVWriter.cell("+1") == "'+1")
        #expect(CSVWriter.cell("-2") == "'-2")
        #expect(CSVWriter.cell("@SUM(A1)") == "'@SUM(A1)")
        #expect(CSVWriter.cell("plain") == "plain")
        #expect(CSVWriter.cell("a,b") == "\"a,b\"")
    }
}

struct CSVWriterCombiningMarkTests {
    /// Found by fuzzing the CSV reader with a round trip: a quote, comma or `=` followed by a combining mark.
    @Test func quotesCommasAndFormulasBeforeACombiningMarkAreStillQuotedAndNeutralised() {
        #expect(CSVWriter.cell("a,\u{301}b") == "\"a,\u{301}b\"")
        #expect(CSVWriter.cell("\"\u{618}x") == "\"\"\"\u{618}x\"")
        #expect(CSVWriter.cell("=\u{301}1+1") == "'=\u{301}1+1")
        var reader = CSVReader(data: .init((CSVWriter.cell("x\"\u{301},y") + "," + CSVWriter.cell("z") + "\n").utf8))
        guard case .success(let r)? = reader.next() else { Issue.record("does not parse back"); return }
        #expect(r.fields == ["x\"\u{301},y", "z"])
    }
}
