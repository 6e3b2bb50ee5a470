/**
 * Tool names a target's wire cannot take: OpenAI's and Anthropic's are `[A-Za-z0-9_-]`, 64 at most,
 * and an MCP tool's name (`mcp__<server>__<tool>`) can be longer, as other clients' names can hold
 * dots. Such a name goes as its alias (the same one in every request, so the history's calls match),
 * and the answer's calls come back under the client's own name, whole and streamed.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import { Ollama } from "ollama";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const LONG = "mcp__claude_ai_Google_Drive__google_drive_fetch_document_contents_with_comments";
const VALID = /^[A-Za-z0-9_-]{1,64}$/;

let oai: FakeOpenAIUpstream;
let claude: FakeAnthropic;
let tandem: RunningTandem;
let anthropic: Anthropic;
let ollama: Ollama;

/** The upstream calls the first tool it was offered, by the name it was given, as a real API refuses names past its rules. */
function callFirstTool(request: RecordedRequest) {
  const body = request.body as { tools?: { name?: string; function?: { name: string } }[] };
  const names = (body.tools ?? []).map((t) => t.function?.name ?? t.name ?? "");
  const bad = names.find((name) => !VALID.test(name));
  if (bad !== undefined)
    return {
      kind: "error" as const,
      status: 400,
      message: `Invalid 'tools[0].function.name': string too long or bad pattern: ${bad}`,
    };
  return { kind: "tool_calls" as const, calls: [{ name: names[0] ?? "none", arguments: { id: "doc1" } }] };
}

before(async () => {
  [oai, claude] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-sonnet-4-5"] }),
  ]);
  oai.script(callFirstTool);
  claude.script(callFirstTool);
  tandem = await startTandem(
    {
      providers: {
        oai: { kind: "openai", baseUrl: oai.url, models: ["gpt-4o-mini"] },
        claude: { kind: "anthropic", baseUrl: claude.url, apiKeys: ["env:UP"], models: ["claude-sonnet-4-5"] },
      },
    },
    { env: { UP: "sk-ant-upstream" } },
  );
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
  ollama = new Ollama({ host: tandem.url });
});

after(async () => {
  await tandem?.close();
  await Promise.all([oai?.close(), claude?.close()]);
});

beforeEach(() => {
  oai.requests.length = 0;
  claude.requests.length = 0;
});

const lastBody = (fake: { requests: RecordedRequest[] }) =>
  fake.requests.filter((r) => r.method === "POST").at(-1)?.body as Record<string, unknown>;

describe("a tool name past a wire's rules", () => {
  it("Claude Code's long MCP tool name to an OpenAI upstream: sent as its alias, called back by its own name", async () => {
    const message = await anthropic.messages.create({
      model: "oai/gpt-4o-mini",
      max_tokens: 200,
      tools: [{ name: LONG, input_schema: { type: "object", properties: { id: { type: "string" } } } }],
      messages: [{ role: "user", content: "Fetch doc1" }],
    });
    const call = message.content.find((b) => b.type === "tool_use") as { name: string; input: unknown } | undefined;
    assert.equal(call?.name, LONG);
    assert.deepEqual(call?.input, { id: "doc1" });
    const sent = (lastBody(oai).tools as { function: { name: string } }[])[0]?.function.name ?? "";
    assert.match(sent, VALID);
    assert.ok(sent.startsWith("mcp__claude_ai_Google_Drive__google_drive_fetch_documen_"), sent);
  });

  it("the history's call goes under the same alias, and a streamed answer's call comes back by its own name", async () => {
    const stream = anthropic.messages.stream({
      model: "oai/gpt-4o-mini",
      max_tokens: 200,
      tools: [{ name: LONG, input_schema: { type: "object" } }],
      messages: [
        { role: "user", content: "Fetch doc1" },
        { role: "assistant", content: [{ type: "tool_use", id: "toolu_1", name: LONG, input: { id: "doc1" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "the doc" }] },
      ],
    });
    const message = await stream.finalMessage();
    assert.equal((message.content.find((b) => b.type === "tool_use") as { name: string } | undefined)?.name, LONG);
    const body = lastBody(oai);
    const alias = (body.tools as { function: { name: string } }[])[0]?.function.name;
    const history = (body.messages as { tool_calls?: { function: { name: string } }[] }[]).find((m) => m.tool_calls);
    assert.equal(history?.tool_calls?.[0]?.function.name, alias);
  });

  it("an Ollama client's dotted name to Anthropic: sent as its alias, called back by its own name", async () => {
    const answer = await ollama.chat({
      model: "claude/claude-sonnet-4-5",
      messages: [{ role: "user", content: "Read a.txt" }],
      tools: [
        {
          type: "function",
          function: { name: "files.read", description: "read", parameters: { type: "object", properties: {} } },
        },
      ],
      stream: false,
    });
    assert.equal(answer.message.tool_calls?.[0]?.function.name, "files.read");
    const sent = (lastBody(claude).tools as { name: string }[])[0]?.name ?? "";
    assert.match(sent, VALID);
    assert.notEqual(sent, "files.read");
  });

  it("a name that fits goes as it is", async () => {
    await anthropic.messages.create({
      model: "oai/gpt-4o-mini",
      max_tokens: 200,
      tools: [{ name: "Bash", input_schema: { type: "object" } }],
      messages: [{ role: "user", content: "ls" }],
    });
    assert.equal((lastBody(oai).tools as { function: { name: string } }[])[0]?.function.name, "Bash");
  });
});
