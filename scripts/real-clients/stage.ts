/**
 * Stage for trying the real agent CLIs (Claude Code, Codex) against tandem, all on 127.0.0.1:
 * a fake Anthropic upstream, a fake OpenAI chat upstream, scripted GGUF models for the embedded
 * engine, the built tandem (`dist/cli/main.js serve`) and a recording proxy in front of it that
 * logs every request a CLI sends and tandem's status and x-tandem-* headers.
 *
 *   npm run build
 *   node --import tsx scripts/real-clients/stage.ts <workdir>
 *
 * It prints `STAGE READY <proxy url>` and keeps running until killed. In <workdir>:
 * `client-requests.jsonl` (what the CLI sent, what tandem answered), `upstream-requests.jsonl`
 * (what each fake upstream received), `tandem.log` (tandem's own log), `tandem.config.yaml`.
 *
 * The fakes' script (same for both cloud kinds): a last user text containing RUN_TOOL asks for one
 * call of the client's shell tool (Claude Code's Bash, Codex's shell/exec_command); a tool result
 * as the last turn is answered "TOOL_RESULT_SEEN: <its start>"; otherwise the answer names the
 * code word PELICAN if any earlier turn held it (so a resumed session shows its history arrived).
 * RUN_MCP asks for a call of the `files` MCP server's echo tool, which the routes `to-*-mcp` give the
 * model and tandem runs itself (the client sees only the answer after it).
 * See docs/real-clients.md.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { connect } from "node:net";
import type { AddressInfo } from "node:net";
import { join, resolve } from "node:path";
import { startFakeAnthropic } from "../../test/support/fake-anthropic-upstream.js";
import { startFakeOpenAIResponses } from "../../test/support/fake-openai-responses-upstream.js";
import { startFakeOpenAI } from "../../test/support/fake-openai-upstream.js";
import type { FakeReply, FakeToolCall, RecordedRequest } from "../../test/support/fake-upstream.js";
import { writeChatModel, writeToolCallModel } from "../../test/support/gguf/index.js";

const ROOT = resolve(import.meta.dirname, "../..");
const work = resolve(process.argv[2] ?? "/tmp/tandem-real-clients");
mkdirSync(join(work, "models"), { recursive: true });
const log = (file: string, entry: unknown) => appendFileSync(join(work, file), `${JSON.stringify(entry)}\n`);

/** Text of a content value in either wire (string, Anthropic blocks, OpenAI parts). */
function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((p: { type?: string; text?: string; content?: unknown }) =>
      typeof p.text === "string" ? p.text : p.type === "tool_result" ? textOf(p.content) : "",
    )
    .join(" ");
}

/** The tool call the fake asks for, shaped for whichever shell tool the client offered. */
function shellCall(tools: Array<{ name?: string; function?: { name?: string } }>): FakeToolCall | undefined {
  const names = tools.map((t) => t.name ?? t.function?.name ?? "");
  const command = "echo tandem-tool-ok > tool-out.txt && cat tool-out.txt";
  if (names.includes("Bash")) return { name: "Bash", arguments: { command, description: "Write and read a file" } };
  if (names.includes("exec_command")) return { name: "exec_command", arguments: { cmd: command } };
  if (names.includes("shell_command")) return { name: "shell_command", arguments: { command } };
  if (names.includes("shell")) return { name: "shell", arguments: { command: ["bash", "-lc", command] } };
  return undefined;
}

/** The name of the last tool the assistant called (Anthropic `tool_use` blocks or OpenAI `tool_calls`). */
function lastToolUse(messages: Array<{ role: string; content: unknown; tool_calls?: unknown }>): string | undefined {
  const assistant = messages.filter((m) => m.role === "assistant").at(-1) as
    | { content: unknown; tool_calls?: Array<{ function?: { name?: string } }> }
    | undefined;
  const uses = Array.isArray(assistant?.content)
    ? (assistant.content as Array<{ type?: string; name?: string }>).filter((p) => p.type === "tool_use")
    : [];
  return uses.at(-1)?.name ?? assistant?.tool_calls?.at(-1)?.function?.name;
}

function script(kind: string) {
  return (req: RecordedRequest): FakeReply => {
    const body = (req.body ?? {}) as { messages?: Array<{ role: string; content: unknown }>; tools?: [] };
    log("upstream-requests.jsonl", { upstream: kind, method: req.method, path: req.path, headers: req.headers, body: req.body });
    // Claude Code ends with a system turn after the user's (its agent list): the fake answers the
    // last user or tool turn.
    const messages = (body.messages ?? []).filter((m) => m.role !== "system");
    const last = messages.at(-1);
    const lastText = textOf(last?.content);
    const isToolResult =
      last?.role === "tool" ||
      (Array.isArray(last?.content) && (last.content as Array<{ type?: string }>).some((p) => p.type === "tool_result"));
    // Claude Code (2.1.3xx) defers MCP tools behind its ToolSearch tool: once the search has given the
    // tool's schema, the fake calls the tool it searched for.
    const asked = messages.find((m) => m.role === "user" && textOf(m.content).includes("RUN_TANDEM_MCP"));
    if (isToolResult && asked && lastToolUse(messages) === "ToolSearch") {
      return { kind: "tool_calls", calls: [{ name: "mcp__tandem__list_models", arguments: {} }] };
    }
    if (isToolResult) return { kind: "text", text: `TOOL_RESULT_SEEN: ${lastText.trim().slice(0, 60)}` };
    if (lastText.includes("RUN_MCP")) {
      // A route's MCP tool (tandem runs it; the client never sees the call, only the answer after it).
      const offered = (body.tools ?? []).some(
        (t: { name?: string; function?: { name?: string } }) => (t.name ?? t.function?.name) === "mcp__files__echo",
      );
      if (offered) return { kind: "tool_calls", calls: [{ name: "mcp__files__echo", arguments: { text: "MCP_ECHO_OK" } }] };
      return { kind: "text", text: "NO_MCP_TOOL_OFFERED" };
    }
    if (lastText.includes("RUN_TANDEM_MCP")) {
      // tandem as an MCP server: the client was given tandem's /mcp, and names its tools its own way
      // (Claude Code mcp__tandem__list_models, Codex tandem__list_models or list_models).
      const names = (body.tools ?? []).map((t: { name?: string; function?: { name?: string } }) => t.name ?? t.function?.name ?? "");
      const listModels = names.find((name) => name.endsWith("list_models"));
      if (listModels) return { kind: "tool_calls", calls: [{ name: listModels, arguments: {} }] };
      if (names.includes("ToolSearch")) {
        return { kind: "tool_calls", calls: [{ name: "ToolSearch", arguments: { query: "select:mcp__tandem__list_models" } }] };
      }
      return { kind: "text", text: `NO_TANDEM_MCP_TOOL_OFFERED: ${names.join(",").slice(0, 200)}` };
    }
    if (lastText.includes("RUN_TOOL")) {
      const call = shellCall(body.tools ?? []);
      if (call) return { kind: "tool_calls", calls: [call] };
      return { kind: "text", text: "NO_SHELL_TOOL_OFFERED" };
    }
    // An earlier turn, or a memory tandem recalled (its `<user_memories>` system message).
    const recalled = (body.messages ?? []).some(
      (m) => m.role === "system" && textOf(m.content).includes("<user_memories>") && textOf(m.content).includes("PELICAN"),
    );
    const earlier = recalled || messages.slice(0, -1).some((m) => textOf(m.content).includes("PELICAN"));
    const users = messages.filter((m) => m.role === "user").length;
    return { kind: "text", text: `${kind} answer: ${earlier ? "the code word is PELICAN" : "no code word yet"} (user turns: ${users})` };
  };
}

const anthropic = await startFakeAnthropic({ models: ["claude-sonnet-4-5", "claude-haiku-4-5"] });
anthropic.script(script("anthropic"));
const openai = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
openai.script(script("openai"));

// A Responses-native upstream (same wire as Codex): input items instead of messages.
type Item = { type?: string; role?: string; content?: unknown; output?: unknown };
const responses = await startFakeOpenAIResponses({ models: ["gpt-5-mini", "gpt-5.5"] });
responses.script((req) => {
  const body = (req.body ?? {}) as { input?: Item[] | string; tools?: [] };
  log("upstream-requests.jsonl", { upstream: "responses", method: req.method, path: req.path, headers: req.headers, body });
  const items = (typeof body.input === "string" ? [{ type: "message", role: "user", content: body.input }] : (body.input ?? []))
    .filter((i) => i.role !== "developer" && i.role !== "system" && i.type !== "reasoning");
  const last = items.at(-1);
  if (last?.type === "function_call_output") {
    // Whether the reasoning it sealed with the call came back (the client kept it, tandem sent it).
    const sealed = typeof body.input !== "string" && (body.input ?? []).some((i) => i.type === "reasoning" && "encrypted_content" in i);
    const seen = String(typeof last.output === "string" ? last.output : JSON.stringify(last.output)).slice(0, 60);
    return { kind: "answer", text: `TOOL_RESULT_SEEN${sealed ? " (reasoning back)" : ""}: ${seen}` };
  }
  if (textOf(last?.content).includes("RUN_TOOL")) {
    const call = shellCall(body.tools ?? []);
    if (call) return { kind: "answer", reasoning: "I will run the tool.", calls: [{ name: call.name, arguments: JSON.stringify(call.arguments) }] };
  }
  const earlier = items.slice(0, -1).some((i) => textOf(i.content).includes("PELICAN"));
  const users = items.filter((i) => i.role === "user").length;
  return { kind: "answer", reasoning: "Thinking.", text: `responses answer: ${earlier ? "the code word is PELICAN" : "no code word yet"} (user turns: ${users})` };
});

// An api.openai.com-like host for gpt-5.5: its chat completions refuse function tools beside a
// reasoning effort, in OpenAI's words ("use /v1/responses"), and beside none given too (gpt-5.5 thinks
// by default: only "none" is taken); its /v1/responses is the fake above.
const refusing = await startFakeOpenAI({ models: ["gpt-5.5"] });
refusing.script((req) => {
  const body = (req.body ?? {}) as { model?: string; tools?: unknown[]; reasoning_effort?: string };
  if ((body.tools?.length ?? 0) > 0 && body.reasoning_effort !== "none") {
    log("upstream-requests.jsonl", { upstream: "gpt-5.5 chat (refused)", method: req.method, path: req.path, headers: req.headers, body });
    const message = `Function tools with reasoning_effort are not supported for ${body.model} in /v1/chat/completions. To use function tools, use /v1/responses or set reasoning_effort to 'none'.`;
    return { kind: "error", status: 400, body: { error: { message, type: "invalid_request_error", param: "reasoning_effort", code: null } } };
  }
  return script("openai")(req);
});
const bothApis = createServer((req, res) => {
  const to = new URL(req.url === "/v1/responses" ? responses.url : refusing.url);
  const forwarded = httpRequest({ host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  forwarded.on("error", () => res.destroy());
  req.pipe(forwarded);
});
await new Promise<void>((done) => bothApis.listen(0, "127.0.0.1", done));
const bothUrl = `http://127.0.0.1:${(bothApis.address() as AddressInfo).port}/v1`;

await writeChatModel(join(work, "models/chat.gguf"), { answer: "Hello from the local model.", contextLength: 131072 });
await writeToolCallModel(join(work, "models/bash.gguf"), {
  functionName: "Bash",
  arguments: { command: "echo local-tool-ok" },
  finalAnswer: "Local tool done.",
  contextLength: 131072,
});
// Codex 0.171's shell tool is exec_command.
await writeToolCallModel(join(work, "models/shell.gguf"), {
  functionName: "exec_command",
  arguments: { cmd: "echo local-tool-ok" },
  finalAnswer: "Local tool done.",
  contextLength: 131072,
});

const configFile = join(work, "tandem.config.yaml");
writeFileSync(
  configFile,
  [
    `dataDir: "${join(work, "data")}"`,
    // STAGE_CLIENT_KEY: tandem then wants this key from its clients (server.apiKeys).
    ...(process.env.STAGE_CLIENT_KEY ? ["server: { apiKeys: [env:STAGE_CLIENT_KEY] }"] : []),
    "store: { enabled: true }",
    "providers:",
    `  claude: { kind: anthropic, baseUrl: "${anthropic.url}", apiKeys: ["env:FAKE_ANTHROPIC_KEY"] }`,
    `  oai: { kind: openai, baseUrl: "${openai.url}", apiKeys: ["env:FAKE_OPENAI_KEY"], models: [gpt-4o-mini] }`,
    `  resp: { kind: openai, baseUrl: "${responses.url}", responses: only, apiKeys: ["env:FAKE_OPENAI_KEY"], models: [gpt-5-mini] }`,
    `  both: { kind: openai, baseUrl: "${bothUrl}", responses: true, apiKeys: ["env:FAKE_OPENAI_KEY"], models: [gpt-5.5] }`,
    "  local:",
    "    kind: llamacpp",
    "    threads: 1",
    "    gpu: false",
    "    models:",
    `      chat: { path: "${join(work, "models/chat.gguf")}", contextSize: 131072 }`,
    `      bash: { path: "${join(work, "models/bash.gguf")}", contextSize: 131072 }`,
    `      shell: { path: "${join(work, "models/shell.gguf")}", contextSize: 131072 }`,
    // The MCP test server over stdio, for the routes with tools below.
    "mcp:",
    "  servers:",
    `    files: { command: "${process.execPath}", args: ["--import", "${import.meta.resolve("tsx")}", "${join(ROOT, "test/support/mcp-stdio-server.ts")}"] }`,
    "routes:",
    "  to-anthropic: { tiers: [claude/claude-sonnet-4-5] }",
    '  to-anthropic-mcp: { tiers: [claude/claude-sonnet-4-5], tools: ["mcp:files"] }',
    '  to-openai-mcp: { tiers: [oai/gpt-4o-mini], tools: ["mcp:files"] }',
    "  to-openai: { tiers: [oai/gpt-4o-mini] }",
    "  to-openai-memory: { tiers: [oai/gpt-4o-mini], memory: on }",
    "  to-responses: { tiers: [resp/gpt-5-mini] }",
    "  to-gpt55: { tiers: [both/gpt-5.5] }",
    // More routes, `;`-separated (e.g. one named after an Anthropic model id Claude Code sends by default).
    ...(process.env.STAGE_ROUTES ?? "").split(";").filter(Boolean).map((r) => `  ${r}`),
    "",
  ].join("\n"),
);

// STAGE_DIST: another build to try (e.g. main's, to see what was broken before a fix).
const dist = resolve(process.env.STAGE_DIST ?? join(ROOT, "dist"));
const tandem = spawn(process.execPath, [join(dist, "cli/main.js"), "serve", "--config", configFile, "--port", "0"], {
  env: {
    PATH: process.env.PATH,
    HOME: work,
    XDG_DATA_HOME: work,
    OLLAMA_HOST: "127.0.0.1:9",
    FAKE_ANTHROPIC_KEY: "sk-ant-fake",
    FAKE_OPENAI_KEY: "sk-fake",
    ...(process.env.STAGE_CLIENT_KEY && { STAGE_CLIENT_KEY: process.env.STAGE_CLIENT_KEY }),
    TANDEM_DB_KEY: randomBytes(32).toString("hex"),
  },
  stdio: ["ignore", "pipe", "pipe"],
});
const tandemPort = await new Promise<number>((done, fail) => {
  let seen = "";
  const onData = (chunk: Buffer) => {
    appendFileSync(join(work, "tandem.log"), chunk);
    seen += chunk.toString();
    const m = /127\.0\.0\.1:(\d+)/.exec(seen);
    if (m) done(Number(m[1]));
  };
  tandem.stdout.on("data", onData);
  tandem.stderr.on("data", onData);
  tandem.on("exit", (code) => fail(new Error(`tandem exited ${code}: ${seen}`)));
});

// The recording proxy: forwards as is, logs the request and tandem's answer head (and error bodies).
const proxy = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const raw = Buffer.concat(chunks);
    const started = Date.now();
    const up = httpRequest(
      { host: "127.0.0.1", port: tandemPort, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        const answer: Buffer[] = [];
        upRes.on("data", (c: Buffer) => {
          answer.push(c);
          res.write(c);
        });
        upRes.on("end", () => {
          res.end();
          const text = Buffer.concat(answer).toString("utf8");
          let body: unknown = raw.toString("utf8");
          try {
            body = JSON.parse(body as string);
          } catch {}
          log("client-requests.jsonl", {
            method: req.method,
            path: req.url,
            headers: req.headers,
            body,
            status: upRes.statusCode,
            ms: Date.now() - started,
            tandem: Object.fromEntries(Object.entries(upRes.headers).filter(([k]) => k.startsWith("x-tandem"))),
            answer: text.length > 4000 ? `${text.slice(0, 4000)}...` : text,
          });
        });
      },
    );
    up.on("error", (err) => {
      res.writeHead(502).end(String(err));
    });
    up.end(raw);
  });
});
// A WebSocket upgrade (Codex with supports_websockets) is tunnelled as it is: the request head again,
// then the bytes both ways; the log has the upgrade request, not the frames.
proxy.on("upgrade", (req, socket, head) => {
  const upstream = connect(tandemPort, "127.0.0.1", () => {
    const lines = [`${req.method} ${req.url} HTTP/1.1`];
    for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
    upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
    if (head.length > 0) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  upstream.on("error", () => socket.destroy());
  socket.on("error", () => upstream.destroy());
  log("client-requests.jsonl", { method: req.method, path: req.url, headers: req.headers, upgrade: req.headers.upgrade });
});
await new Promise<void>((done) => proxy.listen(Number(process.env.STAGE_PORT ?? 0), "127.0.0.1", done));
const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;

// Egress trap: run the CLIs with HTTPS_PROXY/HTTP_PROXY set to this (NO_PROXY=127.0.0.1) and any
// attempt to reach the internet is logged to outbound.jsonl and refused here.
const trap = createServer((req, res) => {
  log("outbound.jsonl", { method: req.method, url: req.url, host: req.headers.host });
  res.writeHead(403).end();
});
trap.on("connect", (req, socket) => {
  log("outbound.jsonl", { method: "CONNECT", url: req.url });
  socket.end("HTTP/1.1 403 Forbidden\r\n\r\n");
});
await new Promise<void>((done) => trap.listen(0, "127.0.0.1", done));
const trapUrl = `http://127.0.0.1:${(trap.address() as AddressInfo).port}`;
writeFileSync(join(work, "stage.env"), `TANDEM_URL=${proxyUrl}\nTRAP_URL=${trapUrl}\n`);
process.stdout.write(`STAGE READY ${proxyUrl} (tandem ${tandemPort}, anthropic ${anthropic.url}, openai ${openai.url}, responses ${responses.url}, trap ${trapUrl})\n`);

const stop = async () => {
  tandem.kill("SIGTERM");
  proxy.close();
  trap.close();
  bothApis.close();
  await Promise.all([anthropic.close(), openai.close(), responses.close(), refusing.close()]);
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("SIGINT", () => void stop());
