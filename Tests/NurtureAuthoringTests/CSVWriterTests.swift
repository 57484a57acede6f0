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
