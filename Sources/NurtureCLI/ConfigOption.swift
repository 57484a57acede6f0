import ArgumentParser
import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureEngine

/// `--config`, shared by every command, with the discovery order operators expect.
struct ConfigOption: ParsableArguments {
    @Option(name: .long, help: "Configuration file (default: $NURTURE_CONFIG, ./nurture.yaml, /etc/nurture/nurture.yaml).")
    var config: String?

    /// The config file to use, or a usage error that says how to provide one.
    func locate() throws -> String {
        if let config { return config }
        if let env = ProcessInfo.processInfo.environment["NURTURE_CONFIG"], !env.isEmpty { return env }
        for candidate in ["nurture.yaml", "/etc/nurture/nurture.yaml"] where FileManager.default.fileExists(atPath: candidate) {
            return candidate
        }
        throw ValidationError("no configuration found: pass --config FILE, set NURTURE_CONFIG, or copy nurture.example.yaml to nurture.yaml")
    }

    /// Loads config, sequences and templates, printing every diagnostic; exits 1 if any is an error.
    func loadCatalog() throws -> Catalog {
        let path = try locate()
        let sink = DiagnosticSink()
        let catalog = ConfigLoader.load(path: path, sink: sink).flatMap { CatalogLoader.load(config: $0, sink: sink) }
        Terminal.report(sink)
        guard let catalog, !sink.hasErrors else {
            Terminal.error("the configuration has errors; run 'nurture validate' for details")
            throw ExitCode(1)
        }
        return catalog
    }

    /// A command-line address, or a usage error naming what is wrong with it.
    func address(_ text: String) throws -> EmailAddress {
        do { return try EmailAddress(validating: text) } catch { throw ValidationError("\(text): \(error)") }
    }

    func openStore(_ catalog: Catalog) async throws -> any AdminStore {
        do {
            return try await StoreOpener.admin(catalog.config)
        } catch {
            Terminal.error("\(error)")
            throw ExitCode(1)
        }
    }
}
