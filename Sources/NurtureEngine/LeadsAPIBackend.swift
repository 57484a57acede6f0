import Foundation
import NurtureAuthoring
import NurtureCore
import NurtureHTTP

/// The events and leads API over the store: the same validation as `nurture lead add` and `nurture event`.
public struct LeadsAPIBackend: LeadsAPI {
    let store: LeadsAPIStore
    let catalog: CatalogHolder
    let clock: NurtureClock

    public init(store: LeadsAPIStore, catalog: CatalogHolder, clock: NurtureClock) {
        self.store = store
        self.catalog = catalog
        self.clock = clock
    }

    /// An unexpected error is a 500 that names no internals.
    private func guarded(_ work: () async throws -> APIResponse) async -> APIResponse {
        (try? await work()) ?? .error(500, "internal error")
    }

    /// The body as an object with only `allowed` keys (and, under `nested`, only those keys in that member):
    /// duplicate and unknown keys are refused rather than silently won by the last or ignored.
    static func object(_ body: [UInt8], allowed: Set<String>, nested: [String: Set<String>] = [:]) -> Result<[String: Any], APIError> {
        guard !body.isEmpty else { return .failure(APIError(400, "the body must be a JSON object")) }
        let value: StrictJSON.Value
        switch StrictJSON.parse(body) {
        case .success(let v): value = v
        case .failure(let f): return .failure(APIError(400, "malformed JSON: \(f)"))
        }
        guard let members = value.members else { return .failure(APIError(400, "the body must be a JSON object")) }
        func check(_ members: [(key: String, value: StrictJSON.Value)], _ allowed: Set<String>, in what: String) -> APIError? {
            for m in members where !allowed.contains(m.key) {
                return APIError(422, "unknown key '\(PrintableText.escaped(m.key, limit: 40))'\(what); expected one of: \(allowed.sorted().joined(separator: ", "))")
            }
            return nil
        }
        if let e = check(members, allowed, in: "") { return .failure(e) }
        for (key, keys) in nested {
            if let inner = value[key]?.members, let e = check(inner, keys, in: " in '\(key)'") { return .failure(e) }
        }
        return .success(foundation(members))
    }

    /// The shapes the handlers read (`String`, `NSNull`, nested objects); numbers and booleans stay distinguishable.
    static func foundation(_ members: [(key: String, value: StrictJSON.Value)]) -> [String: Any] {
        func convert(_ v: StrictJSON.Value) -> Any {
            switch v {
            case .string(let s): s
            case .number(let n): Double(n) as Any
            case .bool(let b): b
            case .null: NSNull()
            case .array(let items): items.map(convert)
            case .object(let m): foundation(m)
            }
        }
        var out: [String: Any] = [:]
        for m in members { out[m.key] = convert(m.value) }
        return out
    }

    static let leadKeys: Set<String> = ["email", "persona", "timezone", "locale", "recontact_after", "fields", "consent"]
    static let consentKeys: Set<String> = ["source", "at", "text", "ip"]
    static let eventKeys: Set<String> = ["email", "name", "at", "value"]
    static let answerKeys: Set<String> = ["outcome", "reason"]

    struct APIError: Error {
        var status: Int, message: String
        init(_ status: Int, _ message: String) { self.status = status; self.message = message }
        var response: APIResponse { .error(status, message) }
    }

    /// A string member, or nil when absent; a member of another type is an error.
    static func string(_ o: [String: Any], _ key: String) throws(APIError) -> String? {
        guard let v = o[key], !(v is NSNull) else { return nil }
        guard let s = v as? String else { throw APIError(422, "'\(key)' must be a string") }
        return s
    }

    static func address(_ text: String) throws(APIError) -> EmailAddress {
        do { return try EmailAddress(validating: text) } catch { throw APIError(422, "'\(text)' is not a valid address: \(error)") }
    }

    public func upsertLead(_ body: [UInt8]) async -> APIResponse {
        await guarded {
            do {
                let o = try Self.object(body, allowed: Self.leadKeys, nested: ["consent": Self.consentKeys]).get()
                guard let email = try Self.string(o, "email") else { throw APIError(422, "'email' is required") }
                guard let persona = try Self.string(o, "persona") else { throw APIError(422, "'persona' is required") }
                var fields: [String: String] = [:]
                if let raw = o["fields"] {
                    guard let dict = raw as? [String: Any] else { throw APIError(422, "'fields' must be an object of strings") }
                    for (k, v) in dict {
                        guard let s = v as? String else { throw APIError(422, "field '\(k)' must be a string") }
                        fields[k] = s
                    }
                }
                let consent = o["consent"] as? [String: Any] ?? [:]
                if o["consent"] != nil, o["consent"] as? [String: Any] == nil { throw APIError(422, "'consent' must be an object") }
                let input = LeadInput(email: email, persona: persona, timeZone: try Self.string(o, "timezone"), locale: try Self.string(o, "locale"),
                                      recontactAfter: try Self.string(o, "recontact_after"), fields: fields,
                                      consentSource: try Self.string(consent, "source"), consentAt: try Self.string(consent, "at"),
                                      consentText: try Self.string(consent, "text"), consentIP: try Self.string(consent, "ip"))
                let current = catalog.current
                let rules = LeadRules(declaredFields: Set(current.config.fields), personas: current.personas,
                                      defaultTimeZone: current.config.defaultTimeZone)
                let lead: Lead
                do { lead = try rules.lead(from: input, now: clock.now()) } catch { throw APIError(422, "\(error)") }
                switch try await store.upsert([lead], now: clock.now(), scoring: current.scoringContext)[0] {
                case .suppressed: throw APIError(409, "\(lead.email) is on the suppression list (unsubscribed, bounced or erased)")
                case .inserted: return APIResponse(status: 201, json: ["email": lead.email.value, "result": "created"])
                case .updated: return APIResponse(status: 200, json: ["email": lead.email.value, "result": "updated"])
                case .unchanged: return APIResponse(status: 200, json: ["email": lead.email.value, "result": "unchanged"])
                }
            } catch let error as APIError {
                return error.response
            }
        }
    }

    public func recordEvent(_ body: [UInt8]) async -> APIResponse {
        await guarded {
            do {
                let o = try Self.object(body, allowed: Self.eventKeys).get()
                guard let email = try Self.string(o, "email") else { throw APIError(422, "'email' is required") }
                guard var name = try Self.string(o, "name") else { throw APIError(422, "'name' is required") }
                if let problem = EventName.problem(name) { throw APIError(422, problem) }
                var value: Double?
                if let raw = o["value"], !(raw is NSNull) {
                    guard let v = raw as? Double, v.isFinite else { throw APIError(422, "'value' must be a number") }
                    value = v
                }
                // An NPS answer is recorded under its band (nps_promoter, nps_passive, nps_detractor), with its value.
                if name == "nps" {
                    guard let v = value, let band = EventKind.npsBand(v) else { throw APIError(422, "an 'nps' event needs a 'value' from 0 to 10") }
                    name = band.name
                }
                let address = try Self.address(email)
                var at = clock.now()
                if let text = try Self.string(o, "at") {
                    guard let d = DateText.parse(text, in: .gmt) else { throw APIError(422, "'at' must be an ISO 8601 date-time") }
                    at = d
                }
                guard let stored = try await store.lead(address) else { throw APIError(404, "no lead \(address)") }
                if let problem = EventName.timeProblem(at, leadCreatedAt: stored.createdAt, now: clock.now(),
                                                       tolerance: catalog.current.config.eventTimeTolerance) {
                    throw APIError(422, "'at': \(problem)")
                }
                var event = NewEvent(email: address, type: name, at: at)
                event.value = value
                let ends = try await EventRecorder(store: store, catalog: catalog).record(event)
                let lead = try await store.lead(address)
                return APIResponse(status: 201, json: [
                    "email": address.value, "event": name, "score": lead?.lead.score ?? 0, "stage": lead?.lead.stage.rawValue ?? "lead",
                    "ended_enrollments": ends.map(\.reason),
                ])
            } catch let error as APIError {
                return error.response
            }
        }
    }

    public func lead(_ email: String) async -> APIResponse {
        await guarded {
            do {
                let address = try Self.address(email)
                guard let s = try await store.lead(address) else { throw APIError(404, "no lead \(address)") }
                return APIResponse(status: 200, json: Self.describe(s))
            } catch let error as APIError {
                return error.response
            }
        }
    }

    public func stats() async -> APIResponse {
        await guarded { APIResponse(status: 200, json: ["sequences": try await store.stats(since: nil).map(\.document)]) }
    }

    public func export(_ email: String) async -> APIResponse {
        await guarded {
            do {
                let address = try Self.address(email)
                guard let document = try await store.export(address) else { throw APIError(404, "no lead \(address)") }
                return APIResponse(status: 200, json: document.document)
            } catch let error as APIError {
                return error.response
            }
        }
    }

    public func erase(_ email: String) async -> APIResponse {
        await guarded {
            do {
                let address = try Self.address(email)
                let transport = catalog.current.config.transport
                guard try await LeadEraser(store: store, transport: transport).erase(address, now: clock.now()).sends != nil else {
                    throw APIError(404, "no lead \(address) (the address is now suppressed)")
                }
                return APIResponse(status: 200, json: ["email": address.value, "result": "erased"])
            } catch let error as APIError {
                return error.response
            }
        }
    }

    public func answerHandoff(_ id: String, _ body: [UInt8]) async -> APIResponse {
        await guarded {
            do {
                let o = try Self.object(body, allowed: Self.answerKeys).get()
                guard let outcome = try Self.string(o, "outcome") else { throw APIError(422, "'outcome' is required") }
                let r = try await HandoffAnswerRecorder(store: store, catalog: catalog).answer(id: id, outcome: outcome,
                                                                                                 reason: try Self.string(o, "reason"), at: clock.now())
                return APIResponse(status: 200, json: [
                    "handoff": r.crossing, "outcome": r.outcome.rawValue, "previous": r.previous?.rawValue as Any? ?? NSNull(),
                    "result": r.changed ? "recorded" : "unchanged", "stage": r.stage.rawValue, "score": r.score,
                ])
            } catch let error as APIError {
                return error.response
            } catch let failure as HandoffAnswerRecorder.Failure {
                if case .unknownHandoff = failure { return .error(404, failure.description) }
                return .error(422, failure.description)
            }
        }
    }

    static func describe(_ s: StoredLead) -> [String: Any] {
        let l = s.lead
        return [
            "email": l.email.value, "persona": l.persona, "stage": l.stage.rawValue, "score": l.score, "fields": l.fields,
            "fit": l.fit, "fit_grade": l.fitGrade as Any? ?? NSNull(),
            "handoffs": s.handoffs.map { ["id": $0.id, "channel": $0.channel, "status": $0.status, "reminder": $0.reminder,
                                          "outcome": $0.outcome?.rawValue as Any? ?? NSNull(), "reason": $0.outcomeReason as Any? ?? NSNull()] },
            "locale": l.locale as Any? ?? NSNull(), "timezone": l.timeZone as Any? ?? NSNull(),
            "consent": ["source": l.consent.source, "at": DateText.iso(l.consent.at)],
            "enrollments": s.enrollments.map { ["sequence": $0.sequenceID, "state": $0.state.rawValue, "next_step": $0.nextStep as Any? ?? NSNull(),
                                                "end_reason": $0.endReason as Any? ?? NSNull()] },
            "ledger": s.ledger.map { ["at": DateText.iso($0.at), "delta": $0.delta, "score_after": $0.scoreAfter, "cause": $0.cause, "kind": $0.kind] },
            "sends": s.sends.map { ["sequence": $0.sequenceID, "step": $0.stepID, "status": $0.status.rawValue] },
        ]
    }
}
