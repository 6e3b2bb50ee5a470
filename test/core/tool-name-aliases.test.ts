/** toolNameAlias, aliasToolNames and renameToolCalls on their own. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { aliasToolNames, type ChatRequest, renameToolCalls, type StreamEvent, toolNameAlias } from "../../src/core/index.js";

const LONG = "mcp__a_very_long_server_name_for_testing__and_an_even_longer_tool_name_here";

describe("toolNameAlias", () => {
  it("keeps a name that fits, and makes a stable alias of one that does not", () => {
    assert.equal(toolNameAlias("Bash", 64), "Bash");
    const alias = toolNameAlias(LONG, 64);
    assert.match(alias, /^[A-Za-z0-9_-]{1,64}$/);
    assert.equal(alias.length, 64);
    assert.equal(toolNameAlias(LONG, 64), alias, "the same alias every time");
    assert.match(toolNameAlias("files.read", 64), /^files_read_[0-9a-f]{8}$/);
    assert.notEqual(toolNameAlias("files.read", 64), toolNameAlias("files_read", 64), "no collision with the name it resembles");
  });
});

describe("aliasToolNames", () => {
  const request: ChatRequest = {
    model: "m",
    stream: false,
    tools: [
      { name: LONG, parameters: { type: "object" } },
      { name: "Bash", parameters: { type: "object" } },
    ],
    toolChoice: { name: LONG },
    messages: [
      { role: "user", content: [{ type: "text", text: "go" }] },
      { role: "assistant", content: [], toolCalls: [{ id: "c1", name: LONG, arguments: "{}" }] },
      { role: "tool", toolCallId: "c1", name: LONG, content: [{ type: "text", text: "ok" }] },
    ],
  };

  it("renames the tools, the named choice, the history's calls and results, and says whose alias is whose", () => {
    const aliased = aliasToolNames(request, 64);
    assert.ok(aliased);
    const alias = toolNameAlias(LONG, 64);
    assert.deepEqual(
      aliased.request.tools?.map((t) => t.name),
      [alias, "Bash"],
    );
    assert.deepEqual(aliased.request.toolChoice, { name: alias });
    const [, assistant, tool] = aliased.request.messages;
    assert.equal(assistant?.role === "assistant" && assistant.toolCalls?.[0]?.name, alias);
    assert.equal(tool?.role === "tool" && tool.name, alias);
    assert.equal(aliased.names.get(alias), LONG);
    assert.equal(request.tools?.[0]?.name, LONG, "the client's request is not changed");
  });

  it("is undefined when every name fits", () => {
    assert.equal(
      aliasToolNames({ ...request, tools: [{ name: "Bash", parameters: {} }], toolChoice: "auto", messages: [] }, 64),
      undefined,
    );
  });

  it("renameToolCalls names the answer's calls back", async () => {
    const alias = toolNameAlias(LONG, 64);
    async function* events(): AsyncGenerator<StreamEvent> {
      yield { type: "tool-call-start", index: 0, id: "c2", name: alias };
      yield { type: "tool-call-start", index: 1, id: "c3", name: "Bash" };
    }
    const out: StreamEvent[] = [];
    for await (const event of renameToolCalls(events(), new Map([[alias, LONG]]))) out.push(event);
    assert.deepEqual(
      out.map((e) => (e.type === "tool-call-start" ? e.name : "")),
      [LONG, "Bash"],
    );
  });
});
