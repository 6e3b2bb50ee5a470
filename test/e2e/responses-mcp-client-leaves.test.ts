/**
 * A client that leaves a whole (not streamed) Responses request while tandem runs a route's MCP tool
 * (a real stdio server): the request is logged as the client's leaving (499), never as an internal
 * error, whichever way the call's cancellation comes back (the MCP SDK rejects with the signal's
 * reason, the client's disconnect).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { MCP_STDIO_SERVER } from "../support/mcp-test-server.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: FakeOpenAIUpstream;
let tandem: RunningTandem;
const log: string[] = [];

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  tandem = await startTandem(
    {
      providers: { openai: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_OPENAI"], local: false } },
      mcp: { servers: { files: MCP_STDIO_SERVER } },
      routes: { assistant: { tiers: ["openai/gpt-4o-mini"], tools: ["mcp:files"] } },
    },
    { env: { UP_OPENAI: "sk-upstream-openai" }, log },
  );
  // The model calls the server's slow tool, which would take 5 s.
  upstream.script(() => ({ kind: "tool_calls", calls: [{ name: "mcp__files__slow", arguments: { ms: 5000 } }] }));
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

/** The captured log lines, parsed. */
const lines = () => log.map((line) => JSON.parse(line) as { level: number; msg: string; status?: number });

describe("a client that leaves a whole Responses request during a route's MCP call", () => {
  it("is logged as 499, with no internal error", async () => {
    const controller = new AbortController();
    const answering = fetch(`${tandem.url}/v1/responses`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "assistant", input: "Wait for it", stream: false }),
      signal: controller.signal,
    });
    // The model has asked for the call: the tool is running. (Bounds of 10 s: a loaded machine can be slow.)
    for (let i = 0; i < 500 && upstream.requests.filter((r) => r.method === "POST").length === 0; i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(upstream.requests.filter((r) => r.method === "POST").length, 1, "the model was asked, before the client leaves");
    await new Promise((resolve) => setTimeout(resolve, 300));
    controller.abort();
    await answering.catch(() => {});
    // The request's log line is written once its response closes.
    for (let i = 0; i < 500 && !lines().some((l) => l.status === 499); i++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(
      lines().some((l) => l.status === 499),
      `a 499 line: ${log.join("\n")}`,
    );
    const errors = lines().filter((l) => l.level >= 50);
    assert.deepEqual(errors, [], "no error-level line");
    assert.equal(upstream.requests.filter((r) => r.method === "POST").length, 1, "no next model turn was asked for");
  });
});
