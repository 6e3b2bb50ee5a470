/**
 * A local model (the embedded llama.cpp engine) using an MCP server's tools through tandem's tool
 * loop: a Responses request names a real stdio MCP server configured in tandem and forces its `echo`
 * tool (`tool_choice: {type: "mcp"}`); the model's call is run by tandem next to it, and the model's
 * next turn (unforced) answers. Nothing leaves the machine.
 *
 * The model the test writes prefers prose ("It is sunny.") and ranks the call second, so the call in
 * the answer is the forced one, and the answer after it proves the loop went on to a second turn.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, it } from "node:test";
import OpenAI from "openai";
import { EOS, makeModelDir, writeBigramModel } from "../support/gguf/index.js";
import { MCP_STDIO_SERVER } from "../support/mcp-test-server.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let openai: OpenAI;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  const prose = ["It", " is", " sunny."];
  const call = ['{"name": "', "mcp__files__echo", '", "arguments": ', '{"text": "from a local model"}', "}"];
  const chain = (pieces: string[]) => pieces.map((p, i) => ({ from: p, to: [pieces[i + 1] ?? EOS] }));
  await writeBigramModel(
    join(made.dir, "chooser.gguf"),
    { start: [prose[0] as string, call[0] as string], transitions: [...chain(prose), ...chain(call)] },
    {},
    { pieces: [...prose, ...call] },
  );
  tandem = await startTandem({
    providers: {
      local: { kind: "llamacpp", threads: 1, models: { chooser: { path: join(made.dir, "chooser.gguf"), contextSize: 2048 } } },
    },
    mcp: { servers: { files: MCP_STDIO_SERVER } },
  });
  openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

it("a local model calls a configured MCP server's tool, and answers after its output", async () => {
  const response = await openai.responses.create({
    model: "local/chooser",
    input: "Echo something",
    temperature: 0,
    tools: [
      {
        type: "mcp",
        server_label: "files",
        require_approval: "never",
        allowed_tools: ["echo"],
      } as unknown as OpenAI.Responses.Tool,
    ],
    tool_choice: { type: "mcp", server_label: "files", name: "echo" },
  });
  assert.deepEqual(
    response.output.map((item) => item.type),
    ["mcp_list_tools", "mcp_call", "message"],
  );
  const call = response.output[1];
  assert.ok(call?.type === "mcp_call");
  assert.equal(call.name, "echo");
  assert.equal(call.output, "from a local model");
  assert.equal(response.output_text, "It is sunny.");
  assert.equal(response.model, "local/chooser");
});
