/**
 * Memory search by meaning (`memory.embeddings`), through a fake OpenAI-compatible embeddings
 * upstream on 127.0.0.1 whose vectors are deterministic concepts (food, film, pets): meaning beats a
 * shared word where it should, recall uses it, and privacy holds: a private memory is never sent to
 * a cloud embedding model (a local one embeds it), and every cloud embedding is in the egress audit.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import { type ConceptEmbeddings, startConceptEmbeddings } from "../support/fake-concept-embeddings.js";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { FakeUpstream } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const CONCEPTS: string[][] = [
  ["vegetarian", "cook", "dinner", "meal", "recipe", "eat"],
  ["film", "movie", "cinema", "watch"],
  ["dog", "cat", "puppy", "vet"],
];

const VEGETARIAN = "The user is vegetarian";
const FILM = "Tonight the user watches a film";
const DOG = "The user's dog is called Rex";
const QUESTION = "What should I make tonight?";

interface ListJson {
  data: { id: string; text: string; score: number }[];
}

async function post(url: string, text: string, sensitivity?: string): Promise<string> {
  const res = await fetch(`${url}/v1/memories`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text, ...(sensitivity && { sensitivity }) }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { id: string }).id;
}

async function search(url: string, query: string, headers: Record<string, string> = {}): Promise<ListJson["data"]> {
  const res = await fetch(`${url}/v1/memories?query=${encodeURIComponent(query)}`, { headers });
  assert.equal(res.status, 200);
  return ((await res.json()) as ListJson).data;
}

async function auditTargets(url: string): Promise<string[]> {
  const res = await fetch(`${url}/v1/audit`);
  return ((await res.json()) as { data: { target: string }[] }).data.map((row) => row.target);
}

describe("memory search by meaning, with a cloud embedding model", () => {
  let embeddings: ConceptEmbeddings;
  let chat: FakeUpstream;
  let tandem: RunningTandem;
  let words: RunningTandem;
  const log: string[] = [];

  before(async () => {
    embeddings = await startConceptEmbeddings(CONCEPTS);
    chat = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
    const providers = {
      emb: { kind: "openai" as const, baseUrl: embeddings.url, apiKeys: ["env:UP_KEY"], local: false, models: ["concepts"] },
      cloud: { kind: "openai" as const, baseUrl: chat.url, apiKeys: ["env:UP_KEY"], local: false },
    };
    const routes = { remembered: { tiers: ["cloud/gpt-4o-mini"], memory: { recall: 1 } } };
    tandem = await startTandem(
      { providers, routes, memory: { embeddings: "emb/concepts" } },
      { env: { UP_KEY: "sk-up" }, store: true, log },
    );
    // The control: the same memories searched by their words alone.
    words = await startTandem({ providers, routes }, { env: { UP_KEY: "sk-up" } });
    for (const server of [tandem, words]) {
      for (const text of [VEGETARIAN, FILM, DOG]) await post(server.url, text);
    }
  });

  after(async () => {
    await tandem?.close();
    await words?.close();
    await embeddings?.close();
    await chat?.close();
  });

  it("ranks by meaning: the vegetarian memory answers a question about food that shares a word only with the film", async () => {
    const byWords = await search(words.url, QUESTION);
    assert.deepEqual(
      byWords.map((m) => m.text),
      [FILM],
      "the control: by words, only the memory that shares 'tonight'",
    );
    const byMeaning = await search(tandem.url, "What should I cook tonight?");
    assert.equal(byMeaning[0]?.text, VEGETARIAN);
    assert.ok((byMeaning[0]?.score ?? 0) > (byMeaning.find((m) => m.text === FILM)?.score ?? 0));
    assert.equal(
      byMeaning.some((m) => m.text === DOG),
      false,
      "an unrelated memory stays out",
    );
  });

  it("recalls by meaning on a route with memory on", async () => {
    const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
    chat.requests.length = 0;
    const { response } = await openai.chat.completions
      .create({ model: "remembered", messages: [{ role: "user", content: "Any recipe ideas for dinner tonight?" }] })
      .withResponse();
    const recalled = response.headers.get("x-tandem-memory");
    assert.ok(recalled);
    const sent = (chat.requests[0]?.body as { messages: { role: string; content: string }[] }).messages;
    assert.ok(sent[0]?.content.includes(VEGETARIAN));
    assert.equal(sent[0]?.content.includes(FILM), false, "recall: 1");
  });

  it("sends each memory and query to the cloud model only when it is not private, each call audited", async () => {
    const before = embeddings.inputs.length;
    const auditedBefore = (await auditTargets(tandem.url)).filter((t) => t === "emb/concepts").length;
    await post(tandem.url, "The user feeds the cat at seven");
    assert.deepEqual(embeddings.inputs.slice(before), [["The user feeds the cat at seven"]]);
    const audited = (await auditTargets(tandem.url)).filter((t) => t === "emb/concepts").length;
    assert.equal(audited, auditedBefore + 1, "the cloud embedding is in the egress audit");

    const secret = await post(tandem.url, "The user's vet bill is overdue", "private");
    assert.equal(embeddings.inputs.length, before + 1, "a private memory is not sent to a cloud model");
    assert.ok(log.some((line) => line.includes("memory embedding not made") && line.includes("private_memory_cloud_model")));
    // Still found by its words.
    assert.ok((await search(tandem.url, "vet bill")).some((m) => m.id === secret));

    // A query the client declares private is not embedded in the cloud either (its words still search).
    const count = embeddings.inputs.length;
    const found = await search(tandem.url, "overdue vet", { "x-tandem-sensitivity": "private" });
    assert.equal(embeddings.inputs.length, count);
    assert.ok(found.some((m) => m.id === secret));
    // And one with private data in it is refused by the router's privacy: words only.
    await search(tandem.url, "email me at jo.tester@example.com about the vet");
    assert.equal(embeddings.inputs.length, count);
    for (const line of log) assert.equal(line.includes("vet bill"), false, "no memory text in the log");
  });
});

describe("memory search by meaning, with a local embedding model", () => {
  it("embeds private memories too, and nothing is audited", async () => {
    const embeddings = await startConceptEmbeddings(CONCEPTS);
    const tandem = await startTandem(
      {
        providers: {
          emb: { kind: "openai", baseUrl: embeddings.url, apiKeys: ["env:UP_KEY"], local: true, models: ["concepts"] },
        },
        memory: { embeddings: "emb/concepts" },
      },
      { env: { UP_KEY: "sk-up" }, store: true },
    );
    try {
      const id = await post(tandem.url, "The user's vegetarian diet is for health reasons", "private");
      assert.deepEqual(embeddings.inputs, [["The user's vegetarian diet is for health reasons"]]);
      const hits = await search(tandem.url, "what can I cook?", { "x-tandem-sensitivity": "private" });
      assert.equal(hits[0]?.id, id, "found by meaning: no word is shared");
      assert.deepEqual(await auditTargets(tandem.url), []);
    } finally {
      await tandem.close();
      await embeddings.close();
    }
  });
});
