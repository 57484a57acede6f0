import Foundation
import Testing

/// `nurture validate` and `nurture preview`, run as a user would.
struct ValidatePreviewTests {
    @Test func shippedConfigSequencesAndTemplatesAreValid() throws {
        let r = try NurtureProcess().run(["validate", "--config", NurtureProcess.repository + "/nurture.example.yaml"])
        #expect(r.status == 0)
        #expect(r.stdout.isEmpty && r.stderr.isEmpty, "\(r.stdout)\(r.stderr)")
    }

    @Test func brokenFilesAreReportedWithLocationsAndExitOne() throws {
        let fixtures = NurtureProcess.repository + "/Tests/NurtureAuthoringTests/Fixtures"
        let r = try NurtureProcess().run(["validate", "--config", fixtures + "/base/nurture.yaml",
                                          fixtures + "/broken/bad-duration.yaml", fixtures + "/broken/condition-missing-step.yaml"])
        #expect(r.status == 1)
        let lines = r.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasSuffix("broken/bad-duration.yaml:8:12: error: bad duration '3 days' for 'after': write a number and a unit s, m, h, d or w (e.g. 30m, 3d, 1w, 1d12h)"))
        #expect(lines[1].contains("broken/condition-missing-step.yaml:10:14: error: condition 'clicked(welcome)'"))
    }

    @Test func configIsDiscoveredFromEnvironmentAndMissingConfigIsExplained() throws {
        let p = try NurtureProcess()
        try FileManager.default.moveItem(atPath: p.path("nurture.yaml"), toPath: p.path("custom.yaml"))
        let missing = try p.run(["validate"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("no configuration found"))
        let viaEnv = try p.run(["validate"], environment: ["NURTURE_CONFIG": p.path("custom.yaml")])
        #expect(viaEnv.status == 0, "\(viaEnv.stdout)\(viaEnv.stderr)")
    }

    @Test func previewPrintsSubjectTextAndEscapedHTML() throws {
        let r = try NurtureProcess().run(["preview", "cto-whitepaper", "whitepaper", "--lead-json",
                                          #"{"email":"ada@example.com","first_name":"Ada <b>","company":"A&B","whitepaper_title":"Mesh"}"#])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.hasPrefix("Subject: "))
        #expect(r.stdout.contains("--- text/plain ---") && r.stdout.contains("--- text/html ---"))
        #expect(r.stdout.contains("Ada &lt;b&gt;"))
        #expect(r.stdout.contains("/u/preview"))
    }

    @Test func previewOfUnknownStepListsTheSteps() throws {
        let r = try NurtureProcess().run(["preview", "cto-whitepaper", "nope"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("has no step 'nope'; steps: whitepaper"))
    }
}
