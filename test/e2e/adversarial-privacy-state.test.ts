/**
 * Adversarial privacy pass over the state layer: content tandem adds to a request that the client
 * did not send in it (a conversation's items, a compaction, a file_search query), declared private
 * by the client, must not reach a cloud target. The secret here is one no detector finds, so only
 * the client's declaration (`x-tandem-sensitivity: private`) protects it, as the README promises
 * for stored turns. Cloud upstreams sit behind raw TCP recorders on 127.0.0.1 and every byte they
 * received is checked; the embeddings upstream records every input it was sent.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI, { toFile } from "openai";
import type { ResponseInputItem } from "openai/resources/responses/responses";
import type { ByteRecorder } from "../support/byte-recorder.js";
import type { ConceptEmbeddings } from "../support/fake-concept-embeddings.js";
import type { FakeOpenAIUpstream } from "../support/fake-openai-upstream.js";
import { CLOUD, FAST, LOCAL, type PrivacyStage, startPrivacyStage } from "../support/privacy-stage.js";
import type { RunningTandem } from "../support/tandem.js";

/** Declared private by the client, found by no detector: only the declared sensitivity protects it. */
const VAULT = ["tango", "451", "zulu"].join("-");
const SECRET_TURN = `The vault code is ${VAULT}. Keep it to yourself.`;
const HARMLESS = "What should I do next?";
const PRIVATE = { "x-tandem-sensitivity": "private" };
const EMAIL = ["stored.canary", "example.org"].join("@");

let home: FakeOpenAIUpstream;
let cloudRecorder: ByteRecorder;
let embeddings: ConceptEmbeddings;
let tandem: RunningTandem;
let client: OpenAI;
let store: string;

const LIMIT = { timeout: 15_000 };

let stage: PrivacyStage;

before(async () => {
  stage = await startPrivacyStage({
    "local-first": { tiers: [LOCAL, CLOUD], privacy: "local-only", ...FAST },
    "cloud-only": { tiers: [CLOUD], privacy: "local-only", ...FAST },
    // No privacy setting: a private request follows privacy.default (local-only), an internal one goes.
    "cloud-open": { tiers: [CLOUD], ...FAST },
    "all-local": { tiers: [LOCAL], ...FAST },
    "cloud-memory": { tiers: [CLOUD], privacy: "local-only", memory: "on", ...FAST },
  });
  ({ home, cloudRecorder, embeddings, tandem, client } = stage);
  const file = await client.files.create({
    file: await toFile(Buffer.from("The boat is moored at pier 7 of the old harbour."), "sailing.md"),
    purpose: "assistants",
  });
  store = (await client.vectorStores.create({ name: "boats", file_ids: [file.id] })).id;
  await tandem.server.vectorStores.idle();
});

after(() => stage?.close());

beforeEach(() => stage.reset());

/** Nothing the cloud upstream received holds the secret; it received nothing at all when `untouched`. */
async function assertCloudClean(untouched: boolean): Promise<void> {
  await sleep(50);
  const bytes = cloudRecorder.received();
  assert.ok(!bytes.toString("utf8").includes(VAULT), "the private value reached the cloud upstream");
  if (untouched) assert.equal(bytes.length, 0, `the cloud upstream received ${bytes.length} bytes`);
}

/** A turn on a cloud route, refused (403) since the data may not leave the machine. */
async function assertRefused(turn: Promise<unknown>): Promise<void> {
  await assert.rejects(turn, (err: unknown) => {
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 403, err.message);
    return true;
  });
}

describe("conversation items the client declared private", () => {
  it("items added with conversations.items.create keep a later cloud turn off the cloud", LIMIT, async () => {
    const conversation = await client.conversations.create({});
    await client.conversations.items.create(
      conversation.id,
      { items: [{ type: "message", role: "user", content: SECRET_TURN }] },
      { headers: PRIVATE },
    );
    await assertRefused(client.responses.create({ model: "cloud-only", conversation: conversation.id, input: HARMLESS }));
    await assertCloudClean(true);
  });

  it("items given to conversations.create keep a later cloud turn off the cloud", LIMIT, async () => {
    const conversation = await client.conversations.create(
      { items: [{ type: "message", role: "user", content: SECRET_TURN }] },
      { headers: PRIVATE },
    );
    await assertRefused(client.responses.create({ model: "cloud-only", conversation: conversation.id, input: HARMLESS }));
    // On a route with a local target, the turn stays on it, and says why.
    const { data, response } = await client.responses
      .create({ model: "local-first", conversation: conversation.id, input: HARMLESS })
      .withResponse();
    assert.equal(data.output_text, "Handled on this machine.");
    assert.equal(response.headers.get("x-tandem-sensitivity"), "private");
    await assertCloudClean(true);
  });

  it("a bad x-tandem-sensitivity on a conversation call is OpenAI's 400 naming the header, nothing stored", LIMIT, async () => {
    await assert.rejects(
      client.conversations.create(
        { items: [{ type: "message", role: "user", content: SECRET_TURN }] },
        { headers: { "x-tandem-sensitivity": "top" } },
      ),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, String(err));
        assert.equal((err.error as { param?: string } | undefined)?.param, "x-tandem-sensitivity");
        return true;
      },
    );
  });
});

describe("a compaction of a private history", () => {
  it("sent back as input, keeps the turn as private as the history it stands for", LIMIT, async () => {
    const first = await client.responses.create({ model: "local-first", input: SECRET_TURN }, { headers: PRIVATE });
    home.script(() => ({ kind: "text", text: `The user keeps the vault code ${VAULT} to themselves.` }));
    const compacted = await client.responses.compact(
      { model: "local-first", previous_response_id: first.id },
      { headers: PRIVATE },
    );
    const summary = compacted.output.filter((item) => item.type === "compaction");
    assert.equal(summary.length, 1);
    // The client keeps the compaction (opaque to it, as OpenAI's) and continues from it alone.
    await assertRefused(
      client.responses.create({
        model: "cloud-only",
        input: [...(summary as ResponseInputItem[]), { role: "user", content: HARMLESS }],
        store: false,
      }),
    );
    await assertCloudClean(true);
  });

  it(
    "stored in a conversation (read back in its place), keeps the turn as private as the history it stands for",
    LIMIT,
    async () => {
      const first = await client.responses.create({ model: "local-first", input: SECRET_TURN }, { headers: PRIVATE });
      home.script(() => ({ kind: "text", text: `The user keeps the vault code ${VAULT} to themselves.` }));
      const compacted = await client.responses.compact(
        { model: "local-first", previous_response_id: first.id },
        { headers: PRIVATE },
      );
      const summary = compacted.output.filter((item) => item.type === "compaction");
      // Stored without the header: the level it carries is the history's, as when sent back as input.
      const conversation = await client.conversations.create({ items: summary as never });
      await assertRefused(client.responses.create({ model: "cloud-only", conversation: conversation.id, input: HARMLESS }));
      await assertCloudClean(true);
    },
  );
});

describe("file_search queries of a private conversation", () => {
  it("are not embedded by a cloud embedding model", LIMIT, async () => {
    home.script((request) => {
      const messages = (request.body as { messages: Array<{ role: string }> }).messages;
      return messages.at(-1)?.role === "tool"
        ? { kind: "text", text: "Found it." }
        : { kind: "tool_calls", calls: [{ name: "file_search", arguments: { queries: [`boat ${VAULT}`] } }] };
    });
    const response = await client.responses.create(
      { model: "all-local", input: SECRET_TURN, tools: [{ type: "file_search", vector_store_ids: [store] }] },
      { headers: PRIVATE },
    );
    assert.equal(response.output_text, "Found it.");
    assert.ok(
      response.output.some((item) => item.type === "file_search_call"),
      "the model searched",
    );
    const sent = embeddings.inputs.flat();
    assert.ok(!sent.some((text) => text.includes(VAULT)), `the query went to the cloud embedding model: ${JSON.stringify(sent)}`);
  });

  it("a search of the vector store API declared private is not embedded by a cloud model", LIMIT, async () => {
    const hits = await client.vectorStores.search(store, { query: `boat ${VAULT}` }, { headers: PRIVATE });
    assert.equal(hits.data[0]?.filename, "sailing.md", "still found by its words");
    const sent = embeddings.inputs.flat();
    assert.ok(!sent.some((text) => text.includes(VAULT)), `the query went to the cloud embedding model: ${JSON.stringify(sent)}`);
  });
});

describe("a history stored internal", () => {
  for (const how of ["previous_response_id", "conversation"] as const) {
    it(`${how}: is a floor, not a ceiling: a later turn's own private data is still found`, LIMIT, async () => {
      const conversation = how === "conversation" ? (await client.conversations.create({})).id : undefined;
      const first = await client.responses.create(
        { model: "local-first", input: "Notes for the internal planning meeting.", ...(conversation && { conversation }) },
        { headers: { "x-tandem-sensitivity": "internal" } },
      );
      // The later turn holds an e-mail address: private by detection, so privacy.default keeps it here.
      const next = client.responses.create({
        model: "cloud-open",
        input: `Send the notes to ${EMAIL}.`,
        ...(conversation ? { conversation } : { previous_response_id: first.id }),
      });
      await assertRefused(next);
      await sleep(50);
      assert.ok(!cloudRecorder.received().toString("utf8").includes(EMAIL), "the e-mail address reached the cloud upstream");
      // Harmless, the same turn goes, as internal.
      const { response } = await client.responses
        .create({
          model: "cloud-open",
          input: HARMLESS,
          ...(conversation ? { conversation } : { previous_response_id: first.id }),
        })
        .withResponse();
      assert.equal(response.headers.get("x-tandem-sensitivity"), "internal");
    });
  }
});

describe("a memory declared internal", () => {
  it("recalled into a request, keeps it at least internal: a local-only route does not send it to the cloud", LIMIT, async () => {
    const res = await fetch(`${tandem.url}/v1/memories`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "The team codename is bluejay", sensitivity: "internal" }),
    });
    assert.equal(res.status, 200);
    await assertRefused(
      client.chat.completions.create({ model: "cloud-memory", messages: [{ role: "user", content: "Which team codename?" }] }),
    );
    await sleep(50);
    assert.ok(!cloudRecorder.received().toString("utf8").includes("bluejay"), "the memory reached the cloud upstream");
  });
});
