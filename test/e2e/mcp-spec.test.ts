/**
 * tandem's /mcp against the MCP specification (2025-11-25 and 2025-06-18: basic/transports,
 * basic/lifecycle, server/tools, schema.ts) and JSON-RPC 2.0, where the SDK's server alone answers
 * otherwise: raw HTTP for the wire rules, and the SDK's own Client on both protocol versions.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { ErrorCode, LATEST_PROTOCOL_VERSION, McpError } from "@modelcontextprotocol/sdk/types.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: FakeUpstream;
let tandem: RunningTandem;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["tiny"] });
  upstream.script(() => ({ kind: "text", text: "hello", usage: { input: 2, output: 1 } }));
  tandem = await startTandem(
    {
      providers: { local: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:UP_KEY"], local: true } },
      routes: { here: { tiers: ["local/tiny"] } },
    },
    { env: { UP_KEY: "sk-up" } },
  );
});

after(async () => {
  await tandem?.close();
  await upstream?.close();
});

const ACCEPT = "application/json, text/event-stream";

interface Answer {
  status: number;
  contentType: string | null;
  text: string;
  /** The JSON-RPC messages of the answer: its JSON body, or each SSE event's data. */
  messages: Array<{ id?: unknown; result?: Record<string, unknown>; error?: { code: number; message: string } }>;
}

async function post(body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(`${tandem.url}/mcp`, {
    method: "POST",
    headers: { "content-type": "application/json", accept: ACCEPT, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await res.text();
  const contentType = res.headers.get("content-type");
  const messages = contentType?.startsWith("text/event-stream")
    ? text
        .split("\n")
        .filter((line) => line.startsWith("data: ") && line.length > 6)
        .map((line) => JSON.parse(line.slice(6)))
    : text === ""
      ? []
      : [JSON.parse(text)].flat();
  return { status: res.status, contentType, text, messages };
}

const initialize = (protocolVersion: string) => ({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion, capabilities: {}, clientInfo: { name: "spec-test", version: "1.0.0" } },
});

describe("/mcp: lifecycle", () => {
  it("answers a supported protocol version with itself, and any other with its latest", async () => {
    for (const [asked, answered] of [
      ["2025-11-25", "2025-11-25"],
      ["2025-06-18", "2025-06-18"],
      ["2024-11-05", "2024-11-05"],
      ["2099-01-01", LATEST_PROTOCOL_VERSION],
      // An early draft's date the SDK still accepts, but no version tandem names as supported.
      ["2024-10-07", LATEST_PROTOCOL_VERSION],
    ]) {
      const { status, messages } = await post(initialize(asked as string));
      assert.equal(status, 200);
      assert.equal(messages[0]?.result?.protocolVersion, answered, asked);
    }
  });

  it("does not promise tools/list_changed notifications it has no way to send", async () => {
    const { messages } = await post(initialize("2025-11-25"));
    const capabilities = messages[0]?.result?.capabilities as { tools?: { listChanged?: boolean } };
    assert.ok(capabilities.tools, "tools capability");
    assert.notEqual(capabilities.tools.listChanged, true);
  });
});

describe("/mcp: the Streamable HTTP transport", () => {
  it("takes a notification or a response with 202 and no body", async () => {
    for (const message of [
      { jsonrpc: "2.0", method: "notifications/initialized" },
      { jsonrpc: "2.0", id: 7, result: {} },
    ]) {
      const answer = await post(message, { "mcp-protocol-version": "2025-11-25" });
      assert.equal(answer.status, 202);
      assert.equal(answer.text, "");
    }
  });

  it("refuses a POST that does not accept both JSON and an event stream with 406", async () => {
    for (const accept of ["application/json", "text/event-stream", ""]) {
      const answer = await post(initialize("2025-11-25"), { accept });
      assert.equal(answer.status, 406, accept);
    }
  });

  it("refuses an unsupported or invalid MCP-Protocol-Version with 400, and takes a supported one", async () => {
    const list = { jsonrpc: "2.0", id: 2, method: "tools/list" };
    assert.equal((await post(list, { "mcp-protocol-version": "banana" })).status, 400);
    assert.equal((await post(list, { "mcp-protocol-version": "2099-01-01" })).status, 400);
    for (const version of ["2025-11-25", "2025-06-18", "2025-03-26"]) {
      assert.equal((await post(list, { "mcp-protocol-version": version })).status, 200, version);
    }
  });

  it("answers a body that is JSON but not JSON-RPC with 400 and -32600 (Invalid Request), not a parse error", async () => {
    for (const body of [
      { hello: "world" },
      { jsonrpc: "1.0", id: 1, method: "ping" },
      { jsonrpc: "2.0", id: null, method: "ping" },
      { jsonrpc: "2.0", id: 1 },
      42,
    ]) {
      const answer = await post(body, { "mcp-protocol-version": "2025-11-25" });
      assert.equal(answer.status, 400, JSON.stringify(body));
      assert.equal(answer.messages[0]?.error?.code, ErrorCode.InvalidRequest, JSON.stringify(body));
      assert.equal(answer.messages[0]?.id, null);
    }
    const notJson = await post("{not json");
    assert.equal(notJson.status, 400);
    assert.equal(notJson.messages[0]?.error?.code, ErrorCode.ParseError);
  });

  it("refuses a batch in 2025-06-18 and later (one message per POST), and an empty batch, with 400 and -32600", async () => {
    const pings = [
      { jsonrpc: "2.0", id: 1, method: "ping" },
      { jsonrpc: "2.0", id: 2, method: "ping" },
    ];
    for (const version of ["2025-06-18", "2025-11-25"]) {
      const answer = await post(pings, { "mcp-protocol-version": version });
      assert.equal(answer.status, 400, version);
      assert.equal(answer.messages[0]?.error?.code, ErrorCode.InvalidRequest);
      assert.match(answer.messages[0]?.error?.message ?? "", /batch/);
    }
    // 2025-03-26 had batches, and a client that sends no version header is taken to speak it.
    for (const headers of [{ "mcp-protocol-version": "2025-03-26" }, {}] as Array<Record<string, string>>) {
      const answer = await post(pings, headers);
      assert.equal(answer.status, 200);
      assert.deepEqual(answer.messages.map((m) => m.id).sort(), [1, 2]);
    }
    const empty = await post([], { "mcp-protocol-version": "2025-03-26" });
    assert.equal(empty.status, 400);
    assert.equal(empty.messages[0]?.error?.code, ErrorCode.InvalidRequest);
  });

  it("answers GET, DELETE, PUT and PATCH with 405 (stateless: no server stream, no session to end)", async () => {
    for (const method of ["GET", "DELETE", "PUT", "PATCH"]) {
      const res = await fetch(`${tandem.url}/mcp`, { method, headers: { accept: "text/event-stream" } });
      assert.equal(res.status, 405, method);
      assert.equal(res.headers.get("allow"), "POST");
      assert.equal(((await res.json()) as { jsonrpc?: string }).jsonrpc, "2.0");
    }
  });
});

describe("/mcp: JSON-RPC errors", () => {
  const headers = { "mcp-protocol-version": "2025-11-25" };

  it("answers an unknown method with -32601", async () => {
    const { status, messages } = await post({ jsonrpc: "2.0", id: 3, method: "resources/list" }, headers);
    assert.equal(status, 200);
    assert.deepEqual([messages[0]?.id, messages[0]?.error?.code], [3, ErrorCode.MethodNotFound]);
  });

  it("answers params that do not fit the method with -32602 (Invalid params), not an internal error", async () => {
    for (const params of [{}, { name: 42 }, { name: "list_models", arguments: "all" }]) {
      const { messages } = await post({ jsonrpc: "2.0", id: 4, method: "tools/call", params }, headers);
      assert.equal(messages[0]?.id, 4);
      assert.equal(messages[0]?.error?.code, ErrorCode.InvalidParams, JSON.stringify(params));
    }
    const list = await post({ jsonrpc: "2.0", id: 5, method: "tools/list", params: { cursor: 9 } }, headers);
    assert.equal(list.messages[0]?.error?.code, ErrorCode.InvalidParams);
  });

  it("answers a call of an unknown tool with a -32602 error response, as the specification's example", async () => {
    const { messages } = await post(
      { jsonrpc: "2.0", id: 6, method: "tools/call", params: { name: "rm_rf", arguments: {} } },
      headers,
    );
    assert.equal(messages[0]?.id, 6);
    assert.equal(messages[0]?.result, undefined);
    assert.equal(messages[0]?.error?.code, ErrorCode.InvalidParams);
    assert.match(messages[0]?.error?.message ?? "", /^Unknown tool: rm_rf/);
  });

  it("answers arguments that fail the tool's input schema with a tool result marked isError (2025-11-25)", async () => {
    const { messages } = await post(
      { jsonrpc: "2.0", id: 8, method: "tools/call", params: { name: "ask_model", arguments: { model: 3 } } },
      headers,
    );
    assert.equal(messages[0]?.result?.isError, true);
    assert.match(JSON.stringify(messages[0]?.result?.content), /prompt/);
  });

  it("answers a tools/list cursor it never gave with -32602 (one page, no nextCursor)", async () => {
    const first = await post({ jsonrpc: "2.0", id: 10, method: "tools/list" }, headers);
    assert.equal(first.messages[0]?.result?.nextCursor, undefined);
    const { messages } = await post({ jsonrpc: "2.0", id: 11, method: "tools/list", params: { cursor: "page-2" } }, headers);
    assert.equal(messages[0]?.error?.code, ErrorCode.InvalidParams);
    assert.match(messages[0]?.error?.message ?? "", /cursor/);
  });

  it("answers a task-augmented call as a normal one: tandem declares no tasks capability (2025-11-25 tasks)", async () => {
    const init = await post(initialize("2025-11-25"));
    assert.equal((init.messages[0]?.result?.capabilities as { tasks?: unknown }).tasks, undefined);
    const { messages } = await post(
      {
        jsonrpc: "2.0",
        id: 12,
        method: "tools/call",
        params: { name: "list_models", arguments: {}, task: { ttl: 60_000 } },
      },
      headers,
    );
    assert.equal(messages[0]?.error, undefined, JSON.stringify(messages[0]?.error));
    assert.notEqual(messages[0]?.result?.isError, true);
    assert.ok(messages[0]?.result?.structuredContent);
  });

  it("answers ping with an empty result", async () => {
    const { messages } = await post({ jsonrpc: "2.0", id: 9, method: "ping" }, headers);
    assert.deepEqual(messages[0]?.result, {});
  });
});

describe("/mcp: the SDK's Client on both protocol versions", () => {
  for (const version of ["2025-11-25", "2025-06-18"]) {
    it(`${version}: initializes, lists tools with their schemas, calls one, and sends the version after initialize`, async () => {
      const sent: Array<string | null> = [];
      // The SDK's Client asks for its latest version; a client of the older revision is played by
      // asking for that one in the initialize request.
      const fetchAs: typeof fetch = async (input, init) => {
        let body = init?.body;
        if (typeof body === "string" && body.includes('"method":"initialize"')) {
          const message = JSON.parse(body) as { params: { protocolVersion: string } };
          message.params.protocolVersion = version;
          body = JSON.stringify(message);
        } else {
          sent.push(new Headers(init?.headers).get("mcp-protocol-version"));
        }
        return fetch(input, { ...init, body });
      };
      const transport = new StreamableHTTPClientTransport(new URL(`${tandem.url}/mcp`), { fetch: fetchAs });
      const client = new Client({ name: "spec-test", version: "1.0.0" });
      await client.connect(transport);
      try {
        assert.equal(transport.protocolVersion, version);
        const { tools } = await client.listTools();
        for (const tool of tools) {
          assert.equal(tool.inputSchema.type, "object", tool.name);
          // Every tool answers with structuredContent: each says its shape.
          assert.equal(tool.outputSchema?.type, "object", tool.name);
          assert.equal(typeof tool.title, "string", tool.name);
          assert.equal(typeof tool.annotations?.readOnlyHint, "boolean", tool.name);
        }
        // The SDK client checks structuredContent against the tool's outputSchema.
        const listed = await client.callTool({ name: "list_models", arguments: {} });
        assert.notEqual(listed.isError, true);
        assert.ok(listed.structuredContent);
        const asked = await client.callTool({ name: "ask_model", arguments: { model: "here", prompt: "hi" } });
        assert.notEqual(asked.isError, true, JSON.stringify(asked.content));
        assert.equal((asked.structuredContent as { answer?: string }).answer, "hello");
        const saved = await client.callTool({ name: "remember", arguments: { text: `The user speaks ${version}.` } });
        assert.notEqual(saved.isError, true, JSON.stringify(saved.content));
        const id = (saved.structuredContent as { id: string }).id;
        const forgot = await client.callTool({ name: "forget", arguments: { id } });
        assert.deepEqual(forgot.structuredContent, { id, deleted: true });
        await assert.rejects(
          client.callTool({ name: "no_such_tool", arguments: {} }),
          (err: unknown) => err instanceof McpError && err.code === ErrorCode.InvalidParams,
        );
        await client.ping();
        assert.ok(sent.length > 0);
        assert.ok(
          sent.every((v) => v === version),
          `MCP-Protocol-Version after initialize: ${sent.join(", ")}`,
        );
      } finally {
        await client.close();
      }
    });
  }
});
