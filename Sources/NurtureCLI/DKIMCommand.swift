import ArgumentParser
import Foundation
import NurtureAuthoring
import NurtureSigning

/// `nurture dkim`: DKIM key management.
struct DKIMCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dkim",
        abstract: "Manage DKIM signing keys.",
        subcommands: [DKIMKeygenCommand.self]
    )
}

/// `nurture dkim keygen`: new key files, readable by their owner only, never over an existing file.
struct DKIMKeygenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygen",
        abstract: "Write new DKIM private keys (PKCS#8 PEM, mode 0600) and print the DNS records to publish.",
        discussion: """
            Without --rsa or --ed25519, writes both (signing with both keeps verifiers that know only RSA passing); \
            the Ed25519 key is then published under SELECTOR-ed25519. Files are SELECTOR.rsa.key and \
            SELECTOR.ed25519.key in --directory; an existing file is never overwritten.

            Example:
              nurture dkim keygen --selector nurture2026 --directory /etc/nurture/credentials
            """
    )

    @Flag(help: "An RSA-2048 key.") var rsa = false
    @Flag(help: "An Ed25519 key (RFC 8463).") var ed25519 = false
    @Option(help: "The DKIM selector the keys are published under.") var selector: String
    @Option(help: "Where to write the key files.") var directory: String = "."
    @Option(help: "The signing domain, to print the DNS record names.") var domain: String?

    func validate() throws {
        guard DKIMSettings.isSelector(selector) else { throw ValidationError("--selector must be DNS labels (letters, digits, hyphens, dots)") }
    }

    func run() throws {
        let kinds: [DKIMKey.Kind] = rsa == ed25519 ? [.rsa, .ed25519] : (rsa ? [.rsa] : [.ed25519])
        let paths = kinds.map { URL(fileURLWithPath: directory).appendingPathComponent("\(selector).\($0.rawValue).key").path }
        for path in paths where FileManager.default.fileExists(atPath: path) {
            Terminal.error("\(path) exists; refusing to overwrite a key (move it away or choose another --selector)")
            throw ExitCode(1)
        }
        for (kind, path) in zip(kinds, paths) {
            let pem = try DKIMKey.generate(kind)
            try KeyFile.create(path, contents: pem)
            let key = try DKIMKey.parse(pem: pem, kind: kind)
            print("wrote \(path)")
            let published = kinds.count > 1 && kind == .ed25519 ? DKIMSettings.ed25519Selector(selector) : selector
            let name = "\(published)._domainkey" + (domain.map { ".\($0)." } ?? "")
            print(DNSZone.txt(name: name, value: key.dnsRecord))
        }
        print("add to nurture.yaml: dkim: { domain: \(domain ?? "example.com"), selector: \(selector), "
              + zip(kinds, paths).map { "\($0.0.rawValue)_key_file: \($0.1)" }.joined(separator: ", ") + " }")
    }
}

/// Creates a secret file atomically with mode 0600 (O_EXCL: an existing file is never replaced).
enum KeyFile {
    static func create(_ path: String, contents: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw ValidationError("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let bytes = Array(contents.utf8)
        guard write(fd, bytes, bytes.count) == bytes.count, fsync(fd) == 0 else {
            throw ValidationError("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
