@testable import NurtureMail
import Testing

/// Settings are refused before any connection when a field could smuggle a command into the IMAP dialogue.
struct IMAPSettingsTests {
    private func settings(url: String = "imaps://mail.example.com/INBOX", username: String = "bounces", password: String = "s3cret",
                          processedFolder: String? = nil) throws -> IMAPSettings {
        try IMAPSettings(url: url, username: username, password: password, processedFolder: processedFolder)
    }

    @Test(arguments: ["Done\r\nN9 DELETE INBOX", "Done\n", "Done\r", "Tab\there", "Nul\u{0}"])
    func aProcessedFolderWithALineBreakOrControlCharacterIsRefused(folder: String) throws {
        #expect(throws: IMAPError.self) { try settings(processedFolder: folder) }
    }

    @Test func aUsernameOrMailboxWithALineBreakIsRefused() throws {
        #expect(throws: IMAPError.self) { try settings(username: "bounces\r\nN1 LOGOUT") }
        #expect(throws: IMAPError.self) { try settings(url: "imaps://mail.example.com/INBOX%0D%0AN1%20LOGOUT") }
        #expect(throws: IMAPError.self) { try settings(url: "imaps://mail.example.com/INBOX\r\n") }
    }

    @Test func aPasswordWithALineBreakIsRefusedWithoutRepeatingIt() throws {
        do {
            _ = try settings(password: "hunter2\n")
            Issue.record("accepted")
        } catch {
            #expect(!"\(error)".contains("hunter2"))
        }
    }

    @Test(arguments: ["https://mail.example.com/INBOX", "pop3://mail.example.com", "mail.example.com/INBOX", "imaps:///INBOX",
                      "imaps://user:pw@mail.example.com/INBOX", "imaps://mail.example.com/INBOX/;UID=3", "imaps://mail.example.com/INBOX?UNSEEN",
                      "imaps://mail.example.com/In*"])
    func aURLThatIsNotJustAServerAndAMailboxIsRefused(url: String) throws {
        #expect(throws: IMAPError.self) { try settings(url: url) }
    }

    @Test func theMailboxComesFromTheURLPathDecodedAndDefaultsToINBOX() throws {
        #expect(try settings(url: "imaps://mail.example.com").mailbox == "INBOX")
        #expect(try settings(url: "imaps://mail.example.com:993/").mailbox == "INBOX")
        #expect(try settings(url: "imap://mail.example.com:143/Bounces%20FR").mailbox == "Bounces FR")
        #expect(try settings(url: "imap://mail.example.com:143/Bounces%20FR").serverURL == "imap://mail.example.com:143")
        #expect(try settings(url: "imaps://mail.example.com/Trait%C3%A9s").mailbox == "Traités")
    }

    @Test func printingOrDumpingTheSettingsNeverShowsThePassword() throws {
        let settings = try settings(password: "correct-horse-battery")
        var dumped = ""
        dump(settings, to: &dumped)
        for text in ["\(settings)", String(reflecting: settings), dumped] {
            #expect(!text.contains("correct-horse-battery"))
            #expect(text.contains("mail.example.com"))
        }
    }

    @Test func theProcessedFolderCannotBeThePolledMailbox() throws {
        #expect(throws: IMAPError.self) { try settings(processedFolder: "inbox") }
    }

    @Test func mailboxNamesAreQuotedInModifiedUTF7() {
        #expect(IMAPQuoting.modifiedUTF7("INBOX") == "INBOX")
        #expect(IMAPQuoting.modifiedUTF7("Traités") == "Trait&AOk-s")
        #expect(IMAPQuoting.modifiedUTF7("日本語") == "&ZeVnLIqe-") // RFC 3501 §5.1.3's example
        #expect(IMAPQuoting.modifiedUTF7("A&B") == "A&-B")
        #expect(IMAPQuoting.modifiedUTF7("😀") == "&2D3eAA-")
        #expect(IMAPQuoting.mailbox(#"a "quoted" \ name"#) == #""a \"quoted\" \\ name""#)
    }
}
