/**
 * The Responses API's `mcp` tools through a real tandem server with the official openai SDK: tandem's
 * tool loop lists the server's tools, offers them to the model (a fake OpenAI chat upstream and a fake
 * Anthropic one), runs the calls the model makes and gives it their output, and the client gets
 * OpenAI's MCP items (`mcp_list_tools`, `mcp_call`, `mcp_approval_request`) and events. The MCP side is
 * a scripted ToolHost here (the host itself is tested against real MCP servers in test/harness/tools).
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import type { HostedToolInfo, HostedToolOutcome, McpServerRef, ToolHost } from "../../src/core/index.js";
import { startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { startFakeOllama } from "../support/fake-ollama-upstream.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream, RecordedRequest } from "../support/fake-upstream.js";
import { mcpCallError, mcpCallErrorText } from "../support/mcp-call-error.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const TOOLS: HostedToolInfo[] = [
  {
    name: "search",
    description: "Search the docs",
    inputSchema: { type: "object", properties: { q: { type: "string" } }, required: ["q"] },
    annotations: { readOnlyHint: true },
  },
  { name: "delete_page", description: "Delete a page", inputSchema: { type: "object", properties: { id: { type: "string" } } } },
];

class ScriptedHost implements ToolHost {
  readonly lists: McpServerRef[] = [];
  readonly calls: Array<{ server: McpServerRef; name: string; args: Record<string, unknown> }> = [];
  configured(label: string): boolean {
    return label === "local-docs";
  }
  async listTools(server: McpServerRef): Promise<{ tools: HostedToolInfo[] } | { error: string }> {
    this.lists.push(server);
    if (server.url?.includes("broken")) return { error: "Http status code: 401 (Unauthorized)" };
    return { tools: TOOLS };
  }
  async callTool(server: McpServerRef, name: string, args: Record<string, unknown>): Promise<HostedToolOutcome> {
    this.calls.push({ server, name, args });
    if (name === "search") return { output: `3 pages match '${String(args.q)}'` };
    return { error: "page is locked" };
  }
}

/** The messages an upstream was sent, whatever its wire. */
function transcript(request: RecordedRequest | undefined): string {
  return JSON.stringify(request?.body ?? {});
}

function lastIsToolResult(request: RecordedRequest): boolean {
  const body = request.body as { messages?: Array<{ role: string; content: unknown }> };
  const last = body.messages?.at(-1);
  if (!last) return false;
  if (last.role === "tool") return true;
  return Array.isArray(last.content) && last.content.some((b: { type?: string }) => b.type === "tool_result");
}

const host = new ScriptedHost();
let openai: FakeUpstream;
let anthropic: FakeUpstream;
let ollama: FakeUpstream;
let tandem: RunningTandem;
let client: OpenAI;

const docs = {
  type: "mcp" as const,
  server_label: "docs",
  server_url: "http://127.0.0.1:9/mcp",
  require_approval: "never" as const,
};

before(async () => {
  [openai, anthropic, ollama] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false },
        anthropic: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:UP_ANTHROPIC"] },
        // On loopback: a local target, whose requests are not classified.
        ollama: { kind: "ollama", baseUrl: ollama.url },
      },
    },
    { env: { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" }, toolHost: host },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await Promise.all([openai?.close(), anthropic?.close(), ollama?.close()]);
});

beforeEach(() => {
  host.lists.length = 0;
  host.calls.length = 0;
  for (const fake of [openai, anthropic]) {
    fake.requests.length = 0;
    fake.script((request) =>
      lastIsToolResult(request)
        ? { kind: "text", text: "The docs have 3 pages on it.", usage: { input: 40, output: 8 } }
        : {
            kind: "tool_calls",
            calls: [{ name: "mcp__docs__search", arguments: { q: "breakers" } }],
            usage: { input: 30, output: 5 },
          },
    );
  }
});

for (const target of ["openai/gpt-4o-mini", "anthropic/claude-haiku-4-5"]) {
  describe(`mcp tools over ${target}`, () => {
    it("lists, calls and answers in one response, whole", async () => {
      const response = await client.responses.create({
        model: target,
        input: "What do the docs say about breakers?",
        tools: [docs],
      });
      assert.equal(response.status, "completed");
      assert.deepEqual(
        response.output.map((item) => item.type),
        ["mcp_list_tools", "mcp_call", "message"],
      );
      const [listed, call] = response.output;
      assert.equal(listed?.type === "mcp_list_tools" && listed.server_label, "docs");
      assert.deepEqual(listed?.type === "mcp_list_tools" && listed.tools.map((t) => t.name), ["search", "delete_page"]);
      assert.ok(call?.type === "mcp_call");
      assert.equal(call.name, "search");
      assert.equal(call.server_label, "docs");
      assert.deepEqual(JSON.parse(call.arguments), { q: "breakers" });
      assert.equal(call.output, "3 pages match 'breakers'");
      assert.equal(call.error ?? null, null);
      assert.equal(response.output_text, "The docs have 3 pages on it.");
      // Two model turns, their usage summed.
      assert.equal(response.usage?.input_tokens, 70);
      assert.equal(response.usage?.output_tokens, 13);
      const fake = target.startsWith("openai") ? openai : anthropic;
      assert.equal(fake.requests.length, 2);
      // The model was offered the server's tools under their MCP names, and read the call's output.
      assert.match(transcript(fake.requests[0]), /mcp__docs__search/);
      assert.match(transcript(fake.requests[1]), /3 pages match 'breakers'/);
      assert.deepEqual(host.calls, [
        { server: { label: "docs", url: docs.server_url }, name: "search", args: { q: "breakers" } },
      ]);
      // The echo names the tool without secrets, and leaves out server_description when there was
      // none: the spec types it as a string (not nullable), the SDK as `server_description?: string`.
      assert.deepEqual(response.tools[0], {
        type: "mcp",
        server_label: "docs",
        server_url: docs.server_url,
        allowed_tools: null,
        headers: null,
        require_approval: "never",
      });
    });

    it("streams OpenAI's MCP events in order, with sequence numbers", async () => {
      const stream = await client.responses.create({ model: target, input: "What about breakers?", tools: [docs], stream: true });
      const events: ResponseStreamEvent[] = [];
      for await (const event of stream) events.push(event);
      // The arguments stream as the model writes them: one or more deltas (counted once here).
      const types = events
        .map((e) => e.type)
        .filter((type, i, all) => type !== "response.mcp_call_arguments.delta" || all[i - 1] !== type);
      const deltas = events.flatMap((e) => (e.type === "response.mcp_call_arguments.delta" ? [e.delta] : []));
      assert.deepEqual(JSON.parse(deltas.join("")), { q: "breakers" });
      const expected = [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.mcp_list_tools.in_progress",
        "response.mcp_list_tools.completed",
        "response.output_item.done",
        "response.output_item.added",
        "response.mcp_call_arguments.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.output_item.done",
      ];
      assert.deepEqual(types.slice(0, expected.length), expected);
      assert.equal(types.at(-1), "response.completed");
      assert.deepEqual(
        events.map((e) => e.sequence_number),
        events.map((_, i) => i),
      );
      const done = events.at(-1);
      assert.ok(done?.type === "response.completed");
      assert.deepEqual(
        done.response.output.map((item) => item.type),
        ["mcp_list_tools", "mcp_call", "message"],
      );
      // Stored as streamed: retrieval gives the same items.
      const stored = await client.responses.retrieve(done.response.id);
      assert.deepEqual(stored.output, done.response.output);
    });
  });
}

describe("mcp tools: approvals, filters, failures", () => {
  it("asks for approval by default, and runs the call once the client approves it", async () => {
    const { server_url, server_label } = docs;
    const tool = { type: "mcp" as const, server_label, server_url };
    const first = await client.responses.create({ model: "openai/gpt-4o-mini", input: "Search breakers", tools: [tool] });
    assert.deepEqual(
      first.output.map((item) => item.type),
      ["mcp_list_tools", "mcp_approval_request"],
    );
    assert.equal(host.calls.length, 0);
    const request = first.output[1];
    assert.ok(request?.type === "mcp_approval_request");
    assert.equal(request.name, "search");
    const second = await client.responses.create({
      model: "openai/gpt-4o-mini",
      previous_response_id: first.id,
      tools: [tool],
      input: [{ type: "mcp_approval_response", approval_request_id: request.id, approve: true }],
    });
    // The tools were listed once in the conversation: not again.
    assert.equal(host.lists.length, 1);
    assert.deepEqual(
      second.output.map((item) => item.type),
      ["mcp_call", "message"],
    );
    const call = second.output[0];
    assert.ok(call?.type === "mcp_call");
    assert.equal(call.approval_request_id, request.id);
    assert.equal(call.output, "3 pages match 'breakers'");
    assert.equal(second.output_text, "The docs have 3 pages on it.");
    // A third turn carries the call and its output in the history.
    openai.script(() => ({ kind: "text", text: "ok" }));
    await client.responses.create({
      model: "openai/gpt-4o-mini",
      previous_response_id: second.id,
      input: "thanks",
      tools: [tool],
    });
    assert.match(transcript(openai.requests.at(-1)), /3 pages match 'breakers'/);
  });

  it("tells the model a declined call was declined, and runs nothing", async () => {
    const tool = { type: "mcp" as const, server_label: "docs", server_url: docs.server_url };
    const first = await client.responses.create({ model: "openai/gpt-4o-mini", input: "Search breakers", tools: [tool] });
    const request = first.output[1];
    assert.ok(request?.type === "mcp_approval_request");
    openai.script(() => ({ kind: "text", text: "Understood." }));
    const second = await client.responses.create({
      model: "openai/gpt-4o-mini",
      previous_response_id: first.id,
      tools: [tool],
      input: [{ type: "mcp_approval_response", approval_request_id: request.id, approve: false, reason: "not now" }],
    });
    assert.equal(host.calls.length, 0);
    assert.equal(second.output_text, "Understood.");
    assert.match(transcript(openai.requests.at(-1)), /declined this call: not now/);
  });

  it("asks for approval of a tool neither require_approval filter picks, and when both pick it", async () => {
    const outputOf = async (require_approval: OpenAI.Responses.Tool.Mcp["require_approval"]) => {
      host.calls.length = 0;
      const response = await client.responses.create({
        model: "openai/gpt-4o-mini",
        input: "Search breakers",
        tools: [{ ...docs, require_approval }],
      });
      return { types: response.output.map((item) => item.type), calls: host.calls.length };
    };
    // Only an `always` filter, naming another tool: `search` still waits (not run unasked).
    assert.deepEqual(await outputOf({ always: { tool_names: ["delete_page"] } }), {
      types: ["mcp_list_tools", "mcp_approval_request"],
      calls: 0,
    });
    assert.deepEqual(await outputOf({ always: { read_only: false } }), {
      types: ["mcp_list_tools", "mcp_approval_request"],
      calls: 0,
    });
    // Picked by `always` and by `never` (it is read-only): the stricter word wins.
    assert.deepEqual(await outputOf({ always: { tool_names: ["search"] }, never: { read_only: true } }), {
      types: ["mcp_list_tools", "mcp_approval_request"],
      calls: 0,
    });
    // Picked by `never` alone: run at once.
    assert.deepEqual(await outputOf({ always: { tool_names: ["delete_page"] }, never: { tool_names: ["search"] } }), {
      types: ["mcp_list_tools", "mcp_call", "message"],
      calls: 1,
    });
  });

  it("answers an approval of an unknown request with a 400", async () => {
    await assert.rejects(
      client.responses.create({
        model: "openai/gpt-4o-mini",
        tools: [docs],
        input: [
          { role: "user", content: "hi" },
          { type: "mcp_approval_response", approval_request_id: "mcpr_nope", approve: true },
        ],
      }),
      (err: unknown) => err instanceof OpenAI.BadRequestError,
    );
    await assert.rejects(
      client.responses.create({
        model: "openai/gpt-4o-mini",
        tools: [docs],
        input: [
          { type: "mcp_approval_response", approval_request_id: "mcpr_x" } as unknown as OpenAI.Responses.ResponseInputItem,
        ],
      }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /input\[0\]\.approve/.test(err.message),
    );
  });

  it("offers only the allowed tools", async () => {
    await client.responses.create({
      model: "openai/gpt-4o-mini",
      input: "Search",
      tools: [{ ...docs, allowed_tools: { read_only: true } }],
    });
    const offered = transcript(openai.requests[0]);
    assert.match(offered, /mcp__docs__search/);
    assert.doesNotMatch(offered, /mcp__docs__delete_page/);
  });

  it("gives a tool's error to the model and the client as the call's error", async () => {
    openai.script((request) =>
      lastIsToolResult(request)
        ? { kind: "text", text: "It is locked." }
        : { kind: "tool_calls", calls: [{ name: "mcp__docs__delete_page", arguments: { id: "p1" } }] },
    );
    const response = await client.responses.create({ model: "openai/gpt-4o-mini", input: "Delete p1", tools: [docs] });
    const call = response.output[1];
    assert.ok(call?.type === "mcp_call");
    assert.deepEqual(mcpCallError(call.error), {
      type: "mcp_tool_execution_error",
      content: [{ type: "text", text: "page is locked" }],
    });
    assert.equal(call.output ?? null, null);
    assert.match(transcript(openai.requests[1]), /Error: page is locked/);
  });

  it("leaves a hosted call made beside a call of the client's tools unrun, for the model to make again", async () => {
    openai.script(() => ({
      kind: "tool_calls",
      calls: [
        { name: "get_time", arguments: {} },
        { name: "mcp__docs__search", arguments: { q: "x" } },
      ],
    }));
    const response = await client.responses.create({
      model: "openai/gpt-4o-mini",
      input: "Time and docs?",
      tools: [docs, { type: "function", name: "get_time", parameters: { type: "object", properties: {} }, strict: false }],
    });
    assert.equal(host.calls.length, 0);
    const types = response.output.map((item) => item.type);
    assert.deepEqual(types.slice(1).sort(), ["function_call", "mcp_call"]);
    const call = response.output.find((item) => item.type === "mcp_call");
    assert.ok(call?.type === "mcp_call");
    assert.match(mcpCallErrorText(call.error), /Not run/);
    assert.deepEqual(mcpCallError(call.error).code, -32010);
  });

  it("answers 424 when the server's tools cannot be listed, before any model turn", async () => {
    await assert.rejects(
      client.responses.create({
        model: "openai/gpt-4o-mini",
        input: "hi",
        tools: [{ type: "mcp", server_label: "bad", server_url: "http://127.0.0.1:9/broken", require_approval: "never" }],
      }),
      (err: unknown) =>
        err instanceof OpenAI.APIError &&
        err.status === 424 &&
        /Error retrieving tool list from MCP server: 'bad'/.test(err.message),
    );
    assert.equal(openai.requests.length, 0);
  });

  it("uses a server configured in tandem by its label alone, and refuses an unknown label without a URL", async () => {
    const response = await client.responses.create({
      model: "openai/gpt-4o-mini",
      input: "Search",
      tools: [{ type: "mcp", server_label: "local-docs", require_approval: "never" } as unknown as OpenAI.Responses.Tool],
    });
    assert.equal(host.lists[0]?.label, "local-docs");
    assert.equal(host.lists[0]?.url, undefined);
    assert.equal(response.status, "completed");
    await assert.rejects(
      client.responses.create({
        model: "openai/gpt-4o-mini",
        input: "Search",
        tools: [{ type: "mcp", server_label: "nowhere" } as unknown as OpenAI.Responses.Tool],
      }),
      (err: unknown) => err instanceof OpenAI.BadRequestError,
    );
  });

  it("does not send private data to a server that is not on this machine", async () => {
    openai.script(() => ({ kind: "text", text: "never" }));
    anthropic.script(() => ({ kind: "text", text: "never" }));
    const remote = {
      type: "mcp" as const,
      server_label: "remote",
      server_url: "https://mcp.example.com/mcp",
      require_approval: "never" as const,
    };
    // Private input: the route has no local target, so it is refused before any tool or model runs.
    await assert.rejects(
      client.responses.create({ model: "openai/gpt-4o-mini", input: "My card is 4111 1111 1111 1111", tools: [remote] }),
    );
    assert.equal(host.calls.length, 0);
  });

  /** A local model that calls a remote server's search with a card number, then gives up; the server's tool. */
  const localModelCallsRemoteWithCard = () => {
    ollama.script((request) =>
      lastIsToolResult(request)
        ? { kind: "text", text: "I could not search." }
        : { kind: "tool_calls", calls: [{ name: "mcp__remote__search", arguments: { q: "card 4111 1111 1111 1111" } }] },
    );
    return {
      type: "mcp" as const,
      server_label: "remote",
      server_url: "https://mcp.example.com/mcp",
      require_approval: "never" as const,
    };
  };

  it("classifies a local model's call to a remote server itself, and does not send private arguments", async () => {
    const remote = localModelCallsRemoteWithCard();
    const response = await client.responses.create({ model: "ollama/llama3.2:latest", input: "Search it", tools: [remote] });
    const call = response.output[1];
    assert.ok(call?.type === "mcp_call");
    assert.match(mcpCallErrorText(call.error), /private data/);
    assert.equal(host.calls.length, 0);
    assert.equal(response.output_text, "I could not search.");
  });

  it("classifies a call to a remote server in a conversation declared internal too: private arguments stay here", async () => {
    // Only local targets: no turn is classified, and the conversation's known level (internal) says
    // nothing of what the model put in the call (a value a local tool or file gave it).
    const remote = localModelCallsRemoteWithCard();
    const response = await client.responses.create(
      { model: "ollama/llama3.2:latest", input: "Search it", tools: [remote] },
      { headers: { "x-tandem-sensitivity": "internal" } },
    );
    const call = response.output[1];
    assert.ok(call?.type === "mcp_call");
    assert.match(mcpCallErrorText(call.error), /private data/);
    assert.equal(host.calls.length, 0);
  });

  it("rejects malformed mcp tools with OpenAI's 400 naming the field", async () => {
    await assert.rejects(
      client.responses.create({
        model: "openai/gpt-4o-mini",
        input: "hi",
        tools: [{ type: "mcp", server_label: "has space", server_url: "http://127.0.0.1:9/mcp" }],
      }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /tools\[0\]\.server_label/.test(err.message),
    );
    await assert.rejects(
      client.responses.create({
        model: "openai/gpt-4o-mini",
        input: "hi",
        tools: [{ type: "mcp", server_label: "x", server_url: "ftp://host/mcp" }],
      }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /tools\[0\]\.server_url/.test(err.message),
    );
  });

  it("refuses the label of tandem's own memory tools, before any server or model is asked", async () => {
    for (const tool of [
      {
        type: "mcp" as const,
        server_label: "tandem-memory",
        server_url: "http://127.0.0.1:9/mcp",
        require_approval: "never" as const,
      },
      { type: "mcp" as const, server_label: "tandem-memory", require_approval: "never" as const },
    ]) {
      await assert.rejects(
        client.responses.create({ model: "openai/gpt-4o-mini", input: "Remember I like X", tools: [docs, tool] }),
        (err: unknown) =>
          err instanceof OpenAI.BadRequestError &&
          err.param === "tools[1].server_label" &&
          /'tandem-memory' is reserved for tandem's own memory tools/.test(err.message),
      );
    }
    assert.equal(host.lists.length, 0);
    assert.equal(openai.requests.length, 0);
  });
});

describe("mcp tools: the egress audit", () => {
  it("records a call to a server that is not on this machine before it is made, and none for a loopback one", async () => {
    const audited = await startTandem(
      { providers: { openai: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP_OPENAI"], local: false } } },
      { env: { UP_OPENAI: "sk-upstream-openai" }, toolHost: host, store: true },
    );
    try {
      const audit = new OpenAI({ baseURL: `${audited.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const remote = {
        type: "mcp" as const,
        server_label: "docs",
        server_url: "https://mcp.example.com/mcp",
        require_approval: "never" as const,
      };
      await audit.responses.create({ model: "openai/gpt-4o-mini", input: "Search breakers", tools: [remote] });
      await audit.responses.create({ model: "openai/gpt-4o-mini", input: "Search breakers", tools: [docs] });
      const rows = (await (await fetch(`${audited.url}/v1/audit`)).json()) as {
        data: Array<{ target: string; sensitivity: string }>;
      };
      const mcp = rows.data.filter((row) => row.target.startsWith("mcp:"));
      assert.deepEqual(
        mcp.map((row) => row.target),
        ["mcp:docs"],
      );
      assert.equal(host.calls.length, 2);
    } finally {
      await audited.close();
    }
  });
});

describe("mcp tools: a provider that speaks the Responses API", () => {
  it("takes the canonical path: the upstream is offered the tools as functions, never an mcp tool to run itself", async () => {
    // `responses: true` over an upstream that also serves chat completions, as api.openai.com does.
    const served = await startTandem(
      { providers: { gpt: { kind: "openai", baseUrl: openai.url, apiKeys: ["env:UP"], responses: true, local: false } } },
      { env: { UP: "sk-up" }, toolHost: host },
    );
    try {
      const sdk = new OpenAI({ baseURL: `${served.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const { data: response, response: http } = await sdk.responses
        // @ts-expect-error a field the SDK does not know: the loop's turns are not sent the client's body, so it is named
        .create({ model: "gpt/gpt-4o-mini", input: "Search", tools: [docs], frobnicate: 1 })
        .withResponse();
      assert.deepEqual(
        response.output.map((item) => item.type),
        ["mcp_list_tools", "mcp_call", "message"],
      );
      assert.match(http.headers.get("x-tandem-warnings") ?? "", /frobnicate not sent to gpt\/gpt-4o-mini/);
      const chats = openai.requests.filter((request) => request.path !== "/v1/models");
      assert.deepEqual(
        chats.map((request) => request.path),
        ["/v1/chat/completions", "/v1/chat/completions"],
      );
      assert.doesNotMatch(transcript(chats[0]), /"type":"mcp"/);
      assert.match(transcript(chats[0]), /mcp__docs__search/);
    } finally {
      await served.close();
    }
  });
});
