import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import type { Logger } from "pino";
import type { Config, RouteConfig } from "../config/index.js";
import type { BatchStore } from "../core/batches.js";
import type { FileStore } from "../core/files.js";
import {
  ACCEPTED_CODINGS,
  answerErrorFrom,
  type ChatCompletionStore,
  errorMetaOf,
  GatewayError,
  isLoopbackName,
  isStoreFailure,
  makeId,
  type ToolHost,
  UNSUPPORTED_CONTENT_ENCODING,
} from "../core/index.js";
import { LoopTimeout } from "../core/loop-time.js";
import type { MemoryStore } from "../core/memory.js";
import type { StateStore } from "../core/state.js";
import type { VectorStoreStore } from "../core/vector-stores.js";
import { DIALECTS, dialectFor } from "../dialects/index.js";
import {
  type ErrorRendering,
  endedByShutdown,
  errorMetaHeaders,
  requestRecord,
  shuttingDownError,
} from "../dialects/shared/index.js";
import { BatchRunner } from "../harness/batches/batch-runner.js";
import { EncryptedBatchStore } from "../harness/batches/encrypted-batch-store.js";
import { MemoryBatchStore } from "../harness/batches/memory-batch-store.js";
import { EncryptedChatCompletionStore, MemoryChatCompletionStore } from "../harness/chat-completions/index.js";
import { EncryptedFileStore } from "../harness/files/encrypted-file-store.js";
import { MemoryFileStore } from "../harness/files/memory-file-store.js";
import { PdfTextReader } from "../harness/files/pdf-text-reader.js";
import { EncryptedMemoryStore } from "../harness/memory/encrypted-memory-store.js";
import { InProcessMemoryStore } from "../harness/memory/in-process-memory-store.js";
import { Memories } from "../harness/memory/memories.js";
import { MemoryEmbedder } from "../harness/memory/memory-embedder.js";
import { MemoryRecallGateway, type RecallSettings } from "../harness/memory/memory-recall-gateway.js";
import { MEMORY_TOOLS_LABEL, MemoryToolHost } from "../harness/memory/memory-tool-host.js";
import { EncryptedStateStore } from "../harness/state/encrypted-state-store.js";
import { MemoryStateStore } from "../harness/state/memory-state-store.js";
import { McpToolHost } from "../harness/tools/mcp/index.js";
import { RouteToolsGateway } from "../harness/tools/route-tools.js";
import { ToolHostByLabel } from "../harness/tools/tool-host-by-label.js";
import { ToolLoop } from "../harness/tools/tool-loop.js";
import { EncryptedVectorStoreStore } from "../harness/vector-stores/encrypted-vector-store-store.js";
import { MemoryVectorStoreStore } from "../harness/vector-stores/memory-vector-store-store.js";
import { VectorStoreLibrary } from "../harness/vector-stores/vector-store-library.js";
import { classifyRequest, detectorFor } from "../privacy/index.js";
import type { AttemptUsage } from "../router/attempt.js";
import { Catalog } from "../router/catalog.js";
import { HealthMonitor } from "../router/health-monitor.js";
import { Router } from "../router/router.js";
import type { BackgroundStore } from "../store/index.js";
import { loggableError } from "../telemetry/loggable-error.js";
import { Metrics } from "../telemetry/metrics.js";
import { TargetStats } from "../telemetry/target-stats.js";
import { TrackedTargets } from "../telemetry/tracked-targets.js";
import { VERSION } from "../version.js";
import { parseAuditQuery } from "./audit-query.js";
import { ClientAuth } from "./auth.js";
import { batchDispatch } from "./batch-dispatch.js";
import { answerClientError, answerConnect } from "./client-error.js";
import { ConsoleBundle, defaultConsoleDir } from "./console-bundle.js";
import { isPublicConsoleRequest, mountConsole } from "./console-routes.js";
import { Drain } from "./drain.js";
import { ANSWERED, FrontDoor } from "./front-door.js";
import { registerJsonBody, unsupportedMediaType } from "./json-body.js";
import { lingerLimits, registerLingeringClose } from "./lingering-close.js";
import { ServerLoopback } from "./loopback.js";
import { isMcpRequest, registerMcpRoute, renderMcpError } from "./mcp-route.js";
import { registerMemoryRoutes } from "./memory-routes.js";
import { mountDialects } from "./mount-dialects.js";
import { attachResponsesSocket } from "./responses-socket.js";
import { statusSnapshot } from "./status.js";
import { addStatusReasons } from "./status-reasons.js";

export interface ServerOptions {
  config: Config;
  logger: Logger;
  /** Literal client keys (resolved from config references and TANDEM_API_KEYS). */
  clientKeys: readonly string[];
  env?: NodeJS.ProcessEnv;
  /**
   * The encrypted store: the request log, usage and egress audit are written to it, and
   * GET /v1/audit reads it. Default: none (nothing is recorded). Closed by `close()`.
   */
  store?: BackgroundStore;
  /**
   * Where stored responses and conversations live. Default: the encrypted store when `store` is
   * given, else this process's memory (lost at exit).
   */
  state?: StateStore;
  /**
   * Where memories live. Default: the encrypted store when `store` is given, else this process's
   * memory (lost at exit).
   */
  memory?: MemoryStore;
  /**
   * Where the Files API's files live. Default: the encrypted store when `store` is given, else this
   * process's memory (lost at exit).
   */
  files?: FileStore;
  /**
   * Where stored chat completions (`store: true`) live. Default: the encrypted store when `store` is
   * given, else this process's memory (lost at exit), with `state.chatCompletions`' retention.
   */
  chatCompletions?: ChatCompletionStore;
  /**
   * Where vector stores live. Default: the encrypted store when `store` is given, else this
   * process's memory (lost at exit).
   */
  vectorStores?: VectorStoreStore;
  /**
   * Where batches and their lines live. Default: the encrypted store when `store` is given, else
   * this process's memory (lost at exit).
   */
  batches?: BatchStore;
  /** The batches' completion window in seconds (`24h`: 86400). For tests of expiry. */
  batchWindowSeconds?: number;
  /**
   * Runs MCP servers' tools for the tool loop (Responses `mcp` tools). Default: the MCP servers of
   * `config.mcp`. Closed by `close()` when the server made it.
   */
  toolHost?: ToolHost;
  /**
   * The web console's bundle (index.html and its hashed assets). Default: dist/web beside this
   * module, or the checkout's dist/web when running from src/; without one, `/` answers browsers
   * with a 503 page that says to run `npm run build`.
   */
  consoleDir?: string;
}

/** One route the server mounts. */
export interface MountedRoute {
  method: string;
  url: string;
}

export interface TandemServer {
  app: FastifyInstance;
  /** Every route mounted, in order (for tests that must cover all of them, and the console). */
  routes: readonly MountedRoute[];
  catalog: Catalog;
  metrics: Metrics;
  health: HealthMonitor;
  store: BackgroundStore | undefined;
  /** Where this server keeps stored responses and conversations. */
  state: StateStore;
  /** The user's memories (`/v1/memories`, recall on routes with `memory: on`). */
  memories: Memories;
  /** Where this server keeps the Files API's files. */
  files: FileStore;
  /** The vector stores (`/v1/vector_stores`, the `file_search` tool). */
  vectorStores: VectorStoreLibrary;
  /**
   * The batches (`/v1/batches`), each line run through this server. Its `start()` (after the
   * catalog's discovery, so a resumed line finds its models) resumes the batches left unfinished.
   */
  batches: BatchRunner;
  /** Closes at once: requests still running are cut (a stream mid-answer, a client waiting). */
  close(): Promise<void>;
  /**
   * The graceful stop (`tandem serve` on SIGTERM/SIGINT): new connections and requests are refused
   * at once (503 in the client's dialect), the requests running get `graceMs` to finish, those still
   * running then end with a 503 (in-band for a stream) and their upstream requests are aborted; then
   * `close()`. A `forceClose()` meanwhile ends it at once.
   */
  shutdown(graceMs: number): Promise<void>;
  /** During a `shutdown`: ends every request still running now and closes (a second signal). */
  forceClose(): Promise<void>;
}

/** GET /v1/audit's page size when the query names none. */
const DEFAULT_AUDIT_LIMIT = 100;

/** Builds the HTTP app: dialects, auth, limits, health/status/metrics. Does not listen. */
export async function buildServer(options: ServerOptions): Promise<TandemServer> {
  const { config, logger } = options;
  const startedAt = Date.now();
  // Anthropic's 529 has a status line of its own (Node's is `529 unknown`).
  addStatusReasons();
  const catalog = new Catalog(config, options.env, {
    onEngineLog: (line) => logger.warn({ engine: "llama.cpp" }, line),
    // Called for requests only, once `metrics` below exists.
    onKeyRotation: (provider, reason) => metrics.keyRotations.inc({ provider, reason }),
    // store:NAME provider keys are read from the encrypted store this server opened.
    ...(options.store && { keySources: { store: options.store } }),
  });
  // Per-target state (series, status lines, breakers, usage rows) for the names the configuration and
  // the model lists give, and a few per provider that clients chose and the upstream answered.
  const targets = new TrackedTargets(catalog);
  const metrics = new Metrics(targets);
  const stats = new TargetStats(targets);
  const providers = new Map(
    [...catalog.slots.values()].flatMap((slot) => (slot.provider ? [[slot.name, slot.provider] as const] : [])),
  );
  const health = new HealthMonitor(providers, {
    intervalMs: config.health.probeIntervalMs,
    timeoutMs: config.health.probeTimeoutMs,
  });
  const store = options.store;
  /**
   * One upstream attempt's usage, added to its target's row of the day: a request when the target
   * answered it, the tokens the target reported, and their cost at the target's own price when it is
   * known, under the target's tracked name. By attempt rather than by client request, so that an answer continued on another target
   * charges each target what it reported (as /metrics counts it), not the first target for both.
   */
  const addUsage = (target: string, usage: AttemptUsage): void => {
    const inputTokens = usage.inputTokens ?? 0;
    const outputTokens = usage.outputTokens ?? 0;
    const price = catalog.priceOf(target);
    store?.addUsage({
      // Its tracked name: a client-chosen name the upstream never answered shares <provider>/other.
      target: targets.name(target),
      requests: usage.answered ? 1 : 0,
      inputTokens,
      outputTokens,
      ...(price && { costUsd: (inputTokens * price.input + outputTokens * price.output) / 1e6 }),
    });
  };
  const router = new Router(catalog, stats, metrics, health, config.breaker, {
    privacy: config.privacy,
    maxAnswerBytes: config.limits.maxAnswerBytes,
    ...(store && { egress: store, usage: addUsage }),
  });
  const auth = new ClientAuth(options.clientKeys);
  const drain = new Drain();

  const app = Fastify({
    logger: false,
    // In Anthropic's and OpenAI's style (req_...): each dialect answers it in its own header (Dialect.requestIdHeader).
    genReqId: () => makeId("req_"),
    bodyLimit: config.server.bodyLimit,
    // Long generations: never cut a response for taking time; the router owns time limits. The time
    // to receive a body is bounded by watchBody, which answers 408 in the client's dialect (Node's
    // own requestTimeout would close the connection with a bare 408 no client can read).
    requestTimeout: 0,
    keepAliveTimeout: 72_000,
    return503OnClosing: true,
    forceCloseConnections: true,
    // A request Node's parser refuses (headers over 16 KiB: a long query) is answered in its dialect too.
    clientErrorHandler: answerClientError,
    // A path Fastify's router refuses before any route (a parameter over 100 characters, such as an
    // id of another shape, or one that does not percent-decode) is answered in the client's dialect
    // too, as an unknown URL is, never with Fastify's own body.
    frameworkErrors: (err, request, reply) => {
      const path = request.url.split("?", 1)[0] ?? "";
      const where = `${request.method} ${path.length > 200 ? `${path.slice(0, 200)}...` : path}`;
      const error =
        err.code === "FST_ERR_MAX_PARAM_LENGTH"
          ? new GatewayError("not_found", `Invalid URL (${where})`, { reason: "unknown_url" })
          : new GatewayError("invalid_request", `Invalid URL (${where}): it does not percent-decode`);
      const rendered = dialectFor(request).renderError(error, request.id);
      const answer = reply as FastifyReply;
      if (rendered.headers) answer.headers(rendered.headers);
      answer.code(rendered.status).send(rendered.body);
    },
  });

  const routes: MountedRoute[] = [];
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) routes.push({ method, url: route.url });
  });

  // Bodies are JSON only (415 otherwise) and no deeper than MAX_JSON_DEPTH (400 before parsing).
  // Large bodies are decoded as they arrive and parsed in turns of their own (json-body-parser.ts).
  registerJsonBody(app, config.server);
  // An answer sent before its body arrived (413, 415, 401) reaches clients that write the whole body first.
  registerLingeringClose(app, lingerLimits(config.server.bodyLimit, config.server.bodyTimeoutMs));
  const frontDoor = new FrontDoor({
    host: config.server.host,
    allowedHosts: config.server.allowedHosts,
    origins: config.server.cors.origins,
  });

  // A callback hook, not an async one: every request passes here, and a promise per request costs it.
  app.addHook("onRequest", (request, reply, done) => {
    const record = requestRecord(request);
    const dialect = dialectFor(request);
    record.dialect = dialect.name;
    // On the raw response, so that a stream's own head (written there) has it too.
    if (dialect.requestIdHeader !== undefined) reply.raw.setHeader(dialect.requestIdHeader, request.id);
    record.shutdown = drain.signal;
    drain.track(reply.raw);
    if (store?.logContent) record.content = {};
    reply.raw.once("close", () => {
      // The client left before the whole answer was written (its status line, if sent, said 200):
      // logged as nginx's 499, client closed request, not as answered.
      // writableEnded, not writableFinished: an injected request's (the WebSocket mode's turns) never finishes.
      if (reply.raw.writableEnded) return finishRequest(request, reply.raw.statusCode);
      record.streamError ??= new GatewayError("canceled", "The client closed the request before its answer was written.");
      finishRequest(request, 499);
    });
    // A request that arrives once the shutdown has begun (on a keep-alive connection) is refused in
    // its client's dialect, and its connection closed, so the client tries again elsewhere or later.
    if (drain.draining) {
      reply.header("connection", "close");
      return done(shuttingDownError());
    }
    // Host and Origin first, before the key: a refused page learns nothing, not even whether a key is needed.
    const admission = frontDoor.admit(request, reply);
    if (admission === ANSWERED) return;
    if (admission !== undefined) return done(admission);
    if (hasBody(request)) record.bodyTimer = watchBody(request, config.server.bodyTimeoutMs);
    // The console's page and assets hold no data: the page asks for the key its own calls need.
    if (request.url === "/health" || isPublicConsoleRequest(request.method, request.url) || auth.allows(request.headers)) {
      return done();
    }
    done(missingKey());
  });
  // CONNECT never reaches Fastify: Node hands it to this listener, and without one closes the connection unanswered.
  app.server.on("connect", answerConnect);
  // The Responses API's WebSocket mode: its upgrade passes the same checks, its turns are POST /v1/responses.
  const loopback = new ServerLoopback(app, { stopping: drain.stopping });
  attachResponsesSocket(app, loopback, {
    refusal: (headers) => frontDoor.refusal(headers) ?? (auth.allows(headers) ? undefined : missingKey()),
    renderError: (error) => dialectFor({ url: "/v1/responses", headers: {} }).renderError(error, makeId("req_")),
    maxMessageBytes: config.server.bodyLimit,
    logger,
  });

  function finishRequest(request: FastifyRequest, status: number): void {
    const record = requestRecord(request);
    record.bodyTimer?.clear();
    const ms = performance.now() - record.startedAt;
    const error = record.error ?? record.streamError;
    // A damaged store's own words (which file, what to do) are for whoever runs tandem: the client's
    // answer says only "see the server log". A passing one (a full disk) the store reports itself.
    if (isStoreFailure(error?.cause) && !error.cause.transient) {
      logger.error({ requestId: request.id, err: loggableError(error.cause) }, "the encrypted store failed");
    }
    const labels = {
      dialect: record.dialect,
      route: record.meta?.route ?? record.route ?? "",
      target: record.meta?.target ?? "",
      status: String(status),
    };
    metrics.requests.inc(labels);
    metrics.requestDuration.observe({ dialect: record.dialect, stream: String(record.stream ?? false) }, ms / 1000);
    const path = request.url.split("?", 1)[0] ?? "";
    // The console polls status and metrics every 2 s while open: its successful reads at debug only.
    const level = status < 400 && request.method === "GET" && isQuietRead(path) ? "debug" : "info";
    logger[level](
      {
        // The id the client was given (x-request-id, request-id, an error body's request_id): its report finds this line.
        requestId: request.id,
        startedBy: record.startedBy,
        method: request.method,
        path,
        status,
        dialect: record.dialect,
        model: record.model,
        route: record.meta?.route,
        target: record.meta?.target,
        attempts: record.meta?.attempts,
        degraded: record.meta?.degraded,
        stream: record.stream,
        ms: Math.round(ms * 10) / 10,
        firstEventMs: record.firstEventMs === undefined ? undefined : Math.round(record.firstEventMs * 10) / 10,
        inputTokens: record.usage?.inputTokens,
        outputTokens: record.usage?.outputTokens,
        // What was not carried to the target or back (x-tandem-warnings), every entry: the header is bounded.
        warnings: record.meta?.warnings,
        notices: record.meta?.notices,
        error: error ? { code: error.code, message: error.message } : undefined,
      },
      "request",
    );
    if (store && record.model !== undefined) {
      // Model requests only (not health checks or model lists); content only when logContent is on.
      store.logRequest({
        requestId: request.id,
        ...(record.meta?.route !== undefined && { route: record.meta.route }),
        ...(record.meta?.target !== undefined && { target: record.meta.target }),
        dialect: record.dialect,
        status,
        attempts: record.meta?.attempts ?? 0,
        ...(record.meta?.degraded !== undefined && { degraded: record.meta.degraded }),
        latencyMs: ms,
        ...(record.firstEventMs !== undefined && { ttftMs: record.firstEventMs }),
        ...(record.usage?.inputTokens !== undefined && { inputTokens: record.usage.inputTokens }),
        ...(record.usage?.outputTokens !== undefined && { outputTokens: record.usage.outputTokens }),
        ...(error && { errorCode: error.code }),
        ...(record.content && { content: record.content }),
      });
      // Its usage rows were added by each of its attempts as they ended (see addUsage).
    }
  }

  app.setErrorHandler((err, request, reply) => {
    // A Content-Type header Fastify cannot even parse never reaches registerJsonBody's parsers.
    const error =
      (err as { code?: string }).code === "FST_ERR_CTP_INVALID_MEDIA_TYPE"
        ? unsupportedMediaType(request)
        : endedByShutdown(request)
          ? // Its client is still waiting (one that left has a destroyed response): told why, not 499.
            shuttingDownError()
          : toGatewayError(err);
    requestRecord(request).error = error;
    // Cleaned: what an internal error wraps may quote an upstream's text or a path.
    if (error.code === "internal") logger.error({ requestId: request.id, err: loggableError(err) }, "internal error");
    const rendered = renderRequestError(
      request,
      error.code === "internal" ? new GatewayError("internal", "Internal error in tandem (see the server log)") : error,
    );
    if (reply.sent || reply.raw.headersSent) return;
    // What the router knows of it (its route, last target, attempts): the headers and the metrics' labels.
    const meta = errorMetaOf(error);
    if (meta !== undefined) {
      reply.headers(errorMetaHeaders(meta));
      requestRecord(request).meta ??= {
        route: meta.route,
        target: meta.target ?? "",
        attempts: meta.attempts,
        degraded: undefined,
      };
    }
    if (error.retryAfterMs !== undefined) reply.header("retry-after", String(Math.max(1, Math.ceil(error.retryAfterMs / 1000))));
    if (error.reason === UNSUPPORTED_CONTENT_ENCODING) reply.header("accept-encoding", ACCEPTED_CODINGS);
    if (rendered.headers) reply.headers(rendered.headers);
    reply.code(rendered.status).send(rendered.body);
  });

  app.setNotFoundHandler((request, reply) => {
    // OpenAI's own answer to a path it does not serve; never `model_not_found`, which sends users
    // looking for a model when the URL is what is wrong.
    const error = new GatewayError("not_found", `Invalid URL (${request.method} ${request.url.split("?")[0]})`, {
      reason: "unknown_url",
    });
    requestRecord(request).error = error;
    const rendered = renderRequestError(request, error);
    if (rendered.headers) reply.headers(rendered.headers);
    reply.code(rendered.status).send(rendered.body);
  });

  mountConsole(app, ConsoleBundle.load(options.consoleDir ?? defaultConsoleDir()));
  app.get("/health", async () => ({ status: "ok" }));
  app.get("/ready", async (_request, reply) => {
    const usability = await catalog.usability();
    const usable = [...usability].filter(([, u]) => u.usable).map(([name]) => name);
    if (usable.length === 0) {
      // Each provider's reason (no key resolves, no model file), or that there is none at all.
      const why = [...usability].map(([name, u]) => (u.usable ? name : `${name}: ${u.reason}`)).join("; ");
      return reply.code(503).send({
        status: "not_ready",
        reason:
          usability.size === 0
            ? "no usable provider is configured (see the README: Configuration)"
            : `no provider is usable: ${why}`,
      });
    }
    return { status: "ready", providers: usable };
  });
  app.get("/v1/status", async () =>
    statusSnapshot({
      catalog,
      usability: await catalog.usability(),
      stats,
      health,
      breakerState: (t) => router.breakerState(t),
      startedAt,
      offlineSince: router.offlineSince,
      ...(ownToolHost !== undefined && { mcp: () => ownToolHost.status() }),
    }),
  );
  app.get("/v1/audit", async (request) => {
    if (!store) {
      throw new GatewayError(
        "unavailable",
        "The egress audit is off: the encrypted store is disabled (store.enabled: false) or could not be opened",
        { retryable: false },
      );
    }
    const query = parseAuditQuery(request.query as Record<string, unknown>);
    const limit = query.limit ?? DEFAULT_AUDIT_LIMIT;
    // Rows waiting for their batch are part of the answer (queryAudit commits them first).
    let rows: Awaited<ReturnType<BackgroundStore["queryAudit"]>>;
    try {
      // One row more than asked says whether there is a next page.
      rows = await store.queryAudit({ ...query, limit: limit + 1 });
    } catch (err) {
      // A damaged or failing store is a 503 that says so, never a 500; the file's path stays in the log.
      logger.error({ err }, "the egress audit could not be read");
      const code = (err as { code?: unknown }).code;
      throw new GatewayError(
        "unavailable",
        `The egress audit cannot be read right now: the encrypted store failed${typeof code === "string" ? ` (${code})` : ""}; see the server log`,
        { retryable: false },
      );
    }
    const page = rows.slice(0, limit);
    return {
      object: "list",
      data: page.map((row) => ({ ...row, time: row.time.toISOString() })),
      // As OpenAI's lists page: pass last_id as `after` for the next (older) page.
      first_id: page[0]?.id ?? null,
      last_id: page.at(-1)?.id ?? null,
      has_more: rows.length > limit,
    };
  });
  app.get("/metrics", async (_request, reply) => {
    reply.header("content-type", metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  // The MCP servers of config.mcp (and those a request names by URL), unless a test brings its own host.
  const ownToolHost =
    options.toolHost === undefined
      ? new McpToolHost(config.mcp, {
          log: logger.child({ component: "mcp" }),
          // Out of every sandboxed server's reach, whatever paths its sandbox is given.
          dataDir: config.dataDir,
          ...(options.env !== undefined && { env: options.env }),
          ...(store && { keySources: { store } }),
          maxAnswerBytes: config.limits.maxAnswerBytes,
          // A request's server_url may reach this machine and private networks only when no client is elsewhere.
          clientsAreLocal:
            isLoopbackName(config.server.host.replace(/^\[|\]$/g, "").toLowerCase()) && config.server.allowedHosts.length === 0,
        })
      : undefined;
  /** How sensitive a text is by the privacy settings' detectors (a tool call's, a memory's). */
  const classifyText = (text: string) =>
    classifyRequest(
      { model: "", stream: false, messages: [{ role: "user", content: [{ type: "text", text }] }] },
      detectorFor(config.privacy),
    ).level;
  const memories = new Memories({
    store: options.memory ?? (store ? new EncryptedMemoryStore(store) : new InProcessMemoryStore()),
    classify: classifyText,
    maxChars: config.memory.maxChars,
    ...(config.memory.embeddings !== undefined && {
      embedder: new MemoryEmbedder(
        router,
        config.memory.embeddings,
        targetIsLocal(catalog, config.memory.embeddings),
        (skipped) =>
          // Why, never what: a memory's text stays out of the log.
          logger.warn({ component: "memory", model: config.memory.embeddings, ...skipped }, "memory embedding not made"),
      ),
    }),
  });
  registerMemoryRoutes(app, memories);
  // tandem's own memory tools beside the MCP servers' (configured, or named by a request's URL).
  const toolHost = new ToolHostByLabel(
    new Map([[MEMORY_TOOLS_LABEL, new MemoryToolHost(memories)]]),
    options.toolHost ?? (ownToolHost as McpToolHost),
  );
  // PDFs' text, on a thread of its own (started at the first PDF).
  const pdf = new PdfTextReader();
  const fileStore = options.files ?? (store ? new EncryptedFileStore(store) : new MemoryFileStore());
  const vectorStoreEmbeddings = config.vectorStores.embeddings ?? config.memory.embeddings;
  const vectorStores = new VectorStoreLibrary({
    store: options.vectorStores ?? (store ? new EncryptedVectorStoreStore(store) : new MemoryVectorStoreStore()),
    files: fileStore,
    documentText: pdf.text,
    classify: classifyText,
    limits: config.vectorStores,
    ...(vectorStoreEmbeddings !== undefined && {
      embedder: new MemoryEmbedder(router, vectorStoreEmbeddings, targetIsLocal(catalog, vectorStoreEmbeddings), (skipped) =>
        // Why, never what: a chunk's text stays out of the log.
        logger.warn({ component: "vector-stores", model: vectorStoreEmbeddings, ...skipped }, "chunk embedding not made"),
      ),
    }),
    onIngestFailed: (report) => logger.warn({ component: "vector-stores", ...report }, "vector store file not ingested"),
  });
  // Ingestions a stop or a crash left unfinished start again (in the background).
  await vectorStores.start();
  const loop = new ToolLoop(toolHost, {
    // A call to a server that is not on this machine is egress: audited as a cloud request is.
    ...(store && { audit: (record) => store.auditEgress(record) }),
    // For a call to a remote server when no turn was classified (every target local).
    classify: classifyText,
    // A Responses request's file_search tool searches these.
    vectorStores,
  });
  // Batches: each line a request through this server (its loopback), a few at a time.
  const batches = new BatchRunner({
    store: options.batches ?? (store ? new EncryptedBatchStore(store) : new MemoryBatchStore()),
    files: fileStore,
    dispatch: batchDispatch(loopback.from(), options.clientKeys),
    concurrency: config.batches.concurrency,
    maxRequests: config.batches.maxRequests,
    ...(options.batchWindowSeconds !== undefined && { windowSeconds: options.batchWindowSeconds }),
    // Why, never what: a line's text stays out of the log.
    onError: ({ batchId, error }) =>
      logger.warn({ component: "batches", batchId, err: loggableError(error) }, "batch work stopped; it is tried again shortly"),
  });
  const services = {
    batches,
    state: options.state ?? (store ? new EncryptedStateStore(store) : new MemoryStateStore()),
    hostedTools: loop,
    // Background responses: turns that outlive the request that started them, run through this server.
    loopback: loopback.from(),
    files: {
      store: fileStore,
      maxBytes: config.files.maxBytes,
      documentText: pdf.text,
    },
    chatCompletions: options.chatCompletions ?? chatCompletionStore(store, config),
    vectorStores,
    classifyText,
  };
  // A route's tools (`tools: ["mcp:<server>"]`) are run for its clients on every wire.
  // (With no route naming tools, the router itself: nothing is looked up per request.)
  const anyRouteTools = Object.values(config.routes).some((route) => routeToolsOf(route).length > 0);
  const toolsGateway = anyRouteTools ? new RouteToolsGateway(router, loop, (model) => routeTools(catalog, model)) : router;
  // A route with `memory: on` gets the memories relevant to each request (outside the tool loop: recalled once per request).
  const anyRouteMemory = Object.values(config.routes).some((route) => route.memory !== undefined);
  const gateway = anyRouteMemory
    ? new MemoryRecallGateway(
        toolsGateway,
        memories,
        (model) => recallSettings(catalog, config, model),
        (report) => logger.debug({ component: "memory", ...report }, "memories recalled"),
      )
    : toolsGateway;
  mountDialects(app, DIALECTS, gateway, services);
  // tandem as an MCP server: its models (through the same gateway) and the user's memories, at /mcp.
  registerMcpRoute(app, {
    logger,
    gateway,
    memories,
    version: VERSION,
    isLocal: (target) => targetIsLocal(catalog, target),
    askModelRunsTools: anyRouteTools,
  });
  health.start();

  /** Once, however many ask (a forced stop during a graceful one). */
  let closed: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closed ??= (async () => {
      health.stop();
      // Before the app: lines running are left unfinished (run again at the next start), not cancelled.
      await batches.close();
      await app.close();
      await vectorStores.close();
      await ownToolHost?.close();
      await pdf.close();
      await catalog.close();
      await store?.close();
    })());

  return {
    app,
    routes,
    catalog,
    metrics,
    health,
    store,
    state: services.state,
    memories,
    files: services.files.store,
    vectorStores,
    batches,
    async shutdown(graceMs) {
      // Refusing starts at once, before the batches stop (their running lines are left unfinished,
      // run again at the next start, as on a close).
      const drained = drain.drain(app.server, graceMs);
      await batches.close();
      await drained;
      await close();
    },
    async forceClose() {
      drain.abort();
      await close();
    },
    close,
  };
}

/** The tools of the route a model name resolves to; none for a target or an unknown name (the router answers that). */
function routeTools(catalog: Catalog, model: string): readonly string[] | undefined {
  try {
    const resolved = catalog.resolve(model);
    return resolved.kind === "route" ? routeToolsOf(resolved.route) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads a console (or a dashboard) repeats: status, metrics, the audit, and the console's own files. */
function isQuietRead(path: string): boolean {
  return path === "/v1/status" || path === "/metrics" || path === "/v1/audit" || isPublicConsoleRequest("GET", path);
}

/** A route's `tools`, and tandem's memory tools when it has memory on (unless its `memory.tools` is false). */
function routeToolsOf(route: RouteConfig): string[] {
  const memory = route.memory !== undefined && route.memory.tools !== false ? [`mcp:${MEMORY_TOOLS_LABEL}`] : [];
  return [...(route.tools ?? []), ...memory];
}

/** Where stored chat completions live: the encrypted store's table, else this process's memory; kept as `state.chatCompletions` says. */
function chatCompletionStore(store: BackgroundStore | undefined, config: Config): ChatCompletionStore {
  const retention = { days: config.state.chatCompletions.retentionDays, maxCount: config.state.chatCompletions.maxCount };
  return store ? new EncryptedChatCompletionStore(store, retention) : new MemoryChatCompletionStore(retention);
}

/** How the route a model name resolves to recalls memories; undefined for a route without memory, a target or an unknown name. */
function recallSettings(catalog: Catalog, config: Config, model: string): RecallSettings | undefined {
  try {
    const resolved = catalog.resolve(model);
    if (resolved.kind !== "route" || resolved.route.memory === undefined) return undefined;
    const memory = resolved.route.memory;
    return {
      recall: memory.recall ?? config.memory.recall,
      minScore: memory.minScore ?? config.memory.minScore,
      sensitivity: resolved.route.sensitivity,
    };
  } catch {
    return undefined;
  }
}

/** Whether `provider/model` runs on this machine (an unknown provider counts as not: private text is not offered to it). */
function targetIsLocal(catalog: Catalog, target: string): boolean {
  return catalog.slots.get(target.slice(0, target.indexOf("/")))?.local ?? false;
}

/** Whether a request comes with a body (its time to arrive is then bounded). */
function hasBody(request: FastifyRequest): boolean {
  const headers = request.headers;
  const length = headers["content-length"];
  return (length !== undefined && length !== "0") || headers["transfer-encoding"] !== undefined;
}

/**
 * Bounds the time a request's body takes to arrive (`server.bodyTimeoutMs`): when it has not ended
 * by then, the body's stream fails with a 408 that Fastify's body reader hands to the error handler
 * (so the client gets it in its dialect's shape, with `connection: close`) and what was buffered is
 * dropped. Cleared when the body ends, and when the response closes (a body never read, e.g. 401).
 */
function watchBody(request: FastifyRequest, ms: number): LoopTimeout {
  const raw = request.raw;
  // Time tandem's own event loop was held up is left out (LoopTimeout): a body that sat in the socket
  // unread meanwhile has arrived, and its client is not at fault.
  const timer = new LoopTimeout(() => {
    if (raw.readableEnded || raw.destroyed) return;
    const error = new GatewayError(
      "timeout",
      `The request body did not arrive within server.bodyTimeoutMs (${ms} ms); send it faster or raise the setting`,
      { status: 408, retryable: false },
    );
    // Only Fastify's body reader listens for errors; with no reader, emitting one would throw.
    if (raw.listenerCount("error") > 0) raw.emit("error", error);
    else raw.destroy();
  }, ms);
  raw.once("end", () => timer.clear());
  return timer;
}

/** An error as the request's client reads one: JSON-RPC on /mcp, else in the client's dialect. */
function renderRequestError(request: FastifyRequest, error: GatewayError): ErrorRendering {
  return isMcpRequest(request.url) ? renderMcpError(error) : dialectFor(request).renderError(error, request.id);
}

/** Fastify's own errors (bad JSON, body too large, bad content type) become dialect errors, never 500s. */
function toGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    if (e.statusCode === 413) return new GatewayError("payload_too_large", `Request body is too large (${e.message ?? ""})`);
    if (e.statusCode === 415) return new GatewayError("unsupported_media_type", e.message ?? "Unsupported content type");
    return new GatewayError("invalid_request", `Invalid request body: ${e.message ?? "could not be parsed as JSON"}`);
  }
  if (err instanceof SyntaxError) return new GatewayError("invalid_request", `Invalid JSON in request body: ${err.message}`);
  return answerErrorFrom(err);
}

function missingKey(): GatewayError {
  return new GatewayError(
    "authentication",
    "Invalid or missing API key: send 'Authorization: Bearer <key>' or 'x-api-key: <key>'",
  );
}
