import Foundation
import Testing
@testable import NurtureAuthoring

/// Under systemd, data resolves against `$STATE_DIRECTORY` and secrets against `$CREDENTIALS_DIRECTORY`;
/// authored files (sequences, templates) stay beside the config.
struct ConfigDiscoveryTests {
    static func write(_ yaml: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("nurture-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try yaml.write(toFile: dir + "/nurture.yaml", atomically: true, encoding: .utf8)
        return dir
    }

    static let yaml = """
        database: nurture.sqlite
        sequences: sequences
        transport: file://outbox
        sender: { name: S, email: s@example.com, postal_address: 1 Street }
        secrets: { token_key_file: token.key, smtp_password_file: /etc/nurture/absolute, api_token_file: api_token }
        """

    @Test func systemdDirectoriesTakeDataAndSecrets() throws {
        let dir = try Self.write(Self.yaml)
        let sink = DiagnosticSink()
        let config = try #require(ConfigLoader.load(path: dir + "/nurture.yaml", sink: sink, environment: [
            "STATE_DIRECTORY": "/var/lib/nurture:/var/lib/other", "CREDENTIALS_DIRECTORY": "/run/credentials/nurture.service",
        ]), "\(sink.items)")
        #expect(config.database == "/var/lib/nurture/nurture.sqlite")
        #expect(config.transport == .file(directory: "/var/lib/nurture/outbox"))
        #expect(config.sequencesDirectory == dir + "/sequences")
        #expect(config.secrets.tokenKey == "/run/credentials/nurture.service/token.key")
        #expect(config.secrets.apiToken == "/run/credentials/nurture.service/api_token")
        #expect(config.secrets.smtpPassword == "/etc/nurture/absolute")
    }

    @Test func withoutSystemdEverythingIsBesideTheConfig() throws {
        let dir = try Self.write(Self.yaml)
        let config = try #require(ConfigLoader.load(path: dir + "/nurture.yaml", sink: DiagnosticSink(), environment: [:]))
        #expect(config.database == dir + "/nurture.sqlite")
        #expect(config.secrets.tokenKey == dir + "/token.key")
    }
}
