/**
 * A memory recall embeds the latest user turn to search the memories: that text is the client's
 * request, so where it may be embedded is the route's privacy's to say, as for the request itself.
 * An `internal` turn (a privacy keyword) on a `local-only` route is not sent to a cloud embedding
 * model (the memories are searched by their words, and the client is told), on a `redact` route it
 * is embedded redacted, and its audit row names the route; on a route without `privacy` it goes as
 * before (the control that makes each check able to fail). A `file_search` call's queries (embedded
 * by the same kind of model for a vector store) follow the route's privacy the same way.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import { type ConceptEmbeddings, startConceptEmbeddings } from "../support/fake-concept-embeddings.js";
import { type FakeOpenAIScript, type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const TURN = "status of Project Falcon budget";

interface AuditRow {
  target: string;
  route: string | null;
  sensitivity: string;
  redactions: Record<string, number>;
}

describe("memory recall's query embedding follows the route's privacy", () => {
  let home: FakeOpenAIUpstream;
  let cloud: FakeOpenAIUpstream;
  let embeddings: ConceptEmbeddings;
  let tandem: RunningTandem;
  let client: OpenAI;

  before(async () => {
    [home, cloud, embeddings] = await Promise.all([
      startFakeOpenAI({ models: ["m"] }),
      startFakeOpenAI({ models: ["gpt"] }),
      startConceptEmbeddings([
        ["falcon", "budget"],
        ["cook", "dinner"],
      ]),
    ]);
    tandem = await startTandem(
      {
        providers: {
          home: { kind: "openai", baseUrl: home.url, local: true, models: ["m"] },
          cloud: { kind: "openai", baseUrl: cloud.url, local: false, apiKeys: ["env:UP_KEY"], models: ["gpt"] },
          emb: { kind: "openai", baseUrl: embeddings.url, local: false, apiKeys: ["env:UP_KEY"], models: ["concepts"] },
        },
        routes: {
          keeplocal: { tiers: [["home/m"], ["cloud/gpt"]], privacy: "local-only", memory: "on" },
          red: { tiers: ["cloud/gpt"], privacy: "redact", memory: "on" },
          open: { tiers: ["cloud/gpt"], memory: "on" },
        },
        memory: { embeddings: "emb/concepts" },
        privacy: { keywords: [{ words: ["Project Falcon"] }] },
      },
      { env: { UP_KEY: "sk-up" }, store: true },
    );
    client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
  });

  after(async () => {
    await tandem?.close();
    await Promise.all([home?.close(), cloud?.close(), embeddings?.close()]);
  });

  beforeEach(() => {
    embeddings.inputs.length = 0;
    home.requests.length = 0;
    cloud.requests.length = 0;
  });

  const ask = (model: string, text: string) =>
    client.chat.completions.create({ model, messages: [{ role: "user", content: text }] }).withResponse();

  async function auditRows(): Promise<AuditRow[]> {
    const res = await fetch(`${tandem.url}/v1/audit`);
    return ((await res.json()) as { data: AuditRow[] }).data;
  }

  it("keeps an internal turn on a local-only route off the cloud embedding model, recalls by words, and says so", async () => {
    const memory = await fetch(`${tandem.url}/v1/memories`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "Project Falcon budget review is on Fridays" }),
    });
    assert.equal(memory.status, 200);
    const { id } = (await memory.json()) as { id: string };
    embeddings.inputs.length = 0;

    const { response } = await ask("keeplocal", TURN);
    assert.equal(response.headers.get("x-tandem-target"), "home/m");
    assert.deepEqual(embeddings.inputs, [], "the turn was sent to the cloud embedding model");
    assert.equal(response.headers.get("x-tandem-memory"), id, "recalled by its words");
    assertSearchedByWords(response.headers.get("x-tandem-warnings"));
    assert.equal(cloud.requests.length, 0);

    // A public turn on the same route is still embedded: only what the route keeps local stays.
    const plain = await ask("keeplocal", "what should I cook for dinner");
    assert.deepEqual(embeddings.inputs, [["what should I cook for dinner"]]);
    assert.equal(plain.response.headers.get("x-tandem-warnings"), null);
  });

  it("keeps a later turn of an internal conversation off the cloud embedding model, whatever its own words", async () => {
    home.script(() => ({ kind: "text", text: "Noted." }));
    const first = await client.responses.create({ model: "keeplocal", input: TURN });
    embeddings.inputs.length = 0;
    // The next turn names nothing internal, but the conversation it continues is: so is its query.
    const { response } = await client.responses
      .create({ model: "keeplocal", input: "what should I cook for dinner", previous_response_id: first.id })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-target"), "home/m");
    assert.deepEqual(embeddings.inputs, [], "the turn of an internal conversation was sent to the cloud embedding model");
    assertSearchedByWords(response.headers.get("x-tandem-warnings"));

    // The same words starting a conversation of their own are embedded (the control).
    await client.responses.create({ model: "keeplocal", input: "what should I cook for dinner" });
    assert.deepEqual(embeddings.inputs, [["what should I cook for dinner"]]);
  });

  it("embeds the turn redacted on a redact route, as its chat body is sent, and the audit row names the route", async () => {
    await ask("red", TURN);
    assert.deepEqual(embeddings.inputs, [["status of [KEYWORD_1] budget"]]);
    assert.equal(JSON.stringify(cloud.requests[0]?.body).includes("Project Falcon"), false);
    const row = (await auditRows()).find((r) => r.target === "emb/concepts" && r.route === "red");
    assert.ok(row, "the embedding's audit row names the route it was made for");
    assert.equal(row.sensitivity, "internal");
    assert.deepEqual(row.redactions, { keyword: 1 });
  });

  it("sends an internal turn as it is on a route without privacy (an internal request is allowed there)", async () => {
    await ask("open", TURN);
    assert.deepEqual(embeddings.inputs, [[TURN]]);
  });

  describe("a file_search call's queries", () => {
    let storeId: string;

    before(async () => {
      const file = await client.files.create({
        file: await toFile(Buffer.from("The Project Falcon budget is reviewed every quarter."), "falcon.md"),
        purpose: "assistants",
      });
      storeId = (await client.vectorStores.create({ name: "plans", file_ids: [file.id] })).id;
      await tandem.server.vectorStores.idle();
    });

    /** The model searches once for the turn's own words, then answers. */
    const searchThenAnswer: FakeOpenAIScript = (request) => {
      const messages = (request.body as { messages: Array<{ role: string }> }).messages;
      return messages.at(-1)?.role === "tool"
        ? { kind: "text", text: "Found it." }
        : { kind: "tool_calls", calls: [{ name: "file_search", arguments: { queries: ["Project Falcon budget"] } }] };
    };

    const search = async (model: string) => {
      home.script(searchThenAnswer);
      cloud.script(searchThenAnswer);
      embeddings.inputs.length = 0;
      const response = await client.responses.create({
        model,
        input: TURN,
        tools: [{ type: "file_search", vector_store_ids: [storeId] }],
      });
      assert.equal(response.output_text, "Found it.");
      const call = response.output.find((item) => item.type === "file_search_call");
      assert.ok(call, "the model searched");
      return embeddings.inputs.flat();
    };

    it("are not embedded by a cloud model on a local-only route when internal", async () => {
      assert.deepEqual(await search("keeplocal"), []);
    });

    it("are not embedded by a cloud model on a local-only route when the conversation is internal, whatever their own words", async () => {
      const searchOtherWords: FakeOpenAIScript = (request) => {
        const messages = (request.body as { messages: Array<{ role: string }> }).messages;
        return messages.at(-1)?.role === "tool"
          ? { kind: "text", text: "Found it." }
          : { kind: "tool_calls", calls: [{ name: "file_search", arguments: { queries: ["quarterly review schedule"] } }] };
      };
      for (const [input, embedded] of [
        [TURN, false],
        ["what should I cook for dinner", true],
      ] as const) {
        home.script(searchOtherWords);
        embeddings.inputs.length = 0;
        const response = await client.responses.create({
          model: "keeplocal",
          input,
          tools: [{ type: "file_search", vector_store_ids: [storeId] }],
        });
        assert.ok(
          response.output.some((item) => item.type === "file_search_call"),
          "the model searched",
        );
        assert.equal(embeddings.inputs.flat().includes("quarterly review schedule"), embedded, input);
      }
    });

    it("are embedded redacted on a redact route", async () => {
      const sent = await search("red");
      assert.ok(sent.includes("[KEYWORD_1] budget"), JSON.stringify(sent));
      assert.equal(
        sent.some((text) => text.includes("Falcon")),
        false,
        JSON.stringify(sent),
      );
    });

    it("are embedded as they are on a route without privacy", async () => {
      assert.ok((await search("open")).includes("Project Falcon budget"));
    });
  });

  describe("a memory the model saves with remember", () => {
    const FACT = "The user works on Project Falcon";

    /** The model saves FACT first, then answers. */
    const remembersThenAnswers: FakeOpenAIScript = (request) => {
      const messages = (request.body as { messages: Array<{ role: string }> }).messages;
      return messages.at(-1)?.role === "tool"
        ? { kind: "text", text: "ok noted" }
        : { kind: "tool_calls", calls: [{ name: "mcp__tandem-memory__remember", arguments: { text: FACT } }] };
    };

    /** Saves FACT through `model`'s conversation; what the embedding model was sent, and the memory kept. */
    const remember = async (model: string) => {
      home.script(remembersThenAnswers);
      cloud.script(remembersThenAnswers);
      const res = await fetch(`${tandem.url}/v1/memories?limit=100`);
      for (const { id } of ((await res.json()) as { data: Array<{ id: string }> }).data) {
        await fetch(`${tandem.url}/v1/memories/${id}`, { method: "DELETE" });
      }
      embeddings.inputs.length = 0;
      const { data } = await ask(model, "remember I work on Project Falcon");
      assert.equal(data.choices[0]?.message.content, "ok noted");
      const listed = await fetch(`${tandem.url}/v1/memories?limit=100`);
      const saved = ((await listed.json()) as { data: Array<{ text: string; sensitivity: string }> }).data;
      assert.deepEqual(
        saved.map((m) => [m.text, m.sensitivity]),
        [[FACT, "internal"]],
        "the memory is kept as the model wrote it",
      );
      return embeddings.inputs.flat();
    };

    it("is embedded redacted on a redact route, and its audit row names the route", async () => {
      const earlier = (await auditRows()).length;
      const sent = await remember("red");
      assert.ok(sent.includes("The user works on [KEYWORD_1]"), JSON.stringify(sent));
      assert.equal(
        sent.some((text) => text.includes("Falcon")),
        false,
        JSON.stringify(sent),
      );
      // The recall's query and the saved memory: both embedded for this request to the route.
      const all = await auditRows(); // newest first
      const rows = all.slice(0, all.length - earlier).filter((r) => r.target === "emb/concepts");
      assert.deepEqual(
        rows.map((r) => [r.route, r.sensitivity, r.redactions]),
        [
          ["red", "internal", { keyword: 1 }],
          ["red", "internal", { keyword: 1 }],
        ],
      );
    });

    it("is not embedded by a cloud model on a local-only route (kept by its words)", async () => {
      const sent = await remember("keeplocal");
      assert.equal(sent.includes(FACT), false, JSON.stringify(sent));
    });

    it("is embedded as it is on a route without privacy", async () => {
      assert.ok((await remember("open")).includes(FACT));
    });
  });
});

/**
 * The recall's warning says what was not done (the query was not sent to the embedding model), in
 * a sentence of its own: not a field the answering target "was not sent", nor with a `?` for its `;`.
 */
function assertSearchedByWords(warnings: string | null): void {
  assert.ok(
    (warnings ?? "")
      .split("; ")
      .includes(
        "memory search by meaning not made: the route's privacy keeps this request's text off the embedding model, so memories were searched by their words",
      ),
    String(warnings),
  );
}
