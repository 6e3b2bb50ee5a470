/**
 * Canary tests for privacy routing: a conversation seeded with personal data and secrets (in the
 * system prompt, the user's text, an earlier assistant tool call's arguments and a tool result) is
 * sent through a real tandem server with the official OpenAI, Anthropic and Ollama clients, streamed
 * and not. Cloud upstreams (fakes of all three kinds, marked `local: false`) sit behind raw TCP
 * recorders, and the check is on every byte they received: under `local-only` nothing reaches them
 * at all, under `redact` only placeholders do while the client still sees the real values, and
 * every body that did leave is in the egress audit with the digest of exactly those bytes.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama, type Message as OllamaMessage } from "ollama";
import OpenAI from "openai";
import type { ConfigInput } from "../../src/config/index.js";
import { type Finding, SensitiveDataDetector } from "../../src/privacy/index.js";
import type { EgressAuditRow } from "../../src/store/index.js";
import { type ByteRecorder, type RawHttpRequest, startByteRecorder } from "../support/byte-recorder.js";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeReply, FakeScript, FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

// ---------------------------------------------------------------------------------------------
// The canaries. Secrets are assembled at run time so no scanner mistakes this file for a leak.

const EMAIL = "canary.ana@example.org";
const PHONE = "+1 415-555-0134";
const CARD = "4111 1111 1111 1111";
const SSN = "123-45-6789";
const IBAN = "DE89370400440532013000";
const AWS_KEY = ["AKIA", "Z7Q3VN5RT2XW6LMB"].join("");
const GITHUB_TOKEN = ["ghp", "_", "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"].join("");
const IP = "10.20.30.40";
const EMPLOYEE = "EMP-314159";
const CODENAME = "Project Falcon";

const DETECTION = {
  patterns: [{ name: "employee_id", regex: "EMP-\\d{6}" }],
  keywords: [{ words: [CODENAME] }],
};

interface Canary {
  kind: string;
  value: string;
  /** Other spellings of the same value that must not leak either. */
  variants?: string[];
}

const CANARIES: Canary[] = [
  { kind: "email", value: EMAIL },
  { kind: "phone", value: PHONE, variants: ["14155550134", "4155550134", "415-555-0134", "415 555 0134", "(415) 555-0134"] },
  { kind: "payment_card", value: CARD, variants: ["4111111111111111", "4111-1111-1111-1111"] },
  { kind: "ssn", value: SSN, variants: ["123456789", "123 45 6789"] },
  { kind: "iban", value: IBAN, variants: ["DE89 3704 0044 0532 0130 00"] },
  { kind: "secret", value: AWS_KEY },
  { kind: "secret", value: GITHUB_TOKEN, variants: [GITHUB_TOKEN.slice(4)] },
  { kind: "ip_address", value: IP },
  { kind: "employee_id", value: EMPLOYEE, variants: ["EMP314159"] },
  { kind: "keyword", value: CODENAME },
];

/** Every way a canary could be spelled on the wire: as is, JSON-escaped (fully and per symbol), URL-encoded, and its variants. */
function spellings(canary: Canary): string[] {
  const forms = new Set<string>();
  for (const value of [canary.value, ...(canary.variants ?? [])]) {
    forms.add(value);
    forms.add(JSON.stringify(value).slice(1, -1));
    forms.add(encodeURIComponent(value));
    forms.add(value.replace(/[^A-Za-z0-9]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
    forms.add([...value].map((c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`).join(""));
  }
  return [...forms];
}

/** The canaries found in `bytes` (case-insensitively, in any spelling), as `kind "spelling"`. */
function canariesIn(bytes: Buffer | string): string[] {
  const text = (typeof bytes === "string" ? bytes : bytes.toString("utf8")).toLowerCase();
  const found: string[] = [];
  for (const canary of CANARIES) {
    for (const form of spellings(canary)) {
      if (text.includes(form.toLowerCase())) found.push(`${canary.kind} ${JSON.stringify(form)}`);
    }
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// The conversation, the same in each client's dialect.

const SYSTEM = `You are Acme's billing assistant. Escalate disputes to ${EMAIL}. Refunds go to IBAN ${IBAN}.`;
const FIRST_USER = `Hi, I'm Ana (employee ${EMPLOYEE}, on ${CODENAME}). My SSN is ${SSN} and my phone is ${PHONE}.`;
const LOOKUP_ARGS = { email: EMAIL, card: CARD, aws_access_key_id: AWS_KEY };
const LOOKUP_RESULT = JSON.stringify({ customer: "Ana", last_login_ip: IP, deploy_token: GITHUB_TOKEN, note: "VIP" });
/** The last user message: the echo fake answers with it, and its three placeholders fill the tool call. */
const LAST_USER = `Please send the receipt for card ${CARD} to ${EMAIL} and text me at ${PHONE}.`;
/** What the tool call the fake answers with must carry, once rehydrated. */
const RECEIPT_ARGS = { to: EMAIL, card: CARD, phone: PHONE };
/** A conversation with nothing sensitive in it, for the header and route-setting cases. */
const HARMLESS = "What is the capital of France?";

const lookupTool = {
  name: "lookup_customer",
  description: "Find a customer",
  parameters: {
    type: "object",
    properties: { email: { type: "string" }, card: { type: "string" }, aws_access_key_id: { type: "string" } },
  },
};
const receiptTool = {
  name: "send_receipt",
  description: "Send a receipt",
  parameters: {
    type: "object",
    properties: { to: { type: "string" }, card: { type: "string" }, phone: { type: "string" } },
    required: ["to", "card", "phone"],
  },
};

function openAIMessages(harmless: boolean): OpenAI.ChatCompletionMessageParam[] {
  if (harmless) return [{ role: "user", content: HARMLESS }];
  return [
    { role: "system", content: SYSTEM },
    { role: "user", content: FIRST_USER },
    {
      role: "assistant",
      content: null,
      tool_calls: [
        { id: "call_canary1", type: "function", function: { name: lookupTool.name, arguments: JSON.stringify(LOOKUP_ARGS) } },
      ],
    },
    { role: "tool", tool_call_id: "call_canary1", content: LOOKUP_RESULT },
    { role: "user", content: LAST_USER },
  ];
}

function anthropicMessages(harmless: boolean): Anthropic.MessageParam[] {
  if (harmless) return [{ role: "user", content: HARMLESS }];
  return [
    { role: "user", content: FIRST_USER },
    {
      role: "assistant",
      content: [{ type: "tool_use", id: "toolu_01Canary", name: lookupTool.name, input: LOOKUP_ARGS }],
    },
    {
      role: "user",
      content: [
        { type: "tool_result", tool_use_id: "toolu_01Canary", content: LOOKUP_RESULT },
        { type: "text", text: LAST_USER },
      ],
    },
  ];
}

function ollamaMessages(harmless: boolean): OllamaMessage[] {
  if (harmless) return [{ role: "user", content: HARMLESS }];
  return [
    { role: "system", content: SYSTEM },
    { role: "user", content: FIRST_USER },
    { role: "assistant", content: "", tool_calls: [{ function: { name: lookupTool.name, arguments: LOOKUP_ARGS } }] },
    { role: "tool", content: LOOKUP_RESULT, tool_name: lookupTool.name },
    { role: "user", content: LAST_USER },
  ];
}

// ---------------------------------------------------------------------------------------------
// The three clients, behind one shape.

const CLIENTS = ["openai", "anthropic", "ollama"] as const;
type ClientKind = (typeof CLIENTS)[number];

interface Ask {
  model: string;
  stream: boolean;
  /** Offer the tools (the tool-call variant). */
  tools?: boolean;
  /** Send HARMLESS instead of the canary conversation. */
  harmless?: boolean;
  headers?: Record<string, string>;
}

interface Answer {
  text: string;
  calls: { name: string; args: unknown }[];
  /** Response headers (not for the Ollama client, whose SDK does not expose them). */
  headers?: Headers;
}

const CLIENT_TIMEOUT_MS = 8000;
/** Per-test limits: nothing here should take more than a second or two. */
const LIMIT = { timeout: 10_000 };
const SLOW = { timeout: 15_000 };

async function askOpenAI(ask: Ask): Promise<Answer> {
  const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: CLIENT_TIMEOUT_MS });
  const body = {
    model: ask.model,
    messages: openAIMessages(ask.harmless === true),
    ...(ask.tools && {
      tools: [lookupTool, receiptTool].map((t) => ({ type: "function" as const, function: t })),
    }),
  };
  const options = { headers: ask.headers ?? {} };
  if (!ask.stream) {
    const { data, response } = await client.chat.completions.create(body, options).withResponse();
    const message = data.choices[0]?.message;
    const calls = (message?.tool_calls ?? []).map((call) =>
      call.type === "function"
        ? { name: call.function.name, args: JSON.parse(call.function.arguments) as unknown }
        : { name: call.type, args: undefined },
    );
    return { text: message?.content ?? "", calls, headers: response.headers };
  }
  const { data: stream, response } = await client.chat.completions.create({ ...body, stream: true }, options).withResponse();
  let text = "";
  const calls: { name: string; json: string }[] = [];
  for await (const chunk of stream) {
    const delta = chunk.choices[0]?.delta;
    text += delta?.content ?? "";
    for (const tc of delta?.tool_calls ?? []) {
      calls[tc.index] ??= { name: "", json: "" };
      const call = calls[tc.index] as { name: string; json: string };
      if (tc.function?.name) call.name = tc.function.name;
      call.json += tc.function?.arguments ?? "";
    }
  }
  return {
    text,
    calls: calls.map((c) => ({ name: c.name, args: JSON.parse(c.json) as unknown })),
    headers: response.headers,
  };
}

async function askAnthropic(ask: Ask): Promise<Answer> {
  const client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0, timeout: CLIENT_TIMEOUT_MS });
  const body = {
    model: ask.model,
    max_tokens: 300,
    ...(!ask.harmless && { system: SYSTEM }),
    messages: anthropicMessages(ask.harmless === true),
    ...(ask.tools && {
      tools: [lookupTool, receiptTool].map((t) => ({
        name: t.name,
        description: t.description,
        input_schema: t.parameters as Anthropic.Tool.InputSchema,
      })),
    }),
  };
  const options = { headers: ask.headers ?? {} };
  if (!ask.stream) {
    const { data, response } = await client.messages.create(body, options).withResponse();
    let text = "";
    const calls: Answer["calls"] = [];
    for (const block of data.content) {
      if (block.type === "text") text += block.text;
      else if (block.type === "tool_use") calls.push({ name: block.name, args: block.input });
    }
    return { text, calls, headers: response.headers };
  }
  const { data: stream, response } = await client.messages.create({ ...body, stream: true }, options).withResponse();
  let text = "";
  const blocks: { name: string; json: string; input: unknown }[] = [];
  for await (const event of stream) {
    if (event.type === "content_block_start" && event.content_block.type === "tool_use") {
      blocks[event.index] = { name: event.content_block.name, json: "", input: event.content_block.input };
    } else if (event.type === "content_block_delta") {
      if (event.delta.type === "text_delta") text += event.delta.text;
      else if (event.delta.type === "input_json_delta") {
        const block = blocks[event.index];
        if (block) block.json += event.delta.partial_json;
      }
    }
  }
  const calls = blocks
    .filter((b) => b !== undefined)
    .map((b) => ({ name: b.name, args: b.json === "" ? b.input : (JSON.parse(b.json) as unknown) }));
  return { text, calls, headers: response.headers };
}

async function askOllama(ask: Ask): Promise<Answer> {
  const ollama = new Ollama({ host: tandem.url, ...(ask.headers && { headers: ask.headers }) });
  const request = {
    model: ask.model,
    messages: ollamaMessages(ask.harmless === true),
    ...(ask.tools && { tools: [lookupTool, receiptTool].map((t) => ({ type: "function", function: t })) }),
  };
  const calls: Answer["calls"] = [];
  if (!ask.stream) {
    const whole = await ollama.chat({ ...request, stream: false });
    for (const call of whole.message.tool_calls ?? []) calls.push({ name: call.function.name, args: call.function.arguments });
    return { text: whole.message.content, calls };
  }
  let text = "";
  for await (const part of await ollama.chat({ ...request, stream: true })) {
    text += part.message.content;
    for (const call of part.message.tool_calls ?? []) calls.push({ name: call.function.name, args: call.function.arguments });
  }
  return { text, calls };
}

const ASK: Record<ClientKind, (ask: Ask) => Promise<Answer>> = {
  openai: askOpenAI,
  anthropic: askAnthropic,
  ollama: askOllama,
};

/** The HTTP status of an SDK error, whichever client threw it. */
function statusOf(err: unknown): number | undefined {
  if (err instanceof OpenAI.APIError || err instanceof Anthropic.APIError) return err.status;
  const status = (err as { status_code?: unknown }).status_code;
  return typeof status === "number" ? status : undefined;
}

/** Everything an SDK error says, for matching the attempt list. */
function errorText(err: unknown): string {
  const parts = [err instanceof Error ? err.message : String(err)];
  const body = (err as { error?: unknown }).error;
  if (body !== undefined) parts.push(typeof body === "string" ? body : JSON.stringify(body));
  return parts.join(" ");
}

/** The error is in the client's own dialect: the SDK's own error type with that API's error body. */
function assertDialectError(client: ClientKind, err: unknown, status: number): void {
  assert.equal(statusOf(err), status, `expected HTTP ${status}, got ${errorText(err)}`);
  if (client === "openai") {
    assert.ok(err instanceof OpenAI.APIError, "an OpenAI APIError");
    const body = err.error as { message?: unknown; type?: unknown } | undefined;
    assert.equal(typeof body?.message, "string", "OpenAI error body {error: {message, type, ...}}");
    assert.equal(typeof body?.type, "string");
    if (status === 403) {
      assert.ok(err instanceof OpenAI.PermissionDeniedError);
      assert.equal(err.code, "permission_denied");
    }
  } else if (client === "anthropic") {
    assert.ok(err instanceof Anthropic.APIError, "an Anthropic APIError");
    const body = err.error as { type?: unknown; error?: { type?: unknown; message?: unknown } } | undefined;
    assert.equal(body?.type, "error", "Anthropic error body {type: error, error: {type, message}}");
    assert.equal(typeof body?.error?.message, "string");
    if (status === 403) {
      assert.ok(err instanceof Anthropic.PermissionDeniedError);
      assert.equal(body?.error?.type, "permission_error");
    }
  } else {
    assert.equal((err as Error).name, "ResponseError", "the Ollama client's ResponseError");
    assert.equal(typeof (err as { error?: unknown }).error, "string", 'Ollama error body {"error": "..."}');
  }
}

async function expectError(client: ClientKind, ask: Ask): Promise<unknown> {
  let answer: Answer | undefined;
  try {
    answer = await ASK[client](ask);
  } catch (err) {
    return err;
  }
  assert.fail(`expected an error, got an answer: ${JSON.stringify(answer.text.slice(0, 200))}`);
}

// ---------------------------------------------------------------------------------------------
// Placeholders and the echo fake.

/** `[EMAIL_1]`, `[PAYMENT_CARD_2]`, `[CARD_1_R1]`: the placeholder shape, whatever a kind's label is. */
const PLACEHOLDER = /\[[A-Z][A-Z0-9_]*?_\d+(?:_R\d+)?\]/g;

function placeholdersIn(text: string): string[] {
  return text.match(PLACEHOLDER) ?? [];
}

interface WireMessage {
  role?: string;
  content?: unknown;
}

/** The text of the last user message an upstream received, in any of the three wire formats. */
function lastUserText(body: unknown): string {
  const messages = ((body as { messages?: WireMessage[] } | undefined)?.messages ?? []).filter((m) => m.role === "user");
  const content = messages.at(-1)?.content;
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content
      .filter((b: { type?: string; text?: unknown }) => b.type === "text" && typeof b.text === "string")
      .map((b: { text: string }) => b.text)
      .join("");
  }
  return "";
}

/**
 * Stream chunks that cut every placeholder apart, at its bracket and a few letters in:
 * `to `, `[`, `EMA`, `IL_1] and…`. A restorer that only looks inside one chunk would miss all of them.
 */
function splitAcrossPlaceholders(text: string): string[] {
  const cuts = new Set<number>();
  for (const match of text.matchAll(PLACEHOLDER)) {
    if (match.index > 0) cuts.add(match.index);
    cuts.add(match.index + 1);
    if (match[0].length > 5) cuts.add(match.index + 4);
  }
  if (cuts.size === 0) for (let i = 4; i < text.length; i += 4) cuts.add(i);
  const chunks: string[] = [];
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    chunks.push(text.slice(from, cut));
    from = cut;
  }
  chunks.push(text.slice(from));
  return chunks.filter((c) => c !== "");
}

/** Answers with the last user message as received (so with its placeholders), split across them when streamed. */
const echoText: FakeScript = (request) => {
  const said = lastUserText(request.body);
  return { kind: "text", text: said, chunks: splitAcrossPlaceholders(said), usage: { input: 50, output: 20 } };
};

/** Answers with a send_receipt call whose arguments are the placeholders it received for card, email and phone. */
const echoToolCall: FakeScript = (request) => {
  // LAST_USER names the card, then the email, then the phone.
  const [card = "MISSING", to = "MISSING", phone = "MISSING"] = placeholdersIn(lastUserText(request.body));
  return {
    kind: "tool_calls",
    calls: [{ name: receiptTool.name, arguments: { to, card, phone } }],
    usage: { input: 50, output: 20 },
  };
};

// ---------------------------------------------------------------------------------------------
// The setup: one local fake (Ollama kind, local by being on loopback), one more local fake
// (OpenAI kind, `local: true`), and three cloud fakes behind byte recorders.

const UPSTREAM_KINDS = ["openai", "anthropic", "ollama"] as const;
type UpstreamKind = (typeof UPSTREAM_KINDS)[number];

const LOCAL = "edge/llama";
const LAN = "lan/m";
const CLOUD: Record<UpstreamKind, string> = {
  openai: "cloudoa/gpt",
  anthropic: "cloudan/claude",
  ollama: "cloudol/llama",
};
const ALL_CLOUD = UPSTREAM_KINDS.map((k) => CLOUD[k]);
/** Routes on which every private request in this file is handled local-only: only public rows may name them. */
const LOCAL_ONLY_ROUTES = ["private", "plain", "cloud-only", "cloud-plain", "always-private"];

let edge: FakeOllamaUpstream;
let lan: FakeOpenAIUpstream;
const cloud = {} as { openai: FakeOpenAIUpstream; anthropic: FakeAnthropic; ollama: FakeOllamaUpstream };
const recorders = {} as Record<UpstreamKind, ByteRecorder>;
let tandem: RunningTandem;

const fast = {
  retry: { attempts: 1, baseMs: 0, maxMs: 0 },
  timeouts: { connectMs: 1000, firstTokenMs: 500, idleMs: 1000, totalMs: 6000 },
};

before(async () => {
  [edge, lan, cloud.openai, cloud.anthropic, cloud.ollama] = await Promise.all([
    startFakeOllama({ models: ["llama3.2:latest"] }),
    startFakeOpenAI({ models: ["local-m"] }),
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
  ]);
  [recorders.openai, recorders.anthropic, recorders.ollama] = await Promise.all([
    startByteRecorder(cloud.openai.url),
    startByteRecorder(cloud.anthropic.url),
    startByteRecorder(cloud.ollama.url),
  ]);
  const config: ConfigInput = {
    breaker: { failureThreshold: 1000, cooldownMs: 1000 },
    privacy: { default: "local-only", ...DETECTION },
    store: { enabled: true, logContent: false },
    providers: {
      edge: { kind: "ollama", baseUrl: edge.url, models: { llama: { id: "llama3.2:latest" } } },
      lan: { kind: "openai", baseUrl: lan.url, local: true, models: { m: { id: "local-m" } } },
      cloudoa: {
        kind: "openai",
        baseUrl: `${recorders.openai.url}/v1`,
        local: false,
        apiKeys: ["env:UP_OPENAI"],
        models: { gpt: { id: "gpt-4o-mini" } },
      },
      cloudan: {
        kind: "anthropic",
        baseUrl: recorders.anthropic.url,
        local: false,
        apiKeys: ["env:UP_ANTHROPIC"],
        models: { claude: { id: "claude-haiku-4-5" } },
      },
      cloudol: { kind: "ollama", baseUrl: recorders.ollama.url, local: false, models: { llama: { id: "llama3.2:latest" } } },
    },
    routes: {
      private: { tiers: [LOCAL, LAN, ...ALL_CLOUD], privacy: "local-only", ...fast },
      plain: { tiers: [LOCAL, ...ALL_CLOUD], ...fast },
      "always-private": { tiers: [LOCAL, CLOUD.openai], sensitivity: "private", ...fast },
      "cloud-only": { tiers: ALL_CLOUD, privacy: "local-only", ...fast },
      "cloud-plain": { tiers: ALL_CLOUD, ...fast },
      "redact-openai": { tiers: [CLOUD.openai], privacy: "redact", ...fast },
      "redact-anthropic": { tiers: [CLOUD.anthropic], privacy: "redact", ...fast },
      "redact-ollama": { tiers: [CLOUD.ollama], privacy: "redact", ...fast },
      "redact-local-first": { tiers: [LOCAL, CLOUD.openai], privacy: "redact", ...fast },
      allow: { tiers: [CLOUD.openai], privacy: "allow", ...fast },
    },
  };
  tandem = await startTandem(config, { store: true, env: { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" } });
});

after(async () => {
  await tandem?.close();
  await Promise.all(Object.values(recorders).map((r) => r.close()));
  await Promise.all([edge, lan, ...Object.values(cloud)].map((f) => f?.close()));
});

const allFakes = (): FakeUpstream[] => [edge, lan, cloud.openai, cloud.anthropic, cloud.ollama];

beforeEach(() => {
  for (const fake of allFakes()) fake.requests.length = 0;
  for (const recorder of Object.values(recorders)) recorder.clear();
  edge.script(() => ({ kind: "text", text: "Handled on this machine." }));
  lan.script(() => ({ kind: "text", text: "Handled on the LAN box." }));
  cloud.openai.script(() => ({ kind: "text", text: "from the openai cloud" }));
  cloud.anthropic.script(() => ({ kind: "text", text: "from the anthropic cloud" }));
  cloud.ollama.script(() => ({ kind: "text", text: "from the ollama cloud" }));
});

const chatPosts = (fake: FakeUpstream) => fake.requests.filter((r) => r.method === "POST").length;

/** Nothing at all reached any cloud upstream: no connection bytes, no request in any fake. */
async function assertCloudUntouched(): Promise<void> {
  // Late bytes (a request tandem started but had not written yet) would land within this pause.
  await sleep(50);
  for (const kind of UPSTREAM_KINDS) {
    const bytes = recorders[kind].received();
    assert.deepEqual(canariesIn(bytes), [], `canaries reached the ${kind} cloud upstream`);
    assert.equal(
      bytes.length,
      0,
      `the ${kind} cloud upstream received ${bytes.length} bytes: ${bytes.toString("utf8").slice(0, 300)}`,
    );
    assert.equal(cloud[kind].requests.length, 0, `the ${kind} cloud fake saw a request`);
  }
}

/** The chat POSTs a recorder saw, parsed from its raw bytes. */
function chatRequestsSeen(kind: UpstreamKind): RawHttpRequest[] {
  return recorders[kind].requests().filter((r) => r.method === "POST");
}

/** The request body a fake's last chat request carried, as text. */
function lastBodyText(fake: FakeUpstream): string {
  const last = fake.requests.filter((r) => r.method === "POST").at(-1);
  return last === undefined ? "" : JSON.stringify(last.body);
}

// ---------------------------------------------------------------------------------------------

describe("the canaries themselves", () => {
  const detector = new SensitiveDataDetector(DETECTION);
  const where: { name: string; findings: Finding[]; expect: string[] }[] = [
    { name: "system prompt", findings: detector.detect(SYSTEM), expect: [EMAIL, IBAN] },
    { name: "first user message", findings: detector.detect(FIRST_USER), expect: [EMPLOYEE, CODENAME, SSN, PHONE] },
    { name: "tool-call arguments", findings: detector.detectInJson(JSON.stringify(LOOKUP_ARGS)), expect: [EMAIL, CARD, AWS_KEY] },
    { name: "tool result", findings: detector.detectInJson(LOOKUP_RESULT), expect: [IP, GITHUB_TOKEN] },
    { name: "last user message", findings: detector.detect(LAST_USER), expect: [CARD, EMAIL, PHONE] },
  ];

  for (const { name, findings, expect } of where) {
    it(`detection flags every canary placed in the ${name}`, () => {
      const values = findings.map((f) => f.value);
      for (const value of expect) assert.ok(values.includes(value), `${JSON.stringify(value)} is not detected in the ${name}`);
      for (const f of findings) {
        const canary = CANARIES.find((c) => c.value === f.value);
        assert.ok(canary, `an unexpected finding ${f.kind} in the ${name}`);
        assert.equal(f.kind, canary.kind, `${canary.value} is found as ${f.kind}`);
      }
    });
  }

  it("every canary is placed somewhere, and the leak check sees each one in any spelling", () => {
    const placed = new Set(where.flatMap((w) => w.expect));
    for (const canary of CANARIES) assert.ok(placed.has(canary.value), `${canary.value} is in no message`);
    for (const canary of CANARIES) {
      for (const form of spellings(canary)) assert.ok(canariesIn(`xx${form}xx`).length > 0, `misses ${form}`);
    }
    assert.deepEqual(canariesIn("[EMAIL_1] [PAYMENT_CARD_1] [PHONE_1] [CARD_2_R1]"), []);
    assert.deepEqual(splitAcrossPlaceholders("to [EMAIL_1]."), ["to ", "[", "EMA", "IL_1]."]);
  });
});

describe("the byte recorder", () => {
  it("relays a keep-alive connection and frames its requests, by content-length and chunked", LIMIT, async () => {
    const seen: string[] = [];
    const upstream = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk: Buffer) => {
        body += chunk.toString("utf8");
      });
      req.on("end", () => {
        seen.push(body);
        res.end(`got ${body.length}`);
      });
    });
    await new Promise<void>((resolve) => upstream.listen(0, "127.0.0.1", resolve));
    const recorder = await startByteRecorder(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
    try {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      const post = (body: string, chunked: boolean) =>
        new Promise<string>((resolve, reject) => {
          const req = request(`${recorder.url}/v1/x`, {
            method: "POST",
            agent,
            headers: chunked ? { "transfer-encoding": "chunked" } : { "content-length": Buffer.byteLength(body) },
          });
          req.on("response", (res) => {
            let text = "";
            res.on("data", (chunk: Buffer) => {
              text += chunk.toString("utf8");
            });
            res.on("end", () => resolve(text));
          });
          req.on("error", reject);
          if (chunked) for (const piece of [body.slice(0, 3), body.slice(3)]) req.write(piece);
          req.end(chunked ? undefined : body);
        });
      assert.equal(await post('{"a":"é"}', false), "got 9");
      assert.equal(await post('{"b":"chunked body"}', true), "got 20");
      agent.destroy();
      assert.deepEqual(seen, ['{"a":"é"}', '{"b":"chunked body"}']);
      assert.equal(recorder.connections().length, 1, "one keep-alive connection");
      const requests = recorder.requests();
      assert.deepEqual(
        requests.map((r) => [r.method, r.path, r.chunked, r.complete, r.body.toString("utf8")]),
        [
          ["POST", "/v1/x", false, true, '{"a":"é"}'],
          ["POST", "/v1/x", true, true, '{"b":"chunked body"}'],
        ],
      );
      assert.ok(recorder.received().includes("transfer-encoding: chunked"), "headers are recorded too");
      recorder.clear();
      assert.equal(recorder.received().length, 0);
    } finally {
      await recorder.close();
      await new Promise<void>((resolve) => upstream.close(() => resolve()));
    }
  });
});

describe("local-only: private data never reaches a cloud target", () => {
  const failures: { name: string; reply: FakeReply }[] = [
    { name: "an HTTP 500", reply: { kind: "error", status: 500, message: "local engine crashed" } },
    { name: "a broken stream", reply: { kind: "broken_stream", chunks: [] } },
    { name: "a stall", reply: { kind: "stall", chunks: [] } },
  ];

  for (const client of CLIENTS) {
    for (const stream of [false, true]) {
      const how = `${client} client, ${stream ? "streamed" : "not streamed"}`;

      for (const failure of failures) {
        it(
          `${how}: both local targets fail with ${failure.name} -> 503 in the client's dialect, nothing to the cloud`,
          SLOW,
          async () => {
            edge.script(() => failure.reply);
            lan.script(() => failure.reply);
            const err = await expectError(client, { model: "private", stream, tools: true });
            assertDialectError(client, err, 503);
            const text = errorText(err);
            for (const target of ALL_CLOUD) {
              assert.match(text, new RegExp(`${target.replace("/", "\\/")}: local_only\\b`), `${target} is listed as local_only`);
            }
            assert.deepEqual(canariesIn(text), [], "the error names no canary");
            assert.ok(chatPosts(edge) >= 1, "the local Ollama target was tried");
            assert.ok(chatPosts(lan) >= 1, "the local OpenAI-kind target was tried");
            await assertCloudUntouched();
          },
        );
      }

      it(`${how}: the local target answers, the cloud hears nothing`, LIMIT, async () => {
        const answer = await ASK[client]({ model: "private", stream });
        assert.equal(answer.text, "Handled on this machine.");
        if (answer.headers) {
          assert.equal(answer.headers.get("x-tandem-target"), LOCAL);
          assert.equal(answer.headers.get("x-tandem-sensitivity"), "private");
        }
        assert.ok(lastBodyText(edge).includes(EMAIL), "the local target gets the original request, unredacted");
        await assertCloudUntouched();
      });

      it(`${how}: a route with only cloud targets refuses with 403`, LIMIT, async () => {
        for (const model of ["cloud-only", "cloud-plain", CLOUD.openai]) {
          const err = await expectError(client, { model, stream });
          assertDialectError(client, err, 403);
          assert.deepEqual(canariesIn(errorText(err)), [], "the refusal names no canary");
        }
        await assertCloudUntouched();
      });
    }

    it(
      `${client} client, streamed: the local target breaks mid-answer -> an error, and no continuation in the cloud`,
      LIMIT,
      async () => {
        edge.script(() => ({ kind: "broken_stream", chunks: ["Let me ", "check that "] }));
        await assert.rejects(ASK[client]({ model: "plain", stream: true }));
        assert.equal(chatPosts(edge), 1);
        await assertCloudUntouched();
      },
    );

    it(`${client} client: a route without a privacy setting keeps detected private data local`, LIMIT, async () => {
      edge.script(() => ({ kind: "error", status: 500 }));
      const err = await expectError(client, { model: "plain", stream: false });
      assertDialectError(client, err, 503);
      await assertCloudUntouched();
    });
  }
});

describe("x-tandem-sensitivity: private and a route's sensitivity setting", () => {
  const PRIVATE = { "x-tandem-sensitivity": "private" };

  for (const client of CLIENTS) {
    it(
      `${client} client: the header makes a harmless request local-only on a route without a privacy setting`,
      LIMIT,
      async () => {
        // Control: without the header, the failing local target is followed by the cloud.
        edge.script(() => ({ kind: "error", status: 500 }));
        const control = await ASK[client]({ model: "plain", stream: false, harmless: true });
        assert.equal(control.text, "from the openai cloud", "a public request fails over to the cloud");
        for (const recorder of Object.values(recorders)) recorder.clear();
        cloud.openai.requests.length = 0;

        for (const stream of [false, true]) {
          const err = await expectError(client, { model: "plain", stream, harmless: true, headers: PRIVATE });
          assertDialectError(client, err, 503);
          assert.match(errorText(err), /cloudoa\/gpt: local_only\b/);
        }
        await assertCloudUntouched();

        edge.script(() => ({ kind: "text", text: "Handled on this machine." }));
        const answer = await ASK[client]({ model: "plain", stream: true, harmless: true, headers: PRIVATE });
        assert.equal(answer.text, "Handled on this machine.");
        if (answer.headers) assert.equal(answer.headers.get("x-tandem-sensitivity"), "private");

        const refused = await expectError(client, { model: "cloud-plain", stream: false, harmless: true, headers: PRIVATE });
        assertDialectError(client, refused, 403);
        await assertCloudUntouched();
      },
    );

    it(`${client} client: a route with sensitivity: private keeps a harmless request local`, LIMIT, async () => {
      edge.script(() => ({ kind: "error", status: 500 }));
      const err = await expectError(client, { model: "always-private", stream: true, harmless: true });
      assertDialectError(client, err, 503);
      await assertCloudUntouched();
    });
  }
});

/** Every chat POST the recorder saw is in the egress audit, with the digest and size of exactly those bytes. */
async function assertAudited(kind: UpstreamKind, route: string, expected: { sensitivity: string; redacted: boolean }) {
  const sent = chatRequestsSeen(kind);
  assert.ok(sent.length >= 1, `the ${kind} recorder saw no chat request`);
  const audit = await readAudit(`?target=${encodeURIComponent(CLOUD[kind])}&limit=50`);
  for (const request of sent) {
    assert.ok(request.complete, "the recorder holds the whole request body");
    const sha256 = createHash("sha256").update(request.body).digest("hex");
    const row = audit.data.find((r) => r.sha256 === sha256);
    assert.ok(row, `no audit row for the ${request.body.length}-byte body sent to ${CLOUD[kind]} (sha256 ${sha256})`);
    assert.equal(row.bytes, request.body.length);
    assert.equal(row.target, CLOUD[kind]);
    assert.equal(row.route, route);
    assert.equal(row.sensitivity, expected.sensitivity);
    if (expected.redacted) {
      for (const k of ["email", "phone", "payment_card"]) {
        assert.ok((row.redactions[k] ?? 0) >= 1, `redactions.${k} >= 1 in ${JSON.stringify(row.redactions)}`);
      }
    } else {
      assert.deepEqual(row.redactions, {});
    }
  }
}

/** An egress audit row as GET /v1/audit puts it on the wire (its time as an ISO string). */
type AuditRow = Omit<EgressAuditRow, "time"> & { time: string };

async function readAudit(query = ""): Promise<{ object: string; data: AuditRow[]; raw: string }> {
  (tandem.server as { store?: { flush(): unknown } }).store?.flush();
  const res = await fetch(`${tandem.url}/v1/audit${query}`, { signal: AbortSignal.timeout(5000) });
  const raw = await res.text();
  assert.equal(res.status, 200, `GET /v1/audit${query}: ${raw.slice(0, 300)}`);
  const body = JSON.parse(raw) as { object: string; data: AuditRow[] };
  return { ...body, raw };
}

/** The redacted request reached the cloud: no canary in any byte, placeholders instead, the same value always the same one. */
function assertRedactedOnTheWire(kind: UpstreamKind): void {
  const bytes = recorders[kind].received();
  assert.deepEqual(canariesIn(bytes), [], `canaries reached the ${kind} cloud upstream`);
  const sent = chatRequestsSeen(kind);
  assert.ok(sent.length >= 1, `the ${kind} cloud upstream received no chat request`);
  for (const request of sent) {
    const body = request.body.toString("utf8");
    const distinct = new Set(placeholdersIn(body));
    assert.ok(
      distinct.size >= CANARIES.length,
      `expected a placeholder for each of the ${CANARIES.length} canary values, got ${[...distinct].join(" ")}`,
    );
    // The email is in the system prompt, the earlier tool call and the last message: one placeholder for all.
    const [, emailPlaceholder] = placeholdersIn(lastUserText(JSON.parse(body)));
    assert.ok(emailPlaceholder, "the last user message carries placeholders");
    const uses = body.split(emailPlaceholder).length - 1;
    assert.ok(uses >= 3, `the email's placeholder ${emailPlaceholder} stands for it everywhere (${uses} uses)`);
  }
}

describe("redact: the cloud sees placeholders, the client sees its own values", () => {
  for (const kind of UPSTREAM_KINDS) {
    const route = `redact-${kind}`;
    for (const client of CLIENTS) {
      for (const stream of [false, true]) {
        const how = `${client} client -> ${kind} cloud, ${stream ? "streamed" : "not streamed"}`;

        it(
          `${how}: echoed text${stream ? " with every placeholder split across chunks" : ""} comes back rehydrated`,
          LIMIT,
          async () => {
            cloud[kind].script(echoText);
            const answer = await ASK[client]({ model: route, stream });
            assertRedactedOnTheWire(kind);
            assert.equal(answer.text, LAST_USER, "the client reads its own values, not placeholders");
            assert.deepEqual(placeholdersIn(answer.text), []);
            if (answer.headers) {
              assert.equal(answer.headers.get("x-tandem-target"), CLOUD[kind]);
              assert.equal(answer.headers.get("x-tandem-sensitivity"), "private");
            }
            await assertAudited(kind, route, { sensitivity: "private", redacted: true });
          },
        );

        it(`${how}: a tool call built from placeholders comes back with the real values in its arguments`, LIMIT, async () => {
          cloud[kind].script(echoToolCall);
          const answer = await ASK[client]({ model: route, stream, tools: true });
          assertRedactedOnTheWire(kind);
          assert.equal(answer.calls.length, 1, `one tool call, got ${JSON.stringify(answer.calls)}`);
          assert.equal(answer.calls[0]?.name, receiptTool.name);
          assert.deepEqual(answer.calls[0]?.args, RECEIPT_ARGS);
          await assertAudited(kind, route, { sensitivity: "private", redacted: true });
        });
      }
    }
  }

  for (const client of CLIENTS) {
    for (const stream of [false, true]) {
      it(
        `${client} client, ${stream ? "streamed" : "not streamed"}: the local first tier fails, the cloud fallback goes redacted`,
        LIMIT,
        async () => {
          edge.script(() => ({ kind: "error", status: 500, message: "local engine crashed" }));
          cloud.openai.script(echoText);
          const answer = await ASK[client]({ model: "redact-local-first", stream });
          assert.equal(chatPosts(edge), 1, "the local tier was tried first");
          assert.ok(lastBodyText(edge).includes(EMAIL), "the local target got the original request");
          assertRedactedOnTheWire("openai");
          assert.equal(answer.text, LAST_USER);
          if (answer.headers) assert.equal(answer.headers.get("x-tandem-target"), CLOUD.openai);
          await assertAudited("openai", "redact-local-first", { sensitivity: "private", redacted: true });
        },
      );
    }
  }
});

describe("allow: the recorder does see what is sent (sanity check)", () => {
  for (const client of CLIENTS) {
    it(`${client} client: every canary reaches the cloud on an allow route`, LIMIT, async () => {
      cloud.openai.script(echoText);
      const answer = await ASK[client]({ model: "allow", stream: false });
      assert.equal(answer.text, LAST_USER);
      const leaked = canariesIn(recorders.openai.received());
      for (const canary of CANARIES) {
        assert.ok(
          leaked.some((l) => l.startsWith(`${canary.kind} `)),
          `${canary.value} should be on the wire under allow; found ${leaked.join(", ")}`,
        );
      }
      assert.deepEqual(placeholdersIn(recorders.openai.received().toString("utf8")), []);
      await assertAudited("openai", "allow", { sensitivity: "private", redacted: false });
    });
  }
});

describe("egress audit", () => {
  it("lists what left, newest first, with digests of the exact bytes, and never a value", LIMIT, async () => {
    const before = new Date(Date.now() - 1000).toISOString();
    const digests: Record<UpstreamKind, string> = { openai: "", anthropic: "", ollama: "" };
    for (const kind of UPSTREAM_KINDS) {
      cloud[kind].script(echoText);
      await askOpenAI({ model: `redact-${kind}`, stream: kind !== "anthropic" });
      const sent = chatRequestsSeen(kind).at(-1);
      assert.ok(sent, `the ${kind} recorder saw the request`);
      // Parsing the recorder's bytes: the body is what follows the blank line, framed by its length.
      const raw = recorders[kind].connections().find((c) => c.includes(sent.body));
      assert.ok(raw, "the parsed body is in the raw bytes");
      assert.ok(raw.indexOf(sent.body) > raw.indexOf("\r\n\r\n"), "the body follows the header block");
      digests[kind] = createHash("sha256").update(sent.body).digest("hex");
    }

    const all = await readAudit("?limit=1000");
    assert.equal(all.object, "list");
    assert.ok(Array.isArray(all.data));
    assert.deepEqual(canariesIn(all.raw), [], "the audit holds no value");
    // The only requests on local-only routes that may leave are the header test's public controls.
    for (const row of all.data.filter((r) => r.route !== null && LOCAL_ONLY_ROUTES.includes(r.route))) {
      assert.equal(row.sensitivity, "public", `a ${row.sensitivity} request on the local-only route ${row.route} left`);
      assert.deepEqual(row.redactions, {});
    }
    assert.ok(
      all.data.some((r) => r.route === "plain" && r.sensitivity === "public"),
      "public requests that go to the cloud are audited too",
    );
    for (const row of all.data) {
      assert.match(row.sha256, /^[0-9a-f]{64}$/);
      assert.ok(Number.isInteger(row.bytes) && row.bytes > 0);
      assert.ok(ALL_CLOUD.includes(row.target), `only cloud targets are audited, not ${row.target}`);
      assert.ok(!Number.isNaN(new Date(row.time).getTime()), `a time: ${row.time}`);
    }
    const ids = all.data.map((r) => r.id);
    const times = all.data.map((r) => new Date(r.time).getTime());
    for (let i = 1; i < times.length; i++) {
      assert.ok((times[i - 1] as number) >= (times[i] as number), "newest first");
    }
    assert.equal(new Set(ids).size, ids.length, "ids are unique");

    for (const kind of UPSTREAM_KINDS) {
      const newest = await readAudit(`?target=${encodeURIComponent(CLOUD[kind])}&limit=1`);
      assert.equal(newest.data.length, 1, "limit=1");
      const row = newest.data[0] as AuditRow;
      assert.equal(row.target, CLOUD[kind]);
      assert.equal(row.route, `redact-${kind}`);
      assert.equal(row.sensitivity, "private");
      assert.equal(row.sha256, digests[kind], `the ${kind} row's sha256 is that of the bytes on the wire`);
      assert.equal(row.bytes, (chatRequestsSeen(kind).at(-1) as RawHttpRequest).body.length);
      for (const k of ["email", "phone", "payment_card", "ssn", "iban", "ip_address", "employee_id"]) {
        assert.ok((row.redactions[k] ?? 0) >= 1, `redactions.${k} >= 1 in ${JSON.stringify(row.redactions)}`);
      }
      assert.ok((row.redactions.secret ?? 0) >= 2, `two secrets redacted: ${JSON.stringify(row.redactions)}`);
    }

    const since = await readAudit(`?since=${encodeURIComponent(before)}&limit=1000`);
    for (const kind of UPSTREAM_KINDS) {
      assert.ok(
        since.data.some((r) => r.sha256 === digests[kind]),
        `since=${before} includes the ${kind} row`,
      );
    }
    const future = await readAudit(`?since=${encodeURIComponent(new Date(Date.now() + 3_600_000).toISOString())}`);
    assert.deepEqual(future.data, []);
  });
});
