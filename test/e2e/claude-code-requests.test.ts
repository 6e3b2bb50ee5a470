/**
 * The requests Claude Code 2.1 sends (captured from `claude -p` against tandem, trimmed: see
 * docs/real-clients.md). Every one of them carries `thinking: {type: "adaptive"}` with
 * `output_config.effort`, `context_management`, a system turn after the user's and a batch of
 * `anthropic-beta` flags; tandem refused the adaptive thinking type with a 400, so Claude Code
 * could not talk to tandem at all.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const BETA =
  "claude-code-20250219,interleaved-thinking-2025-05-14,thinking-token-count-2026-05-13,context-management-2025-06-27,prompt-caching-scope-2026-01-05,mid-conversation-system-2026-04-07,effort-2025-11-24";

/** Claude Code's request headers (the SDK's x-stainless-* left out). */
const HEADERS = {
  "content-type": "application/json",
  accept: "application/json",
  "anthropic-version": "2023-06-01",
  "anthropic-beta": BETA,
  "anthropic-dangerous-direct-browser-access": "true",
  "x-app": "cli",
  "x-api-key": "unused",
};

const BASH_TOOL = {
  name: "Bash",
  description: "Executes a bash command and returns its output.",
  input_schema: {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: {
      command: { description: "The command to execute", type: "string" },
      timeout: { description: "Optional timeout in milliseconds (max 600000)", type: "number" },
      description: { description: "Clear, concise description of what this command does in active voice.", type: "string" },
      run_in_background: { description: "Set to true to run this command in the background.", type: "boolean" },
    },
    required: ["command"],
    additionalProperties: false,
  },
};

/** `claude -p "Say hi"`: its first request, trimmed. */
function firstTurn(model: string): Record<string, unknown> {
  return {
    model,
    messages: [
      {
        role: "user",
        content: [
          { type: "text", text: "<system-reminder>\n# currentDate\nToday's date is 2026-12-03.\n</system-reminder>" },
          { type: "text", text: "Say hi", cache_control: { type: "ephemeral" } },
        ],
      },
      { role: "system", content: "Available agent types for the Agent tool:\n- Explore: Read-only search agent" },
    ],
    system: [
      { type: "text", text: "x-anthropic-billing-header: cc_version=2.1.197.123; cc_entrypoint=sdk-cli;" },
      {
        type: "text",
        text: "You are a Claude agent, built on Anthropic's Claude Agent SDK.",
        cache_control: { type: "ephemeral" },
      },
      {
        type: "text",
        text: "You are an interactive agent that helps users with software engineering tasks.",
        cache_control: { type: "ephemeral" },
      },
    ],
    tools: [BASH_TOOL],
    metadata: { user_id: '{"device_id":"0000","account_uuid":"","session_id":"be67cd1f-be00-4f21-95cb-1b6b909c7744"}' },
    max_tokens: 32000,
    thinking: { type: "adaptive" },
    context_management: { edits: [{ type: "clear_thinking_20251015", keep: "all" }] },
    output_config: { effort: "high" },
    stream: true,
  };
}

/** The request after Claude Code ran the Bash tool the model asked for. */
function toolResultTurn(model: string): Record<string, unknown> {
  const first = firstTurn(model);
  const [user, system] = first.messages as unknown[];
  return {
    ...first,
    messages: [
      user,
      {
        role: "assistant",
        content: [{ type: "tool_use", id: "toolu_01", name: "Bash", input: { command: "echo ok", description: "Print ok" } }],
      },
      system,
      { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_01", content: "ok", is_error: false }] },
    ],
  };
}

const ECHO_TOOL = {
  name: "mcp__files__echo",
  description: "Echoes its text.",
  input_schema: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
  defer_loading: true,
};

/**
 * Claude Code 2.1.3xx with an MCP server: its MCP tools are deferred (`defer_loading`, beside a
 * placeholder that keeps deferral on) and loaded by its ToolSearch tool, whose result is a
 * tool_reference block (the advanced-tool-use beta). `searched`: the turn after the search.
 */
function deferredToolsTurn(model: string, searched: boolean): Record<string, unknown> {
  const first = firstTurn(model);
  const [user, system] = first.messages as unknown[];
  const tools = [
    BASH_TOOL,
    {
      name: "ToolSearch",
      description: "Fetches deferred tools.",
      input_schema: { type: "object", properties: { query: { type: "string" } } },
    },
    {
      name: "DeferredToolPlaceholder",
      description: "Reserved placeholder that keeps deferred tool loading active; never call this tool.",
      input_schema: { type: "object", properties: {} },
      defer_loading: true,
    },
    ECHO_TOOL,
  ];
  if (!searched) return { ...first, tools };
  return {
    ...first,
    tools,
    messages: [
      user,
      system,
      {
        role: "assistant",
        content: [{ type: "tool_use", id: "toolu_02", name: "ToolSearch", input: { query: "select:mcp__files__echo" } }],
      },
      {
        role: "user",
        content: [
          { type: "tool_result", tool_use_id: "toolu_02", content: [{ type: "tool_reference", tool_name: "mcp__files__echo" }] },
        ],
      },
    ],
  };
}

let anthropic: FakeUpstream;
let openai: FakeUpstream;
let tandem: RunningTandem;

before(async () => {
  [anthropic, openai] = await Promise.all([
    startFakeAnthropic({ models: ["claude-sonnet-4-5"] }),
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
  ]);
  anthropic.script(() => ({ kind: "text", text: "Hi!", usage: { input: 9, output: 2 } }));
  // As OpenAI answers a reasoning effort for gpt-4o-mini, which has no reasoning.
  openai.script((request) =>
    "reasoning_effort" in (request.body as Record<string, unknown>)
      ? {
          kind: "error",
          status: 400,
          body: {
            error: {
              message: "Unsupported parameter: 'reasoning_effort' is not supported with this model.",
              type: "invalid_request_error",
              param: "reasoning_effort",
              code: "unsupported_parameter",
            },
          },
        }
      : { kind: "text", text: "Hi!", usage: { input: 9, output: 2 } },
  );
  tandem = await startTandem(
    {
      providers: {
        claude: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] },
        oai: { kind: "openai", baseUrl: openai.url, models: ["gpt-4o-mini"] },
      },
    },
    { env: { UP_ANTHROPIC: "sk-ant-upstream" } },
  );
});

after(async () => {
  await tandem?.close();
  await Promise.all([anthropic?.close(), openai?.close()]);
});

function send(path: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${tandem.url}${path}`, { method: "POST", headers: HEADERS, body: JSON.stringify(body) });
}

/** The text of an Anthropic SSE stream's text deltas. */
function streamedText(sse: string): string {
  return sse
    .split("\n")
    .filter((line) => line.startsWith("data: "))
    .map((line) => JSON.parse(line.slice(6)) as { type: string; delta?: { type: string; text?: string } })
    .filter((event) => event.type === "content_block_delta" && event.delta?.type === "text_delta")
    .map((event) => event.delta?.text)
    .join("");
}

describe("Claude Code's requests", () => {
  it("reach an Anthropic target with adaptive thinking, effort, context management and beta flags as sent", async () => {
    const res = await send("/v1/messages?beta=true", firstTurn("claude/claude-sonnet-4-5"));
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.equal(streamedText(text), "Hi!");
    const got = anthropic.requests.at(-1);
    const body = got?.body as Record<string, unknown>;
    assert.deepEqual(body.thinking, { type: "adaptive" });
    assert.deepEqual(body.output_config, { effort: "high" });
    assert.deepEqual(body.context_management, { edits: [{ type: "clear_thinking_20251015", keep: "all" }] });
    assert.equal(got?.headers["anthropic-beta"], BETA);
  });

  it("reach an OpenAI-compatible target with their effort as reasoning_effort, left out where the model refuses it, and what cannot cross named", async () => {
    const before = openai.requests.length;
    const res = await send("/v1/messages?beta=true", firstTurn("oai/gpt-4o-mini"));
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.equal(streamedText(text), "Hi!");
    const sent = openai.requests.slice(before).map((r) => r.body as Record<string, unknown>);
    // Adaptive thinking at effort high is reasoning_effort high; gpt-4o-mini refuses it, so it goes again without.
    assert.deepEqual(
      sent.map((b) => b.reasoning_effort),
      ["high", undefined],
    );
    const warnings = res.headers.get("x-tandem-warnings") ?? "";
    assert.match(warnings, /context_management/);
    assert.match(warnings, /reasoning_effort not sent to oai\/gpt-4o-mini/);
    assert.doesNotMatch(warnings, /output_config\.effort/, "the effort crossed");
  });

  it("carry a Bash tool round trip to an OpenAI-compatible target", async () => {
    const res = await send("/v1/messages?beta=true", toolResultTurn("oai/gpt-4o-mini"));
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const messages = (
      openai.requests.at(-1)?.body as { messages: Array<{ role: string; tool_call_id?: string; content?: unknown }> }
    ).messages;
    // Claude Code's system reminder came between the tool call and its result: it goes after the
    // result, since OpenAI wants a call's results right after it.
    assert.deepEqual(
      messages.map((m) => m.role),
      ["system", "user", "assistant", "tool", "system"],
    );
    // Its id without Anthropic's toolu_ prefix (tandem adds it to another upstream's ids, and takes it off again).
    assert.equal(messages[3]?.tool_call_id, "01");
  });

  it("offer a deferred tool to an OpenAI-compatible target once a tool search has loaded it, never the placeholder", async () => {
    const before = await send("/v1/messages?beta=true", deferredToolsTurn("oai/gpt-4o-mini", false));
    assert.equal(before.status, 200, await before.text());
    const offered = (request: unknown) =>
      ((request as { tools?: Array<{ function: { name: string } }> }).tools ?? []).map((t) => t.function.name);
    assert.deepEqual(offered(openai.requests.at(-1)?.body), ["Bash", "ToolSearch"]);

    const res = await send("/v1/messages?beta=true", deferredToolsTurn("oai/gpt-4o-mini", true));
    const text = await res.text();
    assert.equal(res.status, 200, text);
    assert.equal(streamedText(text), "Hi!");
    const body = openai.requests.at(-1)?.body as { messages: Array<{ role: string; content?: unknown }> };
    assert.deepEqual(offered(body), ["Bash", "ToolSearch", "mcp__files__echo"]);
    const result = body.messages.find((m) => m.role === "tool");
    assert.match(JSON.stringify(result?.content), /mcp__files__echo loaded/);
    assert.match(res.headers.get("x-tandem-warnings") ?? "", /tool_reference/);
  });

  it("pass deferred tools and tool_reference blocks to an Anthropic target as sent", async () => {
    const sent = deferredToolsTurn("claude/claude-sonnet-4-5", true);
    const res = await send("/v1/messages?beta=true", sent);
    assert.equal(res.status, 200, await res.text());
    const body = anthropic.requests.at(-1)?.body as Record<string, unknown>;
    assert.deepEqual(body.tools, sent.tools);
    assert.deepEqual(body.messages, sent.messages);
  });

  it("carry mid-conversation tool changes to an OpenAI-compatible target as the tools at the end, and to Anthropic as sent", async () => {
    const first = firstTurn("oai/gpt-4o-mini");
    const inline = {
      name: "Grep",
      description: "Searches files.",
      input_schema: { type: "object", properties: { pattern: { type: "string" } } },
    };
    const body = {
      ...first,
      tools: [BASH_TOOL, ECHO_TOOL],
      messages: [
        { role: "user", content: "hi" },
        { role: "assistant", content: [{ type: "text", text: "Hello." }] },
        { role: "system", content: [{ type: "tool_addition", tool: { type: "tool_reference", name: "mcp__files__echo" } }] },
        {
          role: "user",
          content: [
            { type: "tool_removal", tool: { type: "tool_reference", name: "Bash" } },
            { type: "tool_addition", tool: { type: "tool_definition", definition: inline } },
            { type: "text", text: "go" },
          ],
        },
      ],
    };
    const res = await send("/v1/messages?beta=true", body);
    const text = await res.text();
    assert.equal(res.status, 200, text);
    const sent = openai.requests.at(-1)?.body as {
      tools?: Array<{ function: { name: string } }>;
      messages: Array<{ role: string; content?: unknown }>;
    };
    assert.deepEqual(
      (sent.tools ?? []).map((t) => t.function.name),
      ["mcp__files__echo", "Grep"],
    );
    // The system turn that only added a tool is not sent as an empty system message.
    assert.deepEqual(
      sent.messages.map((m) => m.role),
      ["system", "user", "assistant", "user"],
    );
    assert.match(res.headers.get("x-tandem-warnings") ?? "", /tool_addition/);

    const native = { ...body, model: "claude/claude-sonnet-4-5" };
    const same = await send("/v1/messages?beta=true", native);
    assert.equal(same.status, 200, await same.text());
    assert.deepEqual((anthropic.requests.at(-1)?.body as { messages: unknown }).messages, native.messages);
  });

  it("leave out a system turn cleared at the next user turn once one follows it, on another wire", async () => {
    const body = {
      ...firstTurn("oai/gpt-4o-mini"),
      messages: [
        { role: "user", content: "hi" },
        { role: "system", content: "Only for the first turn.", clear_at: "next_user_message" },
        { role: "assistant", content: "Hello." },
        { role: "system", content: "Always.", clear_at: "never" },
        { role: "user", content: "go" },
        { role: "system", content: "For this turn.", clear_at: "next_user_message" },
      ],
    };
    const res = await send("/v1/messages?beta=true", body);
    assert.equal(res.status, 200, await res.text());
    const sent = (openai.requests.at(-1)?.body as { messages: Array<{ role: string; content: unknown }> }).messages;
    const texts = JSON.stringify(sent);
    assert.doesNotMatch(texts, /Only for the first turn/);
    assert.match(texts, /Always\./);
    assert.match(texts, /For this turn\./);

    const misplaced = await send("/v1/messages", {
      ...firstTurn("oai/gpt-4o-mini"),
      messages: [{ role: "user", content: "hi", clear_at: "never" }],
    });
    assert.equal(misplaced.status, 400);
    assert.match(((await misplaced.json()) as { error: { message: string } }).error.message, /clear_at/);
  });

  it("are counted by count_tokens with adaptive thinking", async () => {
    const { stream: _stream, max_tokens: _max, ...body } = firstTurn("oai/gpt-4o-mini");
    const res = await send("/v1/messages/count_tokens?beta=true", body);
    const json = (await res.json()) as { input_tokens?: number };
    assert.equal(res.status, 200, JSON.stringify(json));
    assert.ok((json.input_tokens ?? 0) > 0);
  });

  it("still get a 400 naming thinking.type for a type that does not exist", async () => {
    const res = await send("/v1/messages", { ...firstTurn("oai/gpt-4o-mini"), thinking: { type: "sometimes" } });
    const json = (await res.json()) as { type: string; error: { type: string; message: string } };
    assert.equal(res.status, 400);
    assert.equal(json.error.type, "invalid_request_error");
    assert.match(json.error.message, /thinking\.type/);
    assert.match(json.error.message, /adaptive/);
  });
});
