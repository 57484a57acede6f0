import ArgumentParser
import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureEngine

/// `nurture plan`: before a reload, what the sequence files on disk would do to the leads already enrolled, compared
/// with the versions their steps were scheduled under (recorded by the daemon).
struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Show what the sequence files on disk would change for enrolled leads, before a reload.",
        discussion: """
            For each sequence whose file or templates differ from what its enrollments run: the leads by the step they \
            wait at, what the change does to them (kept, moved, skip, resend, exit, reassign), and the sends due in the \
            next 24 h and 7 d now and after the change. Exit status 2 with --fail-on when the plan holds such changes.
            """
    )

    @OptionGroup var options: ConfigOption
    @Option(help: "Only this sequence.") var sequence: String?
    @Flag(help: "JSON output, for CI.") var json = false
    @Flag(help: "Also list sequences the files leave unchanged.") var all = false
    @Option(help: "Exit 2 when the plan holds any of these effects (comma-separated: resend, skip, exit, moved, reassign).")
    var failOn: String?

    func run() async throws {
        let fail = try (failOn ?? "").split(separator: ",").map { name -> SequencePlan.Effect in
            let text = name.trimmingCharacters(in: .whitespaces)
            guard let e = SequencePlan.Effect(rawValue: text), e != .kept else {
                throw ValidationError("--fail-on takes resend, skip, exit, moved or reassign, not '\(PrintableText.escaped(text, limit: 30))'")
            }
            return e
        }
        let catalog = try options.loadCatalog()
        if let sequence, catalog.sequence(sequence) == nil {
            throw ValidationError("unknown sequence '\(PrintableText.escaped(sequence, limit: 60))'; known: \(catalog.sequences.map(\.sequence.id).joined(separator: ", "))")
        }
        let store = try await options.openStore(catalog)
        var plans: [(SequencePlan, [String])] = []
        for loaded in catalog.sequences where sequence == nil || loaded.sequence.id == sequence {
            let sources = try await store.sequenceSources(sequenceID: loaded.sequence.id)
            var old: [String: NurtureSequence] = [:], templateChanges: Set<String> = []
            for (version, json) in sources {
                guard let snapshot = SequenceSnapshot.decode(json),
                      var s = SequenceLoader.load(text: snapshot.file, path: loaded.file, knownFields: catalog.config.knownLeadFields) else { continue }
                s.version = version
                old[version] = s
                for (name, digest) in snapshot.templates where loaded.snapshot.templates[name].map({ $0 != digest }) ?? false {
                    templateChanges.insert("~ template \(name) (edited)")
                }
            }
            let enrollments = try await store.planEnrollments(sequenceID: loaded.sequence.id)
            let plan = SequencePlan.make(new: loaded.sequence, old: old, enrollments: enrollments, now: Date())
            let inUse = Set(plan.running.keys)
            if plan.changed || all { plans.append((plan, inUse.contains(where: { old[$0] != nil }) ? templateChanges.sorted() : [])) }
        }
        await store.close()
        print(json ? SequencePlan.json(plans) : SequencePlan.text(plans), terminator: "")
        if plans.contains(where: { p in fail.contains { p.0.count($0) > 0 } }) { throw ExitCode(2) }
    }
}
