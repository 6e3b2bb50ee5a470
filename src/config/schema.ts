import { z } from "zod";
import { parseKeyRef } from "../secrets/index.js";

/** `env:NAME`, `keychain:NAME` or `store:NAME`: literal keys never go in a config file. */
const keyRef = z.string().refine((s) => parseKeyRef(s) !== undefined, {
  message: "expected a key reference 'env:NAME', 'keychain:NAME' or 'store:NAME' (never a literal key)",
});

const providerName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "expected a provider name of letters, digits, '_', '.', '-' (no '/')");

/** A remote model: the alias clients use maps to the upstream's id (default: the alias itself). */
const remoteModel = z.object({
  /** The upstream's model id. Default: the model's key in `models`. */
  id: z.string().min(1).optional(),
  /** Context window in tokens, when known (used to fit conversations). */
  contextWindow: z.number().int().positive().optional(),
  /** US dollars per million tokens, for the store's cost per target. Default: unknown (no cost recorded). */
  price: z.object({ input: z.number().min(0), output: z.number().min(0) }).optional(),
});

/** `models` as a map `{alias: {id?, contextWindow?}}` or a plain list of upstream ids. */
const remoteModels = z
  .union([z.array(z.string().min(1)), z.record(z.string().min(1), remoteModel.nullable())])
  .transform((value): Record<string, z.infer<typeof remoteModel>> => {
    if (Array.isArray(value)) return Object.fromEntries(value.map((id) => [id, {}]));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v ?? {}]));
  });

const remoteCommon = {
  /** API keys, tried in order: `env:NAME`, `keychain:NAME`, `store:NAME`. Default: none. */
  apiKeys: z.array(keyRef).default([]),
  /** Extra headers sent upstream (e.g. OpenRouter's HTTP-Referer). Default: none. */
  headers: z.record(z.string(), z.string()).default({}),
  /** Models offered. Default: discovered from the upstream's model list. */
  models: remoteModels.optional(),
  /** Milliseconds to establish a connection. Default 10000. */
  connectTimeoutMs: z.number().int().positive().default(10_000),
  /**
   * Whether this upstream runs on this machine (local-only routing, `x-tandem-prefer: local`, network
   * loss). Default: true for a loopback address, false otherwise (a tunnel to a remote API says false).
   */
  local: z.boolean().optional(),
};

const openaiProvider = z.object({
  kind: z.literal("openai"),
  /** Any OpenAI-compatible API, up to and including /v1. Default https://api.openai.com/v1. */
  baseUrl: z.url().default("https://api.openai.com/v1"),
  /**
   * Whether the upstream also speaks OpenAI's Responses API (`POST /responses`): requests on
   * tandem's /v1/responses then reach it as Responses requests (every field kept, reasoning items
   * with their encrypted content, `store: false` and the history tandem holds) instead of as chat
   * completions. Default: true when the base URL's host is api.openai.com, else false.
   */
  responses: z.boolean().optional(),
  ...remoteCommon,
});

const anthropicProvider = z.object({
  kind: z.literal("anthropic"),
  /** Default https://api.anthropic.com. */
  baseUrl: z.url().default("https://api.anthropic.com"),
  /** The anthropic-version header. Default 2023-06-01. */
  anthropicVersion: z.string().default("2023-06-01"),
  /** max_tokens sent when the client gave none (Anthropic requires one). Default 4096. */
  defaultMaxTokens: z.number().int().positive().default(4096),
  ...remoteCommon,
});

const ollamaProvider = z.object({
  kind: z.literal("ollama"),
  /** Default http://127.0.0.1:11434. */
  baseUrl: z.url().default("http://127.0.0.1:11434"),
  ...remoteCommon,
});

const gpuLayers = z.union([z.literal("auto"), z.literal("max"), z.number().int().min(0)]);

const localModel = z.object({
  /** GGUF file, absolute or relative to `dataDir`. */
  path: z.string().min(1),
  /** Context size in tokens per request. Default: the model's own, at most 8192. */
  contextSize: z.number().int().positive().optional(),
  /** Requests this model serves at once (one context sequence each). Default: the provider's `parallel`. */
  parallel: z.number().int().min(1).max(64).optional(),
  /** Layers offloaded to the GPU: "auto" (fit to free VRAM), "max", or a count (0: CPU only). Default: the provider's `gpuLayers`. */
  gpuLayers: gpuLayers.optional(),
});

const llamacppProvider = z.object({
  kind: z.literal("llamacpp"),
  /**
   * CPU threads per model. Default: llama.cpp's own choice, the cores useful for math (physical
   * performance cores, as Ollama picks), at most the CPUs the process may use.
   */
  threads: z.number().int().positive().optional(),
  /**
   * GPU backend: "auto" takes the best one with a working binary (Metal on Apple silicon; CUDA or
   * Vulkan once `tandem gpu install` has added its binaries), else the CPU; false forces the CPU. A
   * backend that fails to start falls back to the CPU, with the reason in `tandem status`. Default "auto".
   */
  gpu: z.union([z.literal(false), z.enum(["auto", "metal", "cuda", "vulkan"])]).default("auto"),
  /** Layers offloaded to the GPU per model: "auto" (fit to free VRAM), "max", or a count. Default "auto". */
  gpuLayers: gpuLayers.default("auto"),
  /** Requests one model serves at once. Default 2. */
  parallel: z.number().int().min(1).max(64).default(2),
  /** Requests that may wait for a busy model; more are refused (the router sends them elsewhere). Default 16. */
  maxQueue: z.number().int().min(0).default(16),
  /** How long an unused model stays loaded, in ms; 0 unloads at once, -1 never. Default 900000 (15 min). */
  keepAliveMs: z.number().int().min(-1).default(900_000),
  /** A generation that sends nothing for this long is taken for hung: the engine is killed and restarted. Default 120000. */
  hangTimeoutMs: z.number().int().positive().default(120_000),
  /** Models by name (`local/<name>`). Default: every GGUF file in `<dataDir>/models`. */
  models: z.record(z.string().min(1), localModel).default({}),
});

export const providerSchema = z.discriminatedUnion("kind", [openaiProvider, anthropicProvider, ollamaProvider, llamacppProvider]);

const privacyPolicy = z.enum(["local-only", "redact", "allow"]);

/** A tier is one target or several balanced targets. */
const tier = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((t) => (Array.isArray(t) ? t : [t]));

export const routeSchema = z.object({
  /** Ordered tiers: the first is preferred, later ones are fallbacks. */
  tiers: z.array(tier).min(1),
  /** Retries per target. Default: 2 attempts, 100 ms base, 2000 ms cap. */
  retry: z
    .object({
      attempts: z.number().int().min(1).max(10).default(2),
      baseMs: z.number().int().min(0).default(100),
      maxMs: z.number().int().min(0).default(2000),
    })
    .default({ attempts: 2, baseMs: 100, maxMs: 2000 }),
  /** Default: connect 2 s, first token 10 s, idle 15 s, total 120 s. */
  timeouts: z
    .object({
      connectMs: z.number().int().positive().default(2000),
      firstTokenMs: z.number().int().positive().default(10_000),
      idleMs: z.number().int().positive().default(15_000),
      totalMs: z.number().int().positive().default(120_000),
      /** A stream alive but crawling below this many events (about tokens) per second is abandoned. Default 0 (off). */
      minTokensPerSecond: z.number().min(0).default(0),
      /** The window the throughput floor is measured over, after the first token. Default 5000. */
      throughputWindowMs: z.number().int().positive().default(5000),
      /**
       * Adapt each target's first-token limit to what it has shown: `multiplier` x its p95 time to
       * first token over recent answers (at least `minMs`, at most `firstTokenMs`). Off unless set.
       */
      adaptiveFirstToken: z
        .object({ multiplier: z.number().min(1).default(3), minMs: z.number().int().positive().default(1000) })
        .optional(),
    })
    .default({
      connectMs: 2000,
      firstTokenMs: 10_000,
      idleMs: 15_000,
      totalMs: 120_000,
      minTokensPerSecond: 0,
      throughputWindowMs: 5000,
    }),
  /** Checks on each answer; a failed one counts as the target's failure (retry, fail over). Default: all on. */
  quality: z
    .object({
      /** No text and no tool call. */
      emptyOutput: z.boolean().default(true),
      /** A degenerate loop: the output's tail is one short phrase repeated (8+ times, 200+ characters). */
      repetition: z.boolean().default(true),
      /** JSON mode: the answer parses (and matches the schema, when one was given). Checked before a non-streamed answer is sent. */
      json: z.boolean().default(true),
      /** Tool-call arguments are a JSON object (calls are then streamed whole, once checked). */
      toolArguments: z.boolean().default(true),
    })
    .default({ emptyOutput: true, repetition: true, json: true, toolArguments: true }),
  /**
   * Hedging (off unless set): when the first target has not produced a first token after `afterMs`
   * (default: twice its observed time to first token, 50-5000 ms, or 1000 ms before it has one), the
   * next target is started too; the first to produce a token answers and the other is cancelled.
   */
  hedge: z.object({ afterMs: z.number().int().positive().optional() }).optional(),
  /**
   * Stream from the upstream even when the client does not. Default true: the first-token and idle
   * limits then watch every request, so a stalled upstream is left for the next tier in seconds.
   * false: a client that does not stream gets a whole upstream answer, as other gateways do (less
   * work per request), and a stall is only noticed when `timeouts.totalMs` passes, too late to fail
   * over. A route with `hedge` always streams (a hedge starts on a late first token).
   */
  streamUpstream: z.boolean().default(true),
  /** What the client gets when every tier failed. Default: error. */
  onExhausted: z.enum(["error", "notice"]).default("error"),
  /**
   * Where this route's private data may go: `local-only` (never to a cloud target), `redact` (to a
   * cloud target only with detected values replaced by placeholders, restored in the answer), or
   * `allow`. Applies to private requests, and to internal ones when set. Default: unset (private
   * requests then follow `privacy.default`, internal ones are allowed).
   */
  privacy: privacyPolicy.optional(),
  /**
   * The sensitivity of every request on this route, instead of detecting it (the client's
   * x-tandem-sensitivity header still wins). Default: unset (detected per request).
   */
  sensitivity: z.enum(["public", "internal", "private"]).optional(),
  /** Whether an image makes a request on this route private. Default: `privacy.imagesArePrivate`. */
  imagesArePrivate: z.boolean().optional(),
});

const customPattern = z.object({
  /** The finding kind, e.g. `employee_id`; also names its placeholder (`[EMPLOYEE_ID_1]`). */
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, "expected a name of letters, digits and '_'"),
  /** A JavaScript regular expression, without slashes or flags. */
  regex: z.string().min(1),
  /** Match case-insensitively. Default false. */
  ignoreCase: z.boolean().optional(),
  /** How sensitive a match makes the request. Default private. */
  level: z.enum(["internal", "private"]).optional(),
});

const keywordList = z.object({
  /** Words and phrases, matched case-insensitively as whole words. */
  words: z.array(z.string().min(1)).min(1),
  /** The finding kind. Default `keyword`. */
  name: z
    .string()
    .regex(/^[A-Za-z][A-Za-z0-9_]*$/, "expected a name of letters, digits and '_'")
    .optional(),
  /** How sensitive a match makes the request. Default internal. */
  level: z.enum(["internal", "private"]).optional(),
});

const BUILTIN_KIND = z.enum(["email", "phone", "payment_card", "iban", "ssn", "ip_address", "secret", "token"]);

export const configSchema = z.object({
  server: z
    .object({
      /** Bind address. Default 127.0.0.1. */
      host: z.string().min(1).default("127.0.0.1"),
      /** Default 1337. */
      port: z.number().int().min(0).max(65535).default(1337),
      /** Client keys (references). Required when host is not loopback. Default: none. */
      apiKeys: z.array(keyRef).default([]),
      /** Largest request body in bytes. Default 33554432 (32 MiB: room for a few base64 images). */
      bodyLimit: z
        .number()
        .int()
        .positive()
        .default(32 * 1024 * 1024),
      /**
       * Host names tandem answers besides loopback ones (localhost, *.localhost, 127.0.0.0/8, [::1]) and
       * the bound address: e.g. the name a reverse proxy forwards as `Host`. An entry matches with or
       * without a port (`proxy.lan` any port, `proxy.lan:8080` that one); `*.example.com` matches its
       * subdomains; `*` turns the DNS-rebinding check off. Any other Host gets 403. Also
       * TANDEM_ALLOWED_HOSTS (comma-separated, replaces this list). Default: none.
       */
      allowedHosts: z.array(z.string().min(1)).default([]),
      /** Browser access (CORS). */
      cors: z
        .object({
          /**
           * Web origins allowed to call tandem besides pages served from this machine (http(s) on
           * loopback names and addresses, any port): exact (`https://app.example.com`), with `*`
           * wildcards (`chrome-extension://*`, `app://*`, `https://*.example.com`), a lone `*` for any
           * origin, `null` for pages whose origin is opaque. A request from any other origin gets 403.
           * Also TANDEM_ORIGINS (comma-separated, like OLLAMA_ORIGINS; replaces this list). Default: none.
           */
          origins: z.array(z.string().min(1)).default([]),
        })
        .default({ origins: [] }),
      /**
       * Milliseconds a client has to send its whole request body, from its headers on; a client that
       * stalls mid-body gets 408 and its connection is closed, so a half-sent body is not held. 30 s
       * takes a full `bodyLimit` body over a link of about 9 Mbit/s; answers are never cut for time
       * (the routes' timeouts own those). Default 30000.
       */
      bodyTimeoutMs: z.number().int().positive().default(30_000),
    })
    .default({
      host: "127.0.0.1",
      port: 1337,
      apiKeys: [],
      bodyLimit: 32 * 1024 * 1024,
      bodyTimeoutMs: 30_000,
      allowedHosts: [],
      cors: { origins: [] },
    }),
  /** Hard limits on what tandem holds in memory for one answer; each error names the setting it hit. */
  limits: z
    .object({
      /**
       * The largest answer tandem gathers whole: an upstream's non-streamed JSON answer (bytes), and
       * the text plus tool-call arguments of an answer assembled for a client that did not stream (or
       * kept for a mid-stream continuation; counted in characters, never more than its UTF-8 bytes).
       * Past it the upstream's read stops at once and the attempt fails with a 502 naming this
       * setting. No model writes answers near this size (a 128k-token answer is about 0.5 MB), and it
       * matches `server.bodyLimit`, so an answer may be as large as a request. Default 33554432 (32 MiB).
       */
      maxAnswerBytes: z
        .number()
        .int()
        .positive()
        .default(32 * 1024 * 1024),
      /**
       * The longest line (SSE: event) of an upstream's stream, SSE or NDJSON, in characters (bytes for
       * the ASCII of JSON and base64). Past it the read stops and the attempt fails with a 502 naming
       * this setting. A text delta is a few bytes, but one delta can carry a whole base64 image
       * (about 2-6 MB for a generated 1024x1024 PNG), so it leaves room for that. Default 8388608 (8 MiB).
       */
      maxLineBytes: z
        .number()
        .int()
        .positive()
        .default(8 * 1024 * 1024),
    })
    .default({ maxAnswerBytes: 32 * 1024 * 1024, maxLineBytes: 8 * 1024 * 1024 }),
  /** Store, models and logs. Default: $XDG_DATA_HOME/tandem or ~/.local/share/tandem. */
  dataDir: z.string().min(1).optional(),
  log: z
    .object({
      /** pino level. Default info. */
      level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    })
    .default({ level: "info" }),
  /** Active health checks: each provider's cheap probe (its model list) on an interval. */
  health: z
    .object({
      /** Milliseconds between probes; 0 turns active checks off. Default 30000. */
      probeIntervalMs: z.number().int().min(0).default(30_000),
      /** A probe that takes longer fails. Default 5000. */
      probeTimeoutMs: z.number().int().positive().default(5000),
    })
    .default({ probeIntervalMs: 30_000, probeTimeoutMs: 5000 }),
  /** Circuit breakers, one per target. */
  breaker: z
    .object({
      /** Consecutive failures that open a target's breaker. Default 5. */
      failureThreshold: z.number().int().positive().default(5),
      /** How long an open breaker skips its target before one trial request. Default 30000. */
      cooldownMs: z.number().int().positive().default(30_000),
    })
    .default({ failureThreshold: 5, cooldownMs: 30_000 }),
  /** What counts as private data and where it may go (see routes' `privacy` and `sensitivity`). */
  privacy: z
    .object({
      /**
       * The policy for private requests on routes without a `privacy` setting, and on requests that
       * name a target directly. Default local-only: private data never leaves the machine unless allowed.
       */
      default: privacyPolicy.default("local-only"),
      /** Whether an image makes a request private (its content cannot be inspected). Default true. */
      imagesArePrivate: z.boolean().default(true),
      /** Your own patterns, e.g. employee or customer ids. Default none. */
      patterns: z.array(customPattern).default([]),
      /** Your own keywords (code names, client names). Default none. */
      keywords: z.array(keywordList).default([]),
      /** Built-in detectors to turn off, e.g. [ip_address] for a team that pastes logs. Default none. */
      disabled: z.array(BUILTIN_KIND).default([]),
    })
    .default({ default: "local-only", imagesArePrivate: true, patterns: [], keywords: [], disabled: [] }),
  /** The encrypted local store (request log, egress audit, usage) in `<dataDir>/tandem.db`. */
  store: z
    .object({
      /** Default true. Off: nothing is written (and `GET /v1/audit` answers 503). */
      enabled: z.boolean().default(true),
      /** Keep request and response content in the request log (encrypted). Default false: metadata only. */
      logContent: z.boolean().default(false),
      /** Days logged content is kept. Default 7. */
      retentionDays: z.number().int().positive().default(7),
      /** Days request log and egress audit rows are kept. Default 365. */
      logRetentionDays: z.number().int().positive().default(365),
      /**
       * What a committed row (an egress-audit row, a stored response) survives: `crash` — a crash or
       * kill -9 of tandem (SQLite WAL with synchronous=NORMAL: no fsync per commit) — or `power` —
       * also a power cut or an OS crash (an fsync per commit: 1-2 ms more before every cloud request,
       * since its audit row is committed first). Default crash.
       */
      durability: z.enum(["crash", "power"]).default("crash"),
    })
    .default({ enabled: true, logContent: false, retentionDays: 7, logRetentionDays: 365, durability: "crash" }),
  /**
   * Stored responses and conversations (the Responses and Conversations APIs). They live in the
   * encrypted store; with `store.enabled: false`, in the server's memory only, lost at exit.
   */
  state: z
    .object({
      /**
       * Days a stored response (since it was created) and a conversation (since it last changed) are
       * kept before the store's pruning job deletes them with their items. Default: kept until deleted.
       */
      retentionDays: z.number().int().positive().optional(),
    })
    .default({}),
  providers: z.record(providerName, providerSchema).default({}),
  routes: z.record(z.string().regex(/^[^/\s]+$/, "expected a route name without '/' or spaces"), routeSchema).default({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema> & { dataDir: string };
export type ProviderConfig = z.output<typeof providerSchema>;
export type RemoteProviderConfig = Exclude<ProviderConfig, { kind: "llamacpp" }>;
export type RouteConfig = z.output<typeof routeSchema>;
