import { isIP } from "node:net";
import { z } from "zod";
import { MAX_TIMER_MS, TIMER_MS_MESSAGE } from "../core/index.js";
import { providerConfigSchema } from "../providers/registry.js";
import { keyRefSchema } from "../secrets/index.js";
import { configErrorMap, issuePath } from "./unknown-key.js";

/**
 * Names of providers and routes, checked by hand rather than as a record's key schema, whose failure
 * zod reports only as "Invalid key in record". A `/` is refused with the reason: a model name with one
 * is read as a target, `<provider>/<model>`, split at its first `/`.
 */
function checkNames(slash: string, allowed: RegExp, expected: string) {
  return (entries: Record<string, unknown>, ctx: z.RefinementCtx): void => {
    for (const name of Object.keys(entries)) {
      if (name.includes("/")) {
        ctx.addIssue({ code: "custom", path: [name], message: slash });
      } else if (!allowed.test(name)) {
        ctx.addIssue({ code: "custom", path: [name], message: expected });
      }
    }
  };
}

const PROVIDER_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const ROUTE_NAME = /^\S+$/;

/** A host name: dot-separated labels of letters, digits, '-' and '_' (not at a label's ends but for '_'). */
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?$/;

/** The address to bind: an IP address or a host name, found wrong here rather than as a failed listen. */
const bindHost = z.string().superRefine((host, ctx) => {
  if (isIP(host) === 0 && !HOST_NAME.test(host)) {
    ctx.addIssue({ code: "custom", message: `expected an IP address (IPv6 without brackets) or a host name, got '${host}'` });
  }
});

/** One provider: its kind's config object, as the provider registry declares it (src/providers/<kind>/<kind>-kind.ts). */
export const providerSchema = providerConfigSchema;

const privacyPolicy = z.enum(["local-only", "redact", "allow"]);

/** A tier is one target or several balanced targets. */
const tier = z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).transform((t) => (Array.isArray(t) ? t : [t]));

export const routeSchema = z.strictObject({
  /** Ordered tiers: the first is preferred, later ones are fallbacks. */
  tiers: z.array(tier).min(1),
  /** Retries per target. Default: 2 attempts, 100 ms base, 2000 ms cap. */
  retry: z
    .strictObject({
      attempts: z.number().int().min(1).max(10).default(2),
      baseMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).min(0).default(100),
      maxMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).min(0).default(2000),
    })
    .default({ attempts: 2, baseMs: 100, maxMs: 2000 }),
  /** Default: connect 2 s, first token 10 s, idle 15 s, total 120 s. */
  timeouts: z
    .strictObject({
      connectMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).positive().default(2000),
      firstTokenMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).positive().default(10_000),
      idleMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).positive().default(15_000),
      totalMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).positive().default(120_000),
      /**
       * A stream alive but crawling below this many tokens of output per second (estimated from its
       * text's length, however many an upstream sends per event) is abandoned. Default 0 (off).
       */
      minTokensPerSecond: z.number().min(0).default(0),
      /** The window the throughput floor is measured over, after the first token. Default 5000. */
      throughputWindowMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).positive().default(5000),
      /**
       * Adapt each target's first-token limit to what it has shown: `multiplier` x its p95 time to
       * first token over recent answers (at least `minMs`, at most `firstTokenMs`). Off unless set.
       */
      adaptiveFirstToken: z
        .strictObject({
          multiplier: z.number().min(1).default(3),
          minMs: z.number().int().positive().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).default(1000),
        })
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
    .strictObject({
      /** No text and no tool call. */
      emptyOutput: z.boolean().default(true),
      /**
       * A degenerate loop: the output's tail is one short phrase repeated (8+ times, 200+ characters) at
       * its finish, or a loop runs on mid-answer (24+ times, 600+ characters).
       */
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
  hedge: z.strictObject({ afterMs: z.number().int().positive().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).optional() }).optional(),
  /**
   * Stream from the upstream even when the client does not. Default true: the first-token and idle
   * limits then watch every request, so a stalled upstream is left for the next tier in seconds.
   * false: a client that does not stream gets a whole upstream answer, as other gateways do (less
   * work per request), and a stall is only noticed when `timeouts.totalMs` passes, too late to fail
   * over. A route with `hedge` always streams (a hedge starts on a late first token).
   */
  streamUpstream: z.boolean().default(true),
  /**
   * A target or route (typically a local model, e.g. `local/qwen`) that summarizes the older turns of
   * a stored Responses history (`previous_response_id` or `conversation`, with `truncation: "auto"`)
   * when they must be left out to fit a target's window: the summary takes their place, is stored
   * with the turn as a `compaction` item and reused on later turns. It is asked as a request of its
   * own with the conversation's sensitivity (a private history goes only where private data may go);
   * when it fails, the turns are left out unsummarized. Default: unset (no summary).
   */
  summarizer: z.string().min(1).optional(),
  /**
   * Tools tandem runs for the model on this route, whatever API the client speaks: `mcp:<server>`,
   * a server under `mcp.servers`. Its tools are offered beside the client's own, and the model's
   * calls to them are run between its turns (no approval asked: you configured them). Default none.
   */
  tools: z.array(z.string().regex(/^mcp:[a-zA-Z0-9_-]{1,64}$/, "expected 'mcp:<server>', a server under mcp.servers")).optional(),
  /**
   * Memory on this route (see the top-level `memory`): `on` (or `true`), or `{ recall, minScore }`
   * to change how many memories and how close a match this route recalls. Before each request the
   * memories most relevant to the latest user turn are given to the model in a system message ahead
   * of the history, and the model may save and forget memories with tandem's `remember` and
   * `forget` tools. Default: off.
   */
  memory: z
    .union([
      z.boolean(),
      z.enum(["on", "off"]),
      z.strictObject({
        /** Memories recalled per request, 1-50. Default: `memory.recall`. */
        recall: z.number().int().min(1).max(50).optional(),
        /** Lowest search score (0-1) a recalled memory needs. Default: `memory.minScore`. */
        minScore: z.number().min(0).max(1).optional(),
        /** Whether the model is offered tandem's `remember` and `forget` tools on this route. Default true. */
        tools: z.boolean().optional(),
      }),
    ])
    .optional()
    .transform((memory) =>
      memory === undefined || memory === false || memory === "off" ? undefined : memory === true || memory === "on" ? {} : memory,
    ),
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

const customPattern = z.strictObject({
  /** The finding kind, e.g. `employee_id`; also names its placeholder (`[EMPLOYEE_ID_1]`). */
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]*$/, "expected a name of letters, digits and '_'"),
  /** A JavaScript regular expression, without slashes or flags. */
  regex: z.string().min(1),
  /** Match case-insensitively. Default false. */
  ignoreCase: z.boolean().optional(),
  /** How sensitive a match makes the request. Default private. */
  level: z.enum(["internal", "private"]).optional(),
});

const keywordList = z.strictObject({
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

/** A label in `mcp.servers`: how requests and the model name the server (as a Responses `server_label`). */
export const MCP_SERVER_LABEL = /^[a-zA-Z0-9_-]{1,64}$/;

const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** A path given to a sandboxed server: absolute, `~/...` (your home) or relative (to tandem's directory, as `cwd`). */
const sandboxPath = z
  .string()
  .min(1, "expected a path")
  .refine((path) => !path.includes("\0"), "expected a path without NUL characters")
  .refine(
    (path) => path === "" || path.replace(/\/+$/, "") !== "",
    "'/' would give the server the whole machine: list the folders it needs, or set sandbox: false",
  );

/**
 * What a sandboxed stdio server may reach besides the programs it runs (Linux, bubblewrap; see the
 * README's "Sandboxed stdio servers"). Everything not listed is out of its reach: the rest of your
 * home, tandem's data dir, other users' files, the network.
 */
const sandboxSettings = z.strictObject({
  /**
   * Whether it shares the machine's network (the internet and 127.0.0.1's listeners, tandem's
   * own included), with /etc/resolv.conf and /etc/hosts. Default false: its own empty network.
   */
  network: z.boolean().optional(),
  /** Files and folders it may read (not write). Default none. */
  read: z.array(sandboxPath).optional(),
  /** Files and folders it may read and write (its `cwd` always is). Default none. */
  write: z.array(sandboxPath).optional(),
  /**
   * Names of tandem's environment variables passed to it as they are, besides the small safe set
   * every stdio server gets (HOME, PATH, USER, ...) and its own `env`. Default none.
   */
  env: z.array(z.string().regex(ENV_NAME, "expected an environment variable name (letters, digits, '_')")).optional(),
  /**
   * The most memory each of its processes may take, in MiB (its data: heap and private mappings;
   * Linux's RLIMIT_DATA, set with util-linux's `prlimit`): past it, an allocation fails (a Node
   * server ends with "heap out of memory" and is started again on its next use). Default: no limit.
   */
  memoryMiB: z.number().int().min(64).max(1_048_576).optional(),
  /**
   * The most processes (threads included) it may run at once, all of its children together (Linux's
   * RLIMIT_NPROC inside its own user namespace): past it, starting another fails, so a fork bomb stops
   * there. Default 512, applied where the machine allows it (see McpSandbox); set, it is never dropped.
   */
  maxProcesses: z.number().int().min(16).max(1_000_000).optional(),
});

type SandboxSettings = z.output<typeof sandboxSettings>;

/**
 * `sandbox`: true (confined, with the defaults), false (not confined), or the settings object
 * (confined, with those). Read by hand rather than as a zod union, whose failure says only
 * "Invalid input" where a user needs to hear which field is wrong.
 */
const sandboxSetting = z.unknown().transform((value, ctx): boolean | SandboxSettings => {
  if (typeof value === "boolean") return value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    ctx.addIssue({
      code: "custom",
      message: "expected true, false or an object {network, read, write, env, memoryMiB, maxProcesses}",
    });
    return z.NEVER;
  }
  const parsed = sandboxSettings.safeParse(value, { error: configErrorMap });
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) ctx.addIssue({ code: "custom", path: issuePath(issue), message: issue.message });
  return z.NEVER;
});

/**
 * How a stdio server is confined, as the host applies it: the server's own `sandbox` over
 * `mcp.sandbox`. `from` names the settings each list came from, for error messages.
 */
export interface McpSandboxConfig {
  network: boolean;
  read: string[];
  write: string[];
  env: string[];
  /** The most memory (MiB) each of its processes may take; undefined: no limit. */
  memoryMiB?: number;
  /** The most processes it may run at once, as configured; undefined: the default, where the machine allows it. */
  maxProcesses?: number;
  /** The config path of the settings that gave `read`, `write` and `env` (e.g. `mcp.servers.files.sandbox`). */
  from: { read: string; write: string; env: string };
}

/**
 * One MCP server, written as Claude Code's `mcpServers` entries are: `{url, headers}` for a remote
 * one (Streamable HTTP, or legacy SSE), `{command, args, env, cwd}` for one tandem starts over stdio.
 * One loose object checked by hand rather than a zod union, so that a mistake is reported as what it
 * is ("url and command both given") rather than as a union's "invalid input".
 */
const mcpServer = z
  .strictObject({
    /** A remote server's endpoint: http or https. */
    url: z
      .string()
      .url()
      // zod runs this check after a failed url() too: a text that is no URL is that one's to report.
      .refine((u) => !URL.canParse(u) || /^https?:$/i.test(new URL(u).protocol), "expected an http or https URL")
      .optional(),
    /**
     * Sent with every request to `url`. A value is literal text, a whole key reference
     * (`env:NAME`, `keychain:NAME`, `store:NAME`), or text with references in `${...}`
     * (`Bearer ${env:GITHUB_TOKEN}`); references are read at each connect and never logged.
     */
    headers: z.record(z.string().min(1), z.string()).optional(),
    /** The program that serves MCP on its stdin/stdout (searched on PATH). */
    command: z.string().min(1).optional(),
    /** Its arguments. Default none. */
    args: z.array(z.string()).optional(),
    /**
     * Variables set for it, over the SDK's small safe default environment (HOME, PATH, USER, ...: not
     * tandem's whole environment). Values as for `headers`. Default none.
     */
    env: z
      .record(z.string(), z.string())
      // The names checked here, as the labels are: a record's key schema fails with only "Invalid key in record".
      .superRefine((env, ctx) => {
        for (const name of Object.keys(env)) {
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
            ctx.addIssue({
              code: "custom",
              path: [name],
              message: "expected an environment variable name (letters, digits, '_')",
            });
        }
      })
      .optional(),
    /**
     * Its working directory (relative: to the directory tandem was started in; `~/`: your home).
     * Default: tandem's own, or, when sandboxed, an empty private folder (/tmp inside the sandbox).
     */
    cwd: z.string().min(1).optional(),
    /**
     * Runs it confined (Linux, with bubblewrap): true, false, or `{network, read, write, env}` (each
     * field defaults to `mcp.sandbox`'s, then to none/false). Default: `mcp.sandbox`.
     */
    sandbox: sandboxSetting.optional(),
  })
  .superRefine((server, ctx) => {
    if (server.url !== undefined && server.command !== undefined) {
      ctx.addIssue({ code: "custom", message: "expected either url (a remote server) or command (a stdio server), not both" });
    } else if (server.url === undefined && server.command === undefined) {
      ctx.addIssue({ code: "custom", message: "expected url (a remote server) or command (a stdio server)" });
    } else if (server.url !== undefined) {
      for (const field of ["args", "env", "cwd", "sandbox"] as const) {
        if (server[field] !== undefined)
          ctx.addIssue({ code: "custom", path: [field], message: `${field} is for a stdio server (command), not a url` });
      }
    } else if (server.headers !== undefined) {
      ctx.addIssue({ code: "custom", path: ["headers"], message: "headers are for a remote server (url), not a command" });
    }
  })
  .transform(
    (server): ParsedMcpServer =>
      server.url !== undefined
        ? { url: server.url, headers: server.headers ?? {} }
        : {
            command: server.command as string,
            args: server.args ?? [],
            env: server.env ?? {},
            ...(server.cwd !== undefined ? { cwd: server.cwd } : {}),
            ...(server.sandbox !== undefined ? { sandbox: server.sandbox } : {}),
          },
  );

/** A server as its own entry gives it, before `mcp.sandbox` is applied. */
type ParsedMcpServer =
  | { url: string; headers: Record<string, string>; command?: undefined }
  | {
      command: string;
      args: string[];
      env: Record<string, string>;
      cwd?: string;
      sandbox?: boolean | SandboxSettings;
      url?: undefined;
    };

/** A configured MCP server as parsed: remote (`url`) or stdio (`command`, confined when `sandbox` is set). */
export type McpServerConfig =
  | { url: string; headers: Record<string, string>; command?: undefined; sandbox?: undefined }
  | {
      command: string;
      args: string[];
      env: Record<string, string>;
      cwd?: string;
      /** How it is confined; absent: it runs with tandem's user's rights. */
      sandbox?: McpSandboxConfig;
      url?: undefined;
    };

/** A stdio server's own `sandbox` over `mcp.sandbox`: undefined when it is not confined. */
function effectiveSandbox(
  label: string,
  own: boolean | SandboxSettings | undefined,
  shared: boolean | SandboxSettings,
): McpSandboxConfig | undefined {
  const setting = own ?? shared;
  if (setting === false) return undefined;
  const base = typeof shared === "object" ? shared : {};
  const mine = typeof own === "object" ? own : {};
  const ownPath = `mcp.servers.${label}.sandbox`;
  const pick = <K extends "read" | "write" | "env">(key: K): { value: string[]; from: string } =>
    mine[key] !== undefined || base[key] === undefined
      ? { value: mine[key] ?? [], from: ownPath }
      : { value: base[key], from: "mcp.sandbox" };
  const read = pick("read");
  const write = pick("write");
  const env = pick("env");
  const memoryMiB = mine.memoryMiB ?? base.memoryMiB;
  const maxProcesses = mine.maxProcesses ?? base.maxProcesses;
  return {
    network: mine.network ?? base.network ?? false,
    read: read.value,
    write: write.value,
    env: env.value,
    ...(memoryMiB !== undefined && { memoryMiB }),
    ...(maxProcesses !== undefined && { maxProcesses }),
    from: { read: read.from, write: write.from, env: env.from },
  };
}

/** MCP servers whose tools tandem runs for the model (the Responses API's `{type: "mcp"}` tools). */
export const mcpSchema = z
  .strictObject({
    /**
     * The sandbox of every stdio server that does not set its own: true, false or
     * `{network, read, write, env}` (see `mcp.servers.<label>.sandbox`). Remote servers are not
     * processes of this machine and are not affected. Default false (stdio servers run with tandem's
     * user's rights, as in other MCP hosts).
     */
    sandbox: sandboxSetting.default(false),
    /** By label (`[a-zA-Z0-9_-]`, 1-64 characters). Default none. */
    servers: z
      .record(z.string(), mcpServer)
      // Checked here rather than as the record's key schema, whose failure zod reports only as "Invalid key in record".
      .superRefine((servers, ctx) => {
        for (const label of Object.keys(servers)) {
          if (label === "tandem-memory") {
            ctx.addIssue({ code: "custom", path: [label], message: "'tandem-memory' is the label of tandem's own memory tools" });
          }
          if (!MCP_SERVER_LABEL.test(label))
            ctx.addIssue({
              code: "custom",
              path: [label],
              message: "expected a server label of 1-64 letters, digits, '_' or '-'",
            });
        }
      })
      .default({}),
    /** Milliseconds one tool call may take before it fails (its error goes back to the model). Default 60000. */
    callTimeoutMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).positive().default(60_000),
    /** Milliseconds to connect to a server and for each page of its tool list. Default 15000. */
    listTimeoutMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).positive().default(15_000),
    /** A tool's output text beyond this many UTF-8 bytes is cut, with a note saying how much. Default 262144 (256 KiB). */
    maxOutputBytes: z
      .number()
      .int()
      .positive()
      .default(256 * 1024),
    /**
     * Whether a request may name a server by its URL (the Responses API's `server_url`), besides the
     * configured labels. Default true; false: only the servers configured here.
     */
    allowRequestServers: z.boolean().default(true),
  })
  .transform((mcp) => ({
    ...mcp,
    servers: Object.fromEntries(
      Object.entries(mcp.servers).map(([label, server]): [string, McpServerConfig] => {
        if (server.url !== undefined) return [label, server];
        const { sandbox: own, ...rest } = server;
        const sandbox = effectiveSandbox(label, own, mcp.sandbox);
        return [label, { ...rest, ...(sandbox !== undefined && { sandbox }) }];
      }),
    ),
  }));

export type McpConfig = z.output<typeof mcpSchema>;

export const configSchema = z.strictObject({
  server: z
    .strictObject({
      /** Bind address. Default 127.0.0.1. */
      host: bindHost.default("127.0.0.1"),
      /** Default 1337. */
      port: z.number().int().min(0).max(65535).default(1337),
      /** Client keys (references). Required when host is not loopback. Default: none. */
      apiKeys: z.array(keyRefSchema).default([]),
      /** Largest request body in bytes. Default 33554432 (32 MiB: room for a few base64 images). */
      bodyLimit: z
        .number()
        .int()
        .positive()
        .default(32 * 1024 * 1024),
      /**
       * Most object members (keys) and array elements, counted over the whole body, a JSON request
       * body may hold; more is a 413. Handling a body costs per member (privacy reads every key, the body is
       * written out again for the upstream), so a small body of a million tiny members would hold
       * the server for seconds. A long agent conversation holds a few tens of thousands. Default 200000.
       */
      bodyMaxMembers: z.number().int().positive().default(200_000),
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
        .strictObject({
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
      bodyTimeoutMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).positive().default(30_000),
      /**
       * Milliseconds the requests running when `tandem serve` is asked to stop (SIGTERM, SIGINT) have
       * to finish; new ones are refused (503) from the signal on. Those still running after it are
       * ended with a 503 in their client's dialect (in-band in a stream). 0 ends them at once. Also
       * TANDEM_SHUTDOWN_GRACE_MS. Default 10000.
       */
      shutdownGraceMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).nonnegative().default(10_000),
    })
    .default({
      host: "127.0.0.1",
      port: 1337,
      apiKeys: [],
      bodyLimit: 32 * 1024 * 1024,
      bodyMaxMembers: 200_000,
      bodyTimeoutMs: 30_000,
      shutdownGraceMs: 10_000,
      allowedHosts: [],
      cors: { origins: [] },
    }),
  /** Hard limits on what tandem holds in memory for one answer; each error names the setting it hit. */
  limits: z
    .strictObject({
      /**
       * The largest answer tandem gathers whole: an upstream's non-streamed JSON answer (bytes), and
       * the text plus tool-call arguments of an answer assembled for a client that did not stream (or
       * kept for a mid-stream continuation; counted in characters, never more than its UTF-8 bytes),
       * and with them, on the same-wire path, the upstream's own streamed frames that such a client is
       * sent put together; and the frames a same-wire stream holds back until its end (the finish and
       * what follows it); and each HTTP answer of an MCP server (a JSON body, an event stream), whose
       * read stops there too (the call or listing then fails with an error naming this setting).
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
    .strictObject({
      /** pino level. Default info. */
      level: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
    })
    .default({ level: "info" }),
  /** Active health checks: each provider's cheap probe (its model list) on an interval. */
  health: z
    .strictObject({
      /** Milliseconds between probes; 0 turns active checks off. Default 30000. */
      probeIntervalMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).min(0).default(30_000),
      /** A probe that takes longer fails. Default 5000. */
      probeTimeoutMs: z.number().int().max(MAX_TIMER_MS, TIMER_MS_MESSAGE).positive().default(5000),
    })
    .default({ probeIntervalMs: 30_000, probeTimeoutMs: 5000 }),
  /** Circuit breakers, one per target. */
  breaker: z
    .strictObject({
      /** Consecutive failures that open a target's breaker. Default 5. */
      failureThreshold: z.number().int().positive().default(5),
      /** How long an open breaker skips its target before one trial request. Default 30000. */
      cooldownMs: z.number().int().positive().default(30_000),
    })
    .default({ failureThreshold: 5, cooldownMs: 30_000 }),
  /** What counts as private data and where it may go (see routes' `privacy` and `sensitivity`). */
  privacy: z
    .strictObject({
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
    .strictObject({
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
    .strictObject({
      /**
       * Days a stored response (since it was created) and a conversation (since it last changed) are
       * kept before the store's pruning job deletes them with their items. Default: kept until deleted.
       */
      retentionDays: z.number().int().positive().optional(),
      /** Stored chat completions (`store: true` on POST /v1/chat/completions). */
      chatCompletions: z
        .strictObject({
          /** Days a stored chat completion is kept (since it was stored). Default 30, as OpenAI keeps them. */
          retentionDays: z.number().int().positive().default(30),
          /** The most kept at once; storing one more deletes the oldest. Default 10000. */
          maxCount: z.number().int().positive().default(10_000),
        })
        .default({ retentionDays: 30, maxCount: 10_000 }),
    })
    .default({ chatCompletions: { retentionDays: 30, maxCount: 10_000 } }),
  /**
   * Memories: what you want every model to remember about you, kept in the encrypted store (with
   * `store.enabled: false`, in the server's memory only) and recalled on routes with `memory: on`.
   */
  memory: z
    .strictObject({
      /**
       * An embedding model (`<provider>/<model>`, e.g. `local/nomic-embed` or `openai/text-embedding-3-small`)
       * for searching memories by meaning as well as by their words. A private memory is only ever
       * embedded by a local model; a cloud model embeds the others, each call in the egress audit.
       * Default: unset (word search only, FTS5 bm25).
       */
      embeddings: z
        .string()
        .regex(/^[^/\s]+\/.+$/, "expected '<provider>/<model>'")
        .optional(),
      /** Memories recalled per request on a route with `memory: on`, 1-50. Default 5. */
      recall: z.number().int().min(1).max(50).default(5),
      /** Lowest search score (0-1) a recalled memory needs (see the README: Memory). Default 0.2. */
      minScore: z.number().min(0).max(1).default(0.2),
      /** The longest memory, in characters (a longer one is refused with a 400). Default 4000. */
      maxChars: z.number().int().min(1).max(100_000).default(4000),
    })
    .default({ recall: 5, minScore: 0.2, maxChars: 4000 }),
  /**
   * The Files API's files (`POST /v1/files`): kept in the encrypted store, or with
   * `store.enabled: false` in the server's memory only, lost at exit.
   */
  files: z
    .strictObject({
      /**
       * The largest file an upload may carry, in bytes; a larger one is refused with a 413 while it
       * arrives, and no more than this is ever held in memory for it. Default 33554432 (32 MiB).
       */
      maxBytes: z
        .number()
        .int()
        .positive()
        .max(1024 * 1024 * 1024)
        .default(32 * 1024 * 1024),
    })
    .default({ maxBytes: 32 * 1024 * 1024 }),
  /**
   * Vector stores (`/v1/vector_stores`) and the Responses API's `file_search` tool: the Files API's
   * files cut into chunks, kept in the encrypted store (or, with `store.enabled: false`, in the
   * server's memory only) and searched by their words (FTS5 bm25), and by meaning when an embedding
   * model is set.
   */
  vectorStores: z
    .strictObject({
      /**
       * An embedding model (`<provider>/<model>`) for searching chunks by meaning as well as words.
       * A chunk privacy detection finds private is only ever embedded by a local model. Default:
       * `memory.embeddings` (unset: word search only).
       */
      embeddings: z
        .string()
        .regex(/^[^/\s]+\/.+$/, "expected '<provider>/<model>'")
        .optional(),
      /** Files one vector store may hold (more is refused with a 400). Default 1000. */
      maxFiles: z.number().int().min(1).max(100_000).default(1000),
      /** Chunks one file may be cut into (a file with more ends `failed`, `invalid_file`). Default 2000. */
      maxChunksPerFile: z.number().int().min(1).max(1_000_000).default(2000),
      /** The longest search query, in characters (a longer one is refused with a 400). Default 4096. */
      maxQueryChars: z.number().int().min(1).max(100_000).default(4096),
    })
    .default({ maxFiles: 1000, maxChunksPerFile: 2000, maxQueryChars: 4096 }),
  /**
   * Batches (`/v1/batches`, `/v1/messages/batches`): many requests given at once and run in the
   * background, each line through the same pipeline as a client's own request.
   */
  batches: z
    .strictObject({
      /**
       * Lines running at once, across every batch. Keep it small: a batch's lines queue for a local
       * model's slots as a client's requests do, so each line running is one more a client's own
       * request may wait behind. Default 1.
       */
      concurrency: z.number().int().min(1).max(64).default(1),
      /** The most requests one batch may have (OpenAI's limit is 50,000; Anthropic's 100,000). Default 50000. */
      maxRequests: z.number().int().min(1).max(100_000).default(50_000),
    })
    .default({ concurrency: 1, maxRequests: 50_000 }),
  mcp: mcpSchema.default({
    sandbox: false,
    servers: {},
    callTimeoutMs: 60_000,
    listTimeoutMs: 15_000,
    maxOutputBytes: 256 * 1024,
    allowRequestServers: true,
  }),
  providers: z
    .record(z.string(), providerSchema)
    .superRefine(
      checkNames(
        "a provider name may not contain '/': a target is named '<provider>/<model>', and its first '/' ends the provider's name",
        PROVIDER_NAME,
        "expected a provider name of letters, digits, '_', '.', '-'",
      ),
    )
    .default({}),
  routes: z
    .record(z.string(), routeSchema)
    .superRefine(
      checkNames(
        "a route name may not contain '/': a model name with '/' is read as a target, '<provider>/<model>'",
        ROUTE_NAME,
        "expected a route name without spaces",
      ),
    )
    .default({}),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema> & { dataDir: string };
export type { ProviderConfig } from "../providers/registry.js";
export type RouteConfig = z.output<typeof routeSchema>;
