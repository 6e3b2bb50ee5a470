/**
 * The `file_search` tool on the embedded engine (llama.cpp, a tiny model the test writes): forced by
 * `tool_choice: {type: "file_search"}`, the model's first turn is a call of the function tandem
 * offers (the grammar rules its prose out), tandem searches its own vector store, and the model's
 * next turn, no longer forced, answers in prose; the client sees the `file_search_call` item with
 * what was found, then the message, whole and streamed. Nothing leaves the machine.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import type { ResponseStreamEvent } from "openai/resources/responses/responses";
import { EOS, makeModelDir, writeBigramModel } from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let client: OpenAI;
let store: string;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  const prose = ["The", " boat", " is", " at", " pier", " 7."];
  const call = ['{"name": "', "file_search", '", "arguments": ', '{"queries": ["pier"]}', "}"];
  const chain = (pieces: string[]) => pieces.map((p, i) => ({ from: p, to: [pieces[i + 1] ?? EOS] }));
  await writeBigramModel(
    join(made.dir, "searcher.gguf"),
    { start: [prose[0] as string, call[0] as string], transitions: [...chain(prose), ...chain(call)] },
    {},
    { pieces: [...prose, ...call] },
  );
  tandem = await startTandem({
    providers: {
      local: { kind: "llamacpp", threads: 1, models: { searcher: { path: join(made.dir, "searcher.gguf"), contextSize: 2048 } } },
    },
  });
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  const file = await client.files.create({
    file: await toFile(Buffer.from("Our sailboat is moored at pier 7."), "sailing.md"),
    purpose: "assistants",
  });
  store = (await client.vectorStores.create({ name: "boats", file_ids: [file.id] })).id;
  await tandem.server.vectorStores.idle();
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

describe("file_search on the embedded engine", () => {
  const request = () => ({
    model: "local/searcher",
    input: "Where is the boat?",
    tools: [{ type: "file_search" as const, vector_store_ids: [store] }],
    tool_choice: { type: "file_search" as const },
    include: ["file_search_call.results" as const],
    temperature: 0,
  });

  it("searches, then answers (whole)", async () => {
    const response = await client.responses.create(request());
    assert.deepEqual(
      response.output.map((item) => item.type),
      ["file_search_call", "message"],
    );
    const call = response.output[0];
    assert.ok(call?.type === "file_search_call");
    assert.equal(call.status, "completed");
    assert.deepEqual(call.queries, ["pier"]);
    assert.equal(call.results?.[0]?.filename, "sailing.md");
    assert.equal(response.output_text, "The boat is at pier 7.");
  });

  it("streamed: the search's events, then the text", async () => {
    const events: ResponseStreamEvent[] = [];
    for await (const event of await client.responses.create({ ...request(), stream: true })) events.push(event);
    const types = events.map((e) => e.type);
    assert.ok(
      types.indexOf("response.file_search_call.completed") < types.indexOf("response.output_text.delta"),
      types.join(","),
    );
    assert.equal(types.at(-1), "response.completed");
  });
});
