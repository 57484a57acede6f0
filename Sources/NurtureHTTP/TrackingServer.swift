import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import Metrics
import NIOHTTP1
import NurtureCore
import NurtureSigning
import ServiceLifecycle

/// The HTTP side of `nurture serve`: open pixel, click redirects, one-click unsubscribe, health and metrics.
/// Every token is verified before anything is read or written; a bad one records nothing.
public struct TrackingServer: Sendable {
    /// What the handlers need from the running configuration (read per request, so a reload applies at once).
    public struct Site: Sendable {
        public var senderName: String
        public var defaultLocale: String
        public var policy: MachineSignals.Policy
        public var scoring: ScoringContext
        /// The path of `http.public_url` (`/nurture`, or empty): pages link back through the same proxy prefix.
        public var publicPath: String

        public init(senderName: String, defaultLocale: String, policy: MachineSignals.Policy, scoring: ScoringContext,
                    publicPath: String = "") {
            self.senderName = senderName
            self.defaultLocale = defaultLocale
            self.policy = policy
            self.scoring = scoring
            self.publicPath = publicPath
        }
    }

    let store: TrackingStore
    let signer: TokenSigner
    let site: @Sendable () -> Site
    let health: HealthMonitor
    let now: @Sendable () -> Date
    let metricsText: @Sendable () async -> [UInt8]
    /// Group commit of opens and clicks; a service the daemon runs between the store and this server.
    public let batcher: EventBatcher
    let api: LeadsAPI?
    /// The bearer token `/api/v1` requires; without one the API is off.
    let apiToken: [UInt8]?
    /// Made once: looking a counter up in the metrics registry per request is work on the hot path.
    let events: EventCounters
    /// Replays of one token past a few per hour are answered but not stored.
    let repeats: RepeatLimiter
    /// The open pixel's rules, for its event-loop path and its route.
    let pixel: OpenPixel
    let logger: Logger

    /// - Parameters:
    ///   - now: the engine's clock (a demo clock may run faster than real time).
    ///   - metricsText: the Prometheus exposition, rendered by whoever owns the registry.
    public init(store: TrackingStore, signer: TokenSigner, site: @escaping @Sendable () -> Site, health: HealthMonitor,
                now: @escaping @Sendable () -> Date, metricsText: @escaping @Sendable () async -> [UInt8],
                api: LeadsAPI? = nil, apiToken: String? = nil, storedRepeatsPerHour: Int = 10, logger: Logger) {
        self.repeats = RepeatLimiter(perWindow: storedRepeatsPerHour)
        self.store = store
        self.signer = signer
        self.site = site
        self.health = health
        self.now = now
        self.metricsText = metricsText
        self.batcher = EventBatcher(store: store, site: site)
        self.api = api
        self.apiToken = apiToken.flatMap { $0.isEmpty ? nil : Array($0.utf8) }
        self.events = EventCounters()
        self.logger = logger
        self.pixel = OpenPixel(signer: signer, repeats: repeats, batcher: batcher, now: now, logger: logger)
    }

    /// Protocol limits of the listener (from `http.*` in the config, read at start).
    public struct Limits: Sendable {
        public var headerTimeout: Duration
        public var maxConnections: Int
        /// `/metrics` wants the API bearer token.
        public var metricsRequireToken: Bool
        /// `/metrics` is served by `metricsApplication` instead of here.
        public var metricsElsewhere: Bool

        public init(headerTimeout: Duration = .seconds(10), maxConnections: Int = 512, metricsRequireToken: Bool = false,
                    metricsElsewhere: Bool = false) {
            self.headerTimeout = headerTimeout
            self.maxConnections = maxConnections
            self.metricsRequireToken = metricsRequireToken
            self.metricsElsewhere = metricsElsewhere
        }
    }

    /// Hummingbird's HTTP/1 server with `HTTPProtocolGuard` in front, and the open pixel answered ahead of it.
    static func server(_ limits: Limits, pixel: OpenPixel? = nil) -> HTTPServerBuilder {
        // Small headers; idle connections closed; bodies are capped by the guard, the context and per route.
        let decoder = HTTP1Channel.Configuration.DecoderConfiguration(maxHeaderFieldSize: 8 * 1024, maxHeaderListSize: 32 * 1024,
                                                                        maxHeaderFieldCount: 100)
        let guardLimits = HTTPProtocolGuard.Limits(headerTimeout: .nanoseconds(Int64(limits.headerTimeout.components.seconds) * 1_000_000_000
                                                                                 + limits.headerTimeout.components.attoseconds / 1_000_000_000),
                                                   maxBody: 64 * 1024, maxConnections: limits.maxConnections)
        return HTTPServerBuilder { responder in
            NurtureHTTP1Channel(responder: responder, limits: guardLimits, decoder: decoder, idleTimeout: .seconds(30), pixel: pixel)
        }
    }

    /// `/metrics` alone, for `http.metrics_listen`.
    public func metricsApplication(host: String, port: Int, limits: Limits) -> some Service {
        let router = Router(context: TrackingContext.self)
        router.add(middleware: SecurityHeadersMiddleware())
        router.get("/metrics") { request, _ in await self.metrics(request, requireToken: limits.metricsRequireToken) }
        return Application(router: router, server: Self.server(limits), configuration: .init(address: .hostname(host, port: port), serverName: nil),
                           logger: logger)
    }

    func metrics(_ request: Request, requireToken: Bool) async -> Response {
        if requireToken {
            guard let expected = apiToken, Self.bearerMatches(request.headers[.authorization], expected) else {
                var r = Self.json(.error(401, "missing or wrong bearer token"))
                r.headers[.wwwAuthenticate] = "Bearer realm=\"nurture\""
                return r
            }
        }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: await metricsText())))
    }

    /// RFC 9110 §11.1: the scheme is case-insensitive. Compared as SHA-256 digests, in constant time: neither the
    /// content nor the length of the expected token shows in the timing.
    static func bearerMatches(_ header: String?, _ expected: [UInt8]) -> Bool {
        guard let header, let space = header.firstIndex(of: " "), header[..<space].lowercased() == "bearer" else { return false }
        let given = Array(header[header.index(after: space)...].trimmingCharacters(in: .whitespaces).utf8)
        guard !given.isEmpty else { return false }
        let a = Array(SHA256.hash(data: given)), b = Array(SHA256.hash(data: expected))
        var diff: UInt8 = 0
        for i in 0..<a.count { diff |= a[i] ^ b[i] }
        return diff == 0
    }

    /// The server as a service for the daemon's group. `onListening` runs once the port accepts connections.
    public func application(host: String, port: Int, limits: Limits = .init(), onListening: @escaping @Sendable () async -> Void = {}) -> some Service {
        let router = Router(context: TrackingContext.self)
        router.add(middleware: MetricsMiddleware())
        router.add(middleware: SecurityHeadersMiddleware())
        router.get("/o/:token") { request, context in await self.open(request, context) }
        router.head("/o/:token") { request, context in await self.open(request, context) }
        router.get("/c/:token") { request, context in try await self.click(request, context) }
        router.head("/c/:token") { request, context in try await self.click(request, context) }
        router.get("/u/:token") { request, context in await self.unsubscribePage(request, context) }
        router.post("/u/:token") { request, context in await self.unsubscribe(request, context) }
        router.post("/u/:token/choice") { request, context in await self.choose(request, context) }
        router.get("/healthz") { _, _ in await self.healthCheck() }
        let v1 = router.group("/api/v1")
        v1.post("/leads") { request, context in await self.apiCall(request, context) { api, body in await api.upsertLead(body) } }
        v1.post("/events") { request, context in await self.apiCall(request, context) { api, body in await api.recordEvent(body) } }
        v1.get("/stats") { request, context in await self.apiCall(request, context) { api, _ in await api.stats() } }
        v1.get("/leads/:email") { request, context in await self.leadCall(request, context) { api, email in await api.lead(email) } }
        v1.get("/leads/:email/export") { request, context in await self.leadCall(request, context) { api, email in await api.export(email) } }
        v1.delete("/leads/:email") { request, context in await self.leadCall(request, context) { api, email in await api.erase(email) } }
        v1.post("/handoffs/:id") { request, context in
            await self.apiCall(request, context) { api, body in
                guard let id = PathParameter.get("id", context) else { return .error(404, "no such hand-off") }
                return await api.answerHandoff(id, body)
            }
        }
        if !limits.metricsElsewhere {
            router.get("/metrics") { request, _ in await self.metrics(request, requireToken: limits.metricsRequireToken) }
        }
        return Application(router: router,
                           server: Self.server(limits, pixel: pixel),
                           configuration: .init(address: .hostname(host, port: port), serverName: nil),
                           onServerRunning: { _ in await onListening() }, logger: logger)
    }

    // MARK: opens

    static let noCache: HTTPFields = [.cacheControl: "no-store, no-cache, must-revalidate, private, max-age=0", .pragma: "no-cache",
                                      .expires: "0"]

    static let pixelHeaders: HTTPFields = {
        var headers = noCache
        headers[.contentType] = "image/gif"
        return headers
    }()

    /// Always the pixel, whatever the token: a mail reader must never show a broken image. The message is looked
    /// up inside the batched write (no read per request); a token for a message that no longer exists records nothing.
    /// Most pixels are answered by `OpenPixelHandler` before they reach this route; this one takes those behind a
    /// request still being answered, and odd spellings of the path.
    func open(_ request: Request, _ context: TrackingContext) async -> Response {
        let response = Response(status: .ok, headers: Self.pixelHeaders, body: .init(byteBuffer: OpenPixel.body))
        guard let raw = PathParameter.get("token", context),
              let hit = pixel.hit(file: raw[...], userAgent: request.headers[.userAgent], head: request.method == .head) else { return response }
        do {
            pixel.finished(.success(try await batcher.record(hit)))
        } catch {
            pixel.finished(.failure(error))
        }
        return response
    }

    // MARK: clicks

    /// Redirects only to the message's own stored link; anything else is a 404 that records nothing.
    func click(_ request: Request, _ context: TrackingContext) async throws -> Response {
        guard let raw = PathParameter.get("token", context), let token = signer.verify(raw, purpose: .click) else { return Self.notFound }
        let message: TrackedMessage
        do {
            guard let found = try await store.trackedMessage(token.outboxID) else { return Self.notFound }
            message = found
        } catch {
            logger.error("click lookup failed: \(error)")
            return Self.unavailable
        }
        guard Int(token.link) < message.links.count else { return Self.notFound }
        let target = message.links[Int(token.link)]
        let at = now()
        var headers = Self.noCache
        headers[.location] = target
        headers[.referrerPolicy] = "no-referrer"
        guard repeats.admit(.init(outboxID: token.outboxID, kind: 1, link: Int(token.link)), at: at) else {
            events.count("click", origin: "repeat")
            return Response(status: .found, headers: headers)
        }
        let why = MachineSignals.click(method: request.method.rawValue, userAgent: request.headers[.userAgent], sentAt: message.sentAt,
                                       now: at, policy: site().policy)
        do {
            let hit = TrackedHit.event(TrackedEvent(kind: .click, message: message, link: Int(token.link), at: at, machineReason: why))
            if let machine = try await batcher.record(hit) { events.count("click", machine: machine) }
        } catch {
            // The reader still gets where they were going; the failure is logged.
            logger.error("click not recorded: \(error)")
        }
        return Response(status: .found, headers: headers)
    }

    // MARK: unsubscribe

    func unsubscribePage(_ request: Request, _ context: TrackingContext) async -> Response {
        let siteNow = site()
        guard let raw = PathParameter.get("token", context), let token = signer.verify(raw, purpose: .unsubscribe) else {
            return Self.page(.notFound, .invalid, locale: siteNow.defaultLocale, site: siteNow, message: nil)
        }
        do {
            guard let message = try await store.trackedMessage(token.outboxID) else {
                return Self.page(.notFound, .invalid, locale: siteNow.defaultLocale, site: siteNow, message: nil)
            }
            // A GET only shows the form: scanners fetch GETs, and some run scripts.
            return Self.page(.ok, message.suppressed ? .done : .confirm(token: raw, choices: choices(for: token.outboxID)),
                             locale: message.locale ?? siteNow.defaultLocale,
                             site: siteNow, message: message)
        } catch {
            logger.error("unsubscribe page lookup failed: \(error)")
            return Self.page(.serviceUnavailable, .failed, locale: siteNow.defaultLocale, site: siteNow, message: nil)
        }
    }

    /// RFC 8058: the POST unsubscribes at once and answers 200 (never a redirect), committed before the reply.
    func unsubscribe(_ request: Request, _ context: TrackingContext) async -> Response {
        let siteNow = site()
        guard let raw = PathParameter.get("token", context), let token = signer.verify(raw, purpose: .unsubscribe) else {
            return Self.page(.notFound, .invalid, locale: siteNow.defaultLocale, site: siteNow, message: nil)
        }
        let body: [UInt8]
        switch await Self.formBody(request) {
        case .success(let bytes): body = bytes
        case .failure(let refusal): return refusal.response
        }
        guard OneClickBody.isValid(contentType: request.headers[.contentType], body: body) else {
            return Response(status: .badRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "Expected List-Unsubscribe=One-Click\n")))
        }
        do {
            let message = try await store.trackedMessage(token.outboxID)
            let via = request.headers[.contentType]?.lowercased().hasPrefix("multipart/") == true ? "one-click (multipart)" : "one-click"
            switch try await store.unsubscribe(outboxID: token.outboxID, at: now(), via: via, scoring: siteNow.scoring) {
            case .unknownMessage:
                return Self.page(.notFound, .invalid, locale: siteNow.defaultLocale, site: siteNow, message: nil)
            case .unsubscribed:
                events.count("unsubscribe", machine: false)
                logger.info("unsubscribed outbox=\(token.outboxID)")
                fallthrough
            case .alreadyUnsubscribed:
                return Self.page(.ok, .done, locale: message?.locale ?? siteNow.defaultLocale, site: siteNow, message: message)
            }
        } catch {
            logger.error("unsubscribe failed outbox=\(token.outboxID): \(error)")
            return Self.page(.serviceUnavailable, .failed, locale: siteNow.defaultLocale, site: siteNow, message: nil)
        }
    }

    /// A page form's body: a client trickling it cannot hold the request open (10 s for at most 16 KiB).
    static func formBody(_ request: Request) async -> Result<[UInt8], BodyRefusal> {
        do {
            return .success(try await within(.seconds(10)) { Array(buffer: try await request.body.collect(upTo: 16 * 1024)) })
        } catch is TimedOut {
            return .failure(BodyRefusal(response: Response(status: .requestTimeout, headers: [.contentType: "text/plain; charset=utf-8", .connection: "close"],
                                                           body: .init(byteBuffer: ByteBuffer(string: "Request body too slow\n")))))
        } catch is HTTPParserError {
            return .failure(BodyRefusal(response: Response(status: .badRequest, headers: [.contentType: "text/plain; charset=utf-8", .connection: "close"],
                                                           body: .init(byteBuffer: ByteBuffer(string: "Malformed request body\n")))))
        } catch {
            return .failure(BodyRefusal(response: Response(status: .contentTooLarge, headers: [.contentType: "text/plain; charset=utf-8"],
                                                           body: .init(byteBuffer: ByteBuffer(string: "Request body too large\n")))))
        }
    }

    struct BodyRefusal: Error { var response: Response }

    // MARK: the recipient's other choices

    /// The page's other choices, each with its CSRF token: signed for this message and this choice only.
    func choices(for outboxID: Int64) -> [(value: String, csrf: String)] {
        ([.leaveSequence] + RecipientChoice.pauseDays.map { .pause(days: $0) }).map { (c: RecipientChoice) in
            (c.formValue, signer.sign(LinkToken(purpose: .choice, outboxID: outboxID, link: Self.choiceCode(c))))
        }
    }

    static func choiceCode(_ c: RecipientChoice) -> UInt16 {
        switch c {
        case .leaveSequence: 1
        case .pause(let days): UInt16(clamping: days)
        }
    }

    /// Leave this sequence, or pause for 30/90 days: a POST from the page's own form (its signed CSRF field names
    /// this message and this choice), committed before the answer. A forged field changes nothing.
    func choose(_ request: Request, _ context: TrackingContext) async -> Response {
        let siteNow = site()
        guard let raw = PathParameter.get("token", context), let token = signer.verify(raw, purpose: .unsubscribe) else {
            return Self.page(.notFound, .invalid, locale: siteNow.defaultLocale, site: siteNow, message: nil)
        }
        // Browsers say where a form came from: another site's page never gets to choose for the reader.
        if request.headers[HTTPField.Name("Sec-Fetch-Site")!]?.lowercased() == "cross-site" {
            return Self.plain(.forbidden, "Cross-site request refused\n")
        }
        let body: [UInt8]
        switch await Self.formBody(request) {
        case .success(let bytes): body = bytes
        case .failure(let refusal): return refusal.response
        }
        guard let (value, csrf) = ChoiceBody.parse(body), let choice = RecipientChoice(formValue: value) else {
            return Self.plain(.badRequest, "Expected choice=leave, pause30 or pause90 with its csrf field\n")
        }
        guard let proof = signer.verify(csrf, purpose: .choice), proof.outboxID == token.outboxID, proof.link == Self.choiceCode(choice) else {
            return Self.plain(.forbidden, "This form is not valid: use the page the email links to\n")
        }
        do {
            let message = try await store.trackedMessage(token.outboxID)
            let locale = message?.locale ?? siteNow.defaultLocale
            switch try await store.recordChoice(choice, outboxID: token.outboxID, at: now(), scoring: siteNow.scoring) {
            case .unknownMessage:
                return Self.page(.notFound, .invalid, locale: siteNow.defaultLocale, site: siteNow, message: nil)
            case .alreadyUnsubscribed:
                return Self.page(.ok, .done, locale: locale, site: siteNow, message: message)
            case .left:
                logger.info("left sequence outbox=\(token.outboxID)")
                return Self.page(.ok, .left, locale: locale, site: siteNow, message: message)
            case .paused(let until):
                logger.info("paused outbox=\(token.outboxID) until=\(DateText.iso(until))")
                return Self.page(.ok, .paused(until: until), locale: locale, site: siteNow, message: message)
            }
        } catch {
            logger.error("choice failed outbox=\(token.outboxID): \(error)")
            return Self.page(.serviceUnavailable, .failed, locale: siteNow.defaultLocale, site: siteNow, message: nil)
        }
    }

    static func plain(_ status: HTTPResponse.Status, _ text: String) -> Response {
        Response(status: status, headers: [.contentType: "text/plain; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    // MARK: API

    /// Bearer authentication (constant-time), a capped body, then the handler; every answer is JSON.
    func apiCall(_ request: Request, _ context: TrackingContext, _ handler: @Sendable (LeadsAPI, [UInt8]) async -> APIResponse) async -> Response {
        guard let api, let expected = apiToken else {
            return Self.json(.error(404, "the API is off: set secrets.api_token_file"))
        }
        guard Self.bearerMatches(request.headers[.authorization], expected) else {
            var r = Self.json(.error(401, "missing or wrong bearer token"))
            r.headers[.wwwAuthenticate] = "Bearer realm=\"nurture\""
            return r
        }
        var body: [UInt8] = []
        if request.method == .post {
            let type = request.headers[.contentType]?.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased()
            guard type == "application/json" else { return Self.json(.error(415, "the body must be application/json")) }
            do {
                body = try await Self.within(.seconds(10)) { Array(buffer: try await request.body.collect(upTo: 64 * 1024)) }
            } catch is TimedOut {
                return Self.json(.error(408, "request body too slow"))
            } catch is HTTPParserError {
                var r = Self.json(.error(400, "malformed request body (chunked encoding)"))
                r.headers[.connection] = "close"
                return r
            } catch {
                return Self.json(.error(413, "request body over 64 KiB"))
            }
        }
        return Self.json(await handler(api, body))
    }

    /// An API call on `/leads/{email}`, with the address percent-decoded once.
    func leadCall(_ request: Request, _ context: TrackingContext, _ handler: @Sendable (LeadsAPI, String) async -> APIResponse) async -> Response {
        await apiCall(request, context) { api, _ in
            guard let email = PathParameter.get("email", context) else { return .error(400, "malformed percent-encoding in the address") }
            return await handler(api, email)
        }
    }

    static func json(_ r: APIResponse) -> Response {
        Response(status: .init(code: r.status), headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                 body: .init(byteBuffer: ByteBuffer(bytes: r.body)))
    }

    // MARK: operations

    /// 200 or 503 with the named problems and their reasons; answers within a second whatever holds the database.
    func healthCheck() async -> Response {
        var problems = health.report().problems
        let database = await store.isReachable()
        if !database { problems.append(.init(.databaseUnreachable, reason: "the database did not answer a read within 0.9 s")) }
        let report = HealthReport(problems: problems)
        let scheduler = report.has(.schedulerStalled) ? "stalled" : report.has(.schedulerFailing) ? "failing" : "ok"
        let body: [String: Any] = [
            "status": report.isHealthy ? "ok" : "unavailable", "database": database ? "ok" : "unreachable", "scheduler": scheduler,
            "problems": report.problems.map { ["name": $0.condition.name, "reason": $0.reason] },
        ]
        let json = (try? JSONSerialization.data(withJSONObject: body, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        return Response(status: report.isHealthy ? .ok : .serviceUnavailable, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                        body: .init(byteBuffer: ByteBuffer(bytes: Array(json) + [0x0A])))
    }

    // MARK: helpers

    struct TimedOut: Error {}

    /// The body's result, or `TimedOut` once `limit` has passed (the body is then cancelled).
    static func within<T: Sendable>(_ limit: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: limit)
                throw TimedOut()
            }
            defer { group.cancelAll() }
            return try await group.next()!
        }
    }

    static let notFound = Response(status: .notFound, headers: [.contentType: "text/plain; charset=utf-8"],
                                   body: .init(byteBuffer: ByteBuffer(string: "Not found\n")))
    static let unavailable = Response(status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8", .retryAfter: "60"],
                                      body: .init(byteBuffer: ByteBuffer(string: "Temporarily unavailable\n")))

    static func page(_ status: HTTPResponse.Status, _ kind: UnsubscribePage.Kind, locale: String, site: Site, message: TrackedMessage?) -> Response {
        let html = UnsubscribePage.render(kind, locale: locale, sender: site.senderName, email: message?.email.value, firstName: message?.firstName,
                                          basePath: site.publicPath)
        return Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                                                  .contentSecurityPolicy: UnsubscribePage.contentSecurityPolicy],
                        body: .init(byteBuffer: ByteBuffer(string: html)))
    }
}

/// Request context with a small body cap: nothing Nurture accepts over HTTP is large.
public struct TrackingContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public init(source: Source) { coreContext = .init(source: source) }
    public var maxUploadSize: Int { 64 * 1024 }
}

/// Headers every response carries; HTML pages add their Content-Security-Policy.
struct SecurityHeadersMiddleware: RouterMiddleware {
    func handle(_ request: Request, context: TrackingContext, next: (Request, TrackingContext) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.xFrameOptions] = "DENY"
        if response.headers[.referrerPolicy] == nil { response.headers[.referrerPolicy] = "no-referrer" }
        return response
    }
}

extension HTTPField.Name {
    static let pragma = Self("Pragma")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
}

/// `nurture_events_total{type, origin}`, one counter per combination, made when the server is.
struct EventCounters: Sendable {
    private let counters: [String: Counter]

    init() {
        var all: [String: Counter] = [:]
        for type in ["open", "click", "unsubscribe"] {
            for origin in ["human", "machine", "repeat"] {
                all["\(type)/\(origin)"] = Counter(label: "nurture_events_total", dimensions: [("type", type), ("origin", origin)])
            }
        }
        counters = all
    }

    func count(_ type: String, machine: Bool) { count(type, origin: machine ? "machine" : "human") }

    /// `repeat`: a replay past the per-token cap, answered but not stored.
    func count(_ type: String, origin: String) { counters["\(type)/\(origin)"]?.increment() }
}
