/**
 * Vector store search by meaning (`vectorStores.embeddings`), through a fake OpenAI-compatible
 * embeddings upstream on 127.0.0.1 whose vectors are concepts: a query finds the chunk that means
 * what it asks without sharing a word with it (which word search alone does not), and privacy holds:
 * a private chunk is never sent to the cloud embedding model (it is still found by its words), and
 * every embedding call that went to the cloud is in the egress audit.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import { type ConceptEmbeddings, startConceptEmbeddings } from "../support/fake-concept-embeddings.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const CONCEPTS = [
  ["vegetarian", "cook", "dinner", "meal", "recipe", "eat"],
  ["film", "movie", "cinema", "watch"],
];
const DOCS = {
  "food.md": "A vegetarian recipe: lentil soup with a side of bread.",
  "films.md": "Friday is movie night at the cinema on Main Street.",
  "card.txt": "The cinema membership is paid with card 4111 1111 1111 1111.",
};

describe("vector store search by meaning, with a cloud embedding model", () => {
  let embeddings: ConceptEmbeddings;
  let tandem: RunningTandem;
  let words: RunningTandem;
  const stores = new Map<RunningTandem, string>();

  before(async () => {
    embeddings = await startConceptEmbeddings(CONCEPTS);
    const providers = {
      emb: { kind: "openai" as const, baseUrl: embeddings.url, apiKeys: ["env:UP_KEY"], local: false, models: ["concepts"] },
    };
    tandem = await startTandem(
      { providers, vectorStores: { embeddings: "emb/concepts" } },
      { env: { UP_KEY: "sk-up" }, store: true },
    );
    // The control: the same files searched by their words alone.
    words = await startTandem({ providers }, { env: { UP_KEY: "sk-up" } });
    for (const server of [tandem, words]) {
      const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const ids: string[] = [];
      for (const [name, text] of Object.entries(DOCS)) {
        ids.push((await client.files.create({ file: await toFile(Buffer.from(text), name), purpose: "assistants" })).id);
      }
      const vs = await client.vectorStores.create({ name: "docs", file_ids: ids });
      await server.server.vectorStores.idle();
      stores.set(server, vs.id);
    }
  });

  after(async () => {
    await tandem?.close();
    await words?.close();
    await embeddings?.close();
  });

  const search = async (server: RunningTandem, query: string) => {
    const client = new OpenAI({ baseURL: `${server.url}/v1`, apiKey: "unused", maxRetries: 0 });
    return (await client.vectorStores.search(stores.get(server) as string, { query })).data;
  };

  it("finds the chunk that means what the query asks, with no word in common", async () => {
    const hits = await search(tandem, "What should I make to eat tonight?");
    assert.equal(hits[0]?.filename, "food.md");
    assert.ok((hits[0]?.score ?? 0) > 0.5, String(hits[0]?.score));
    assert.deepEqual(await search(words, "What should I make to eat tonight?"), [], "no shared word: word search finds nothing");
  });

  it("never sends a private chunk to the cloud embedding model; it is still found by its words", async () => {
    const sent = embeddings.inputs.flat();
    assert.ok(
      sent.some((text) => text.includes("lentil")),
      "the public chunks were embedded",
    );
    assert.ok(!sent.some((text) => text.includes("4111")), "the private chunk was not");
    const hits = await search(tandem, "membership card");
    assert.equal(hits[0]?.filename, "card.txt");
  });

  it("records each cloud embedding call in the egress audit", async () => {
    const audit = (await (await fetch(`${tandem.url}/v1/audit?limit=100`)).json()) as { data: { target: string }[] };
    const rows = audit.data.filter((row) => row.target === "emb/concepts");
    // Two public chunks at ingestion, one query per search above (the words-only server embeds nothing).
    assert.ok(rows.length >= 4, `audit rows for the embedding model: ${rows.length}`);
  });
});
