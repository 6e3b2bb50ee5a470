/**
 * Adversarial privacy pass over stored files: a file uploaded with `x-tandem-sensitivity: private`
 * holds a value no detector finds, so only the level kept with the file protects it, wherever the
 * file is used later without the header: a vector store's ingestion (its chunks' embeddings, the
 * chunks file_search hands a turn) and a request naming the file by id (the Responses API's
 * input_file, a chat completions file part). Every case is run without the declaration too, where
 * the value does reach the cloud, so each check can fail. Cloud upstreams sit behind raw TCP
 * recorders on 127.0.0.1; the cloud embeddings upstream records every input it was sent.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI, { toFile } from "openai";
import type { ByteRecorder } from "../support/byte-recorder.js";
import type { ConceptEmbeddings } from "../support/fake-concept-embeddings.js";
import type { FakeOpenAIScript, FakeOpenAIUpstream } from "../support/fake-openai-upstream.js";
import { CLOUD, FAST, LOCAL, type PrivacyStage, startPrivacyStage } from "../support/privacy-stage.js";
import type { RunningTandem } from "../support/tandem.js";

/** Declared private by the client, found by no detector: only the declared sensitivity protects it. */
const VAULT = ["tango", "451", "zulu"].join("-");
const SECRET_TEXT = `The boat is moored at pier 7 of the old harbour. The vault code is ${VAULT}.`;
const PRIVATE = { "x-tandem-sensitivity": "private" };
const INTERNAL = { "x-tandem-sensitivity": "internal" };
const EMAIL = ["file.canary", "example.org"].join("@");

let home: FakeOpenAIUpstream;
let cloud: FakeOpenAIUpstream;
let cloudRecorder: ByteRecorder;
let embeddings: ConceptEmbeddings;
let tandem: RunningTandem;
let client: OpenAI;

const LIMIT = { timeout: 15_000 };

let stage: PrivacyStage;

before(async () => {
  stage = await startPrivacyStage({
    "cloud-only": { tiers: [CLOUD], privacy: "local-only", ...FAST },
    "cloud-first": { tiers: [CLOUD, LOCAL], privacy: "local-only", ...FAST },
    // No privacy setting: a private request follows privacy.default (local-only), an internal one goes.
    "cloud-open": { tiers: [CLOUD], ...FAST },
  });
  ({ home, cloud, cloudRecorder, embeddings, tandem, client } = stage);
});

after(() => stage?.close());

beforeEach(() => stage.reset());

/** Uploads the secret text, declared private (`declared`) or with no header. */
async function upload(declared: boolean, text = SECRET_TEXT): Promise<string> {
  const file = await client.files.create(
    { file: await toFile(Buffer.from(text), "harbour.md"), purpose: "assistants" },
    declared ? { headers: PRIVATE } : {},
  );
  return file.id;
}

async function cloudReceived(): Promise<string> {
  await sleep(50);
  return cloudRecorder.received().toString("utf8");
}

/** A turn on a cloud route, refused (403) since the data may not leave the machine. */
async function assertRefused(turn: Promise<unknown>): Promise<void> {
  await assert.rejects(turn, (err: unknown) => {
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 403, err.message);
    return true;
  });
}

const sentToEmbedder = (): string[] => embeddings.inputs.flat();

describe("a file uploaded with a declared level", () => {
  it("keeps OpenAI's File object as it is: nothing new shown, whatever was declared", LIMIT, async () => {
    const [declared, plain] = await Promise.all([upload(true), upload(false)]);
    const [a, b] = await Promise.all([client.files.retrieve(declared), client.files.retrieve(plain)]);
    assert.deepEqual(Object.keys(a), Object.keys(b));
    assert.ok(!("sensitivity" in a));
  });

  it("a bad x-tandem-sensitivity on an upload is OpenAI's 400 naming the header, nothing stored", LIMIT, async () => {
    const before = (await client.files.list()).data.length;
    await assert.rejects(
      client.files.create(
        { file: await toFile(Buffer.from(SECRET_TEXT), "harbour.md"), purpose: "assistants" },
        { headers: { "x-tandem-sensitivity": "top" } },
      ),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, String(err));
        assert.equal((err.error as { param?: string } | undefined)?.param, "x-tandem-sensitivity");
        return true;
      },
    );
    assert.equal((await client.files.list()).data.length, before);
  });
});

describe("vector store ingestion of a file declared private", () => {
  for (const declared of [true, false]) {
    it(
      `${declared ? "declared private: its chunks are not" : "undeclared: its chunks are"} embedded by a cloud embedding model`,
      LIMIT,
      async () => {
        const fileId = await upload(declared);
        const store = await client.vectorStores.create({ name: "harbour", file_ids: [fileId] });
        await tandem.server.vectorStores.idle();
        const file = await client.vectorStores.files.retrieve(fileId, { vector_store_id: store.id });
        assert.equal(file.status, "completed");
        const leaked = sentToEmbedder().some((text) => text.includes(VAULT));
        assert.equal(leaked, !declared, `what the cloud embedder received: ${JSON.stringify(sentToEmbedder())}`);
        // Still found by its words.
        const hits = await client.vectorStores.search(store.id, { query: "boat harbour" }, { headers: PRIVATE });
        assert.equal(hits.data[0]?.file_id, fileId);
      },
    );

    it(
      `${declared ? "declared private: file_search does not hand its chunks" : "undeclared: file_search hands its chunks"} to a cloud turn`,
      LIMIT,
      async () => {
        const fileId = await upload(declared);
        const store = await client.vectorStores.create({ name: "harbour", file_ids: [fileId] });
        await tandem.server.vectorStores.idle();
        const answerOrSearch: FakeOpenAIScript = (request) => {
          const messages = (request.body as { messages: Array<{ role: string }> }).messages;
          return messages.at(-1)?.role === "tool"
            ? { kind: "text", text: "Found it." }
            : { kind: "tool_calls", calls: [{ name: "file_search", arguments: { queries: ["boat harbour"] } }] };
        };
        cloud.script(answerOrSearch);
        home.script(answerOrSearch);
        const response = await client.responses.create({
          model: "cloud-first",
          input: "Where is the boat moored?",
          tools: [{ type: "file_search", vector_store_ids: [store.id] }],
        });
        assert.equal(response.output_text, "Found it.");
        assert.ok(response.output.some((item) => item.type === "file_search_call"));
        assert.equal((await cloudReceived()).includes(VAULT), !declared, "whether the chunk's text reached the cloud upstream");
      },
    );
  }
});

describe("a request naming a file declared private", () => {
  for (const declared of [true, false]) {
    const what = declared ? "declared private: stays off" : "undeclared: goes to";
    it(`Responses API input_file by file_id, ${what} the cloud target of a local-only route`, LIMIT, async () => {
      const fileId = await upload(declared);
      const turn = client.responses.create({
        model: "cloud-only",
        input: [
          {
            role: "user",
            content: [
              { type: "input_text", text: "Summarize the file." },
              { type: "input_file", file_id: fileId },
            ],
          },
        ],
      });
      if (declared) await assertRefused(turn);
      else assert.equal((await turn).output_text, "Answered by the cloud.");
      assert.equal((await cloudReceived()).includes(VAULT), !declared, "whether the file's text reached the cloud upstream");
    });

    it(`chat completions file part by file_id, ${what} the cloud target of a local-only route`, LIMIT, async () => {
      const fileId = await upload(declared);
      const turn = client.chat.completions.create({
        model: "cloud-only",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "Summarize the file." },
              { type: "file", file: { file_id: fileId } },
            ],
          },
        ],
      });
      if (declared) await assertRefused(turn);
      else assert.equal((await turn).choices[0]?.message.content, "Answered by the cloud.");
      assert.equal((await cloudReceived()).includes(VAULT), !declared, "whether the file's text reached the cloud upstream");
    });
  }

  it("named in an earlier turn only, keeps a later turn of the chain off the cloud", LIMIT, async () => {
    const fileId = await upload(true);
    const first = await client.responses.create({
      model: "cloud-first",
      input: [{ role: "user", content: [{ type: "input_file", file_id: fileId }] }],
    });
    assert.equal(first.output_text, "Handled on this machine.");
    await assertRefused(client.responses.create({ model: "cloud-only", previous_response_id: first.id, input: "And then?" }));
    assert.ok(!(await cloudReceived()).includes(VAULT), "the file's text reached the cloud upstream");
  });

  it("declared internal, is a floor, not a ceiling: the turn's own private data is still found", LIMIT, async () => {
    const file = await client.files.create(
      { file: await toFile(Buffer.from("Notes for the internal planning meeting."), "notes.md"), purpose: "assistants" },
      { headers: INTERNAL },
    );
    const named = (text: string) => [
      {
        role: "user" as const,
        content: [
          { type: "input_text" as const, text },
          { type: "input_file" as const, file_id: file.id },
        ],
      },
    ];
    // A route that keeps internal data local refuses it...
    await assertRefused(client.responses.create({ model: "cloud-only", input: named("Summarize the notes.") }));
    // ...one without a privacy setting lets it go, as internal...
    const { response } = await client.responses
      .create({ model: "cloud-open", input: named("Summarize the notes.") })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-sensitivity"), "internal");
    // ...but not a private value of the turn's own, which privacy.default keeps here.
    cloudRecorder.clear();
    await assertRefused(client.responses.create({ model: "cloud-open", input: named(`Send them to ${EMAIL}.`) }));
    assert.ok(!(await cloudReceived()).includes(EMAIL), "the e-mail address reached the cloud upstream");
  });
});
