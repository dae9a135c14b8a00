import Foundation
import Hummingbird
import Logging
import Metrics
import Prometheus
import ServiceLifecycle
import SteadfastApplication
import SteadfastCore
import SteadfastHost
import SteadfastStore

/// The HTTP API of a running host (`wf serve --http`), described by `Schemas/openapi.json`.
/// Each route parses its request, calls the application layer, and renders the answer; errors
/// are the application layer's codes as JSON (`{"error": {"code", "message"}}`).
public enum HTTPAPI {
    /// The server as a service for the host's `ServiceGroup`: it stops accepting on graceful
    /// shutdown and finishes the requests in flight. `running` gets the address it listens on.
    public static func server(
        service: WorkflowService, session: HostSession, options: HTTPServerOptions, logger: Logger,
        metrics: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        running: @escaping @Sendable (String) -> Void = { _ in }
    ) throws(ApplicationError) -> any Service {
        if options.authToken == nil && !isLoopback(options.host) {
            throw ApplicationError(
                .invalidInput,
                "refusing to serve HTTP on \(options.host) without a token: set --auth-token (or "
                    + "STEADFAST_AUTH_TOKEN), or listen on 127.0.0.1")
        }
        guard (0...65_535).contains(options.port) else {
            throw ApplicationError(.invalidInput, "the HTTP port must be from 0 to 65535, not \(options.port)")
        }
        let router = Router(context: BasicRequestContext.self)
        router.add(middleware: LogRequestsMiddleware(.debug))
        router.add(middleware: ErrorMiddleware())
        if let token = options.authToken { router.add(middleware: BearerTokenMiddleware(token: token)) }
        Routes(
            service: service, session: session, reader: RequestReader(maxBodySize: options.maxBodySize),
            metrics: metrics
        ).register(on: router)
        return Application(
            router: router,
            configuration: ApplicationConfiguration(
                address: .hostname(options.host, port: options.port), serverName: "steadfast"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? options.port
                let host = options.host.contains(":") ? "[\(options.host)]" : options.host
                running("http://\(host):\(port)")
            },
            logger: logger)
    }

    /// Makes swift-metrics (the host's metrics, the server's) record into a Prometheus registry,
    /// which `/metrics` serves. Once per process, before the host starts.
    public static func bootstrapMetrics() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }

    static func isLoopback(_ host: String) -> Bool {
        host == "localhost" || host == "::1" || host.hasPrefix("127.")
    }
}

/// Every error leaves as the API's JSON error: an application error with its own status, the
/// router's (an unknown route, a wrong method) and any other as one of its codes.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError {
            return try error.response(from: request, context: context)
        } catch let error as ApplicationError {
            return try APIError(error).response(from: request, context: context)
        } catch let error as HTTPError {
            let code: ApplicationError.Code =
                switch error.status {
                case .notFound: .noRoute
                case .contentTooLarge: .payloadTooLarge
                case .unauthorized: .unauthorized
                default: error.status.code < 500 ? .invalidInput : .internalError
                }
            let message =
                error.status == .notFound
                ? "no route \(request.method) \(request.uri.path); see Schemas/openapi.json"
                : (error.body ?? error.status.reasonPhrase)
            return JSONResponse.make(ApplicationError(code, message).jsonObject.jsonText, status: error.status)
        } catch {
            let error = ApplicationError(error)
            if error.code == .internalError { context.logger.error("\(request.method) \(request.uri.path): \(error)") }
            return try APIError(error).response(from: request, context: context)
        }
    }
}

/// With a token, every route but `/healthz` needs `Authorization: Bearer TOKEN`, compared in
/// constant time.
struct BearerTokenMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let token: String

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard request.uri.path != "/healthz" else { return try await next(request, context) }
        let presented = request.headers[.authorization].flatMap { header -> String? in
            let prefix = "Bearer "
            return header.hasPrefix(prefix) ? String(header.dropFirst(prefix.count)) : nil
        }
        guard let presented, Self.equal(presented, token) else {
            var response = JSONResponse.make(
                ApplicationError(
                    .unauthorized,
                    presented == nil
                        ? "this server needs 'Authorization: Bearer TOKEN' (the token given to wf serve)"
                        : "the bearer token is wrong"
                ).jsonObject.jsonText, status: .unauthorized)
            response.headers[.wwwAuthenticate] = "Bearer"
            return response
        }
        return try await next(request, context)
    }

    /// Whether two strings are equal, in time that depends only on their lengths.
    static func equal(_ a: String, _ b: String) -> Bool {
        let left = Array(a.utf8)
        let right = Array(b.utf8)
        var difference = UInt8(left.count == right.count ? 0 : 1)
        for index in 0..<max(left.count, right.count) {
            difference |= (index < left.count ? left[index] : 0) ^ (index < right.count ? right[index] : 0)
        }
        return difference == 0
    }
}
