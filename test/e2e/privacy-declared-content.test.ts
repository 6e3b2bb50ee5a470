/**
 * Content declared private where it is kept, on a `redact` route: a memory saved private, a file
 * uploaded with `x-tandem-sensitivity: private`, conversation items added with it, and what a turn
 * that carried such content stored (an answer may quote it), and a file_search passage of a private
 * file. Its secret is one no detector finds, so redaction, which replaces only what detection finds,
 * cannot make it safe: such a request stays on the route's local targets, as a private image does,
 * and a route without one refuses it in the client's dialect, as a local-only route does. Each case
 * has its control: the same content undeclared reaches the cloud, and so does a request the client
 * itself declares private with nothing declared in it (redacted, as before). Cloud upstreams sit
 * behind raw TCP recorders on 127.0.0.1, and every byte they received is checked.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import Anthropic from "@anthropic-ai/sdk";
import OpenAI, { toFile } from "openai";
import type { ResponseInputItem } from "openai/resources/responses/responses";
import type { ByteRecorder } from "../support/byte-recorder.js";
import type { FakeOpenAIScript, FakeOpenAIUpstream } from "../support/fake-openai-upstream.js";
import { CLOUD, FAST, LOCAL, type PrivacyStage, startPrivacyStage } from "../support/privacy-stage.js";
import { connectResponsesSocket } from "../support/responses-socket-client.js";
import type { RunningTandem } from "../support/tandem.js";

/** Found by no detector: only its declaration protects it. */
const CODENAME = ["BLUE", "HERON"].join("");
const FILE_CODENAME = ["GREEN", "FALCON"].join("");
const PRIVATE = { "x-tandem-sensitivity": "private" };
const EMAIL = ["declared.canary", "example.org"].join("@");

let home: FakeOpenAIUpstream;
let cloud: FakeOpenAIUpstream;
let cloudRecorder: ByteRecorder;
let tandem: RunningTandem;
let client: OpenAI;
let anthropic: Anthropic;

const LIMIT = { timeout: 15_000 };

let stage: PrivacyStage;

before(async () => {
  stage = await startPrivacyStage({
    // No local target: declared-private content is refused.
    "redact-cloud": { tiers: [CLOUD], privacy: "redact", memory: "on", ...FAST },
    // Cloud first: declared-private content is answered on this machine.
    "redact-first": { tiers: [CLOUD, LOCAL], privacy: "redact", memory: "on", ...FAST },
    "redact-only": { tiers: [CLOUD], privacy: "redact", ...FAST },
    "redact-then-local": { tiers: [CLOUD, LOCAL], privacy: "redact", ...FAST },
  });
  ({ home, cloud, cloudRecorder, tandem, client } = stage);
  anthropic = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});

after(() => stage?.close());

beforeEach(() => stage.reset());

async function cloudReceived(): Promise<string> {
  await sleep(50);
  return cloudRecorder.received().toString("utf8");
}

/** Nothing reached the cloud upstream: not the secret, not a byte. */
async function assertCloudUntouched(): Promise<void> {
  const received = await cloudReceived();
  assert.ok(!received.includes(CODENAME) && !received.includes(FILE_CODENAME), "a declared-private value reached the cloud");
  assert.equal(received.length, 0, `the cloud upstream received ${received.length} bytes`);
}

/** An OpenAI SDK call refused with a 403 that says why, never with the value. */
async function assertRefused(turn: Promise<unknown>): Promise<void> {
  await assert.rejects(turn, (err: unknown) => {
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 403, err.message);
    assert.match(err.message, /declared private/);
    assert.ok(!err.message.includes(CODENAME) && !err.message.includes(FILE_CODENAME), err.message);
    return true;
  });
}

async function remember(text: string, sensitivity?: string): Promise<string> {
  const res = await fetch(`${tandem.url}/v1/memories`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text, ...(sensitivity && { sensitivity }) }),
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { id: string }).id;
}

async function forget(id: string): Promise<void> {
  await fetch(`${tandem.url}/v1/memories/${id}`, { method: "DELETE" });
}

async function upload(text: string, declared: boolean): Promise<string> {
  const file = await client.files.create(
    { file: await toFile(Buffer.from(text), "memo.md"), purpose: "user_data" },
    declared ? { headers: PRIVATE } : {},
  );
  return file.id;
}

describe("a memory saved private, recalled on a redact route", () => {
  it("keeps the request on the route's local target", LIMIT, async () => {
    const id = await remember(`The user's project codename is ${CODENAME}.`, "private");
    try {
      const { data, response } = await client.chat.completions
        .create({ model: "redact-first", messages: [{ role: "user", content: "What is my project codename?" }] })
        .withResponse();
      assert.equal(data.choices[0]?.message.content, "Handled on this machine.");
      assert.equal(response.headers.get("x-tandem-sensitivity"), "private");
      assert.equal(response.headers.get("x-tandem-memory"), id);
      await assertCloudUntouched();
    } finally {
      await forget(id);
    }
  });

  it("is refused on a route without a local target, in each client's dialect", LIMIT, async () => {
    const id = await remember(`The user's project codename is ${CODENAME}.`, "private");
    try {
      await assertRefused(
        client.chat.completions.create({
          model: "redact-cloud",
          messages: [{ role: "user", content: "What is my project codename?" }],
        }),
      );
      await assert.rejects(
        anthropic.messages.create({
          model: "redact-cloud",
          max_tokens: 64,
          messages: [{ role: "user", content: "What is my project codename?" }],
        }),
        (err: unknown) => {
          assert.ok(err instanceof Anthropic.PermissionDeniedError, String(err));
          return true;
        },
      );
      const ollama = await fetch(`${tandem.url}/api/chat`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "redact-cloud",
          stream: false,
          messages: [{ role: "user", content: "What is my project codename?" }],
        }),
      });
      assert.equal(ollama.status, 403);
      assert.match(((await ollama.json()) as { error: string }).error, /declared private/);
      await assertCloudUntouched();
    } finally {
      await forget(id);
    }
  });

  it("control: a memory not declared private is recalled into a cloud request", LIMIT, async () => {
    const id = await remember(`The user's garden codename is ${CODENAME}.`);
    try {
      const { response } = await client.chat.completions
        .create({ model: "redact-cloud", messages: [{ role: "user", content: "What is my garden codename?" }] })
        .withResponse();
      assert.equal(response.headers.get("x-tandem-memory"), id);
      assert.ok((await cloudReceived()).includes(CODENAME), "the recalled memory was sent");
    } finally {
      await forget(id);
    }
  });

  it("what the turn stored (its answer may quote the memory) keeps a later turn off the cloud", LIMIT, async () => {
    const id = await remember(`The user's project codename is ${CODENAME}.`, "private");
    home.script(() => ({ kind: "text", text: `Your project codename is ${CODENAME}.` }));
    const first = await client.responses.create({ model: "redact-first", input: "What is my project codename?" });
    assert.ok(first.output_text.includes(CODENAME));
    await forget(id);
    // Nothing recalls the memory now; the stored answer still holds it.
    await assertRefused(client.responses.create({ model: "redact-only", previous_response_id: first.id, input: "Thanks!" }));
    const { data } = await client.responses
      .create({ model: "redact-then-local", previous_response_id: first.id, input: "Thanks!" })
      .withResponse();
    assert.equal(data.output_text, `Your project codename is ${CODENAME}.`, "answered on this machine");
    await assertCloudUntouched();
  });
});

describe("a WebSocket connection's store: false chain (its memory, not the store)", () => {
  it("keeps a turn that recalled a private memory from sending its answer to the cloud next", LIMIT, async () => {
    const id = await remember(`The user's project codename is ${CODENAME}.`, "private");
    home.script(() => ({ kind: "text", text: `Your project codename is ${CODENAME}.` }));
    const ws = await connectResponsesSocket(tandem.url);
    try {
      const first = await ws.turn({
        type: "response.create",
        model: "redact-first",
        store: false,
        input: "What is my project codename?",
      });
      const firstId = String((first.at(-1)?.response as { id: string }).id);
      assert.equal(first.at(-1)?.type, "response.completed");
      await forget(id);
      // Nothing recalls the memory now; the connection's memory still holds the answer that quotes it.
      // Each continuation on a lane of its own: a refused turn makes its lane forget its last response.
      const refused = await ws.turn({
        stream_id: "refused",
        type: "response.create",
        model: "redact-only",
        store: false,
        previous_response_id: firstId,
        input: "Thanks!",
      });
      const error = refused.at(-1) as { type: string; status: number; error: { message: string } };
      assert.equal(error.type, "error", JSON.stringify(error));
      assert.equal(error.status, 403);
      assert.match(error.error.message, /declared private/);
      // A local turn of the chain carries the mark on to the one after it.
      const local = await ws.turn({
        stream_id: "local",
        type: "response.create",
        model: "redact-then-local",
        store: false,
        previous_response_id: firstId,
        input: "Thanks!",
      });
      assert.equal(local.at(-1)?.type, "response.completed");
      const localId = String((local.at(-1)?.response as { id: string }).id);
      const third = await ws.turn({
        type: "response.create",
        model: "redact-only",
        store: false,
        previous_response_id: localId,
        input: "And then?",
      });
      assert.equal((third.at(-1) as { status?: number }).status, 403, JSON.stringify(third.at(-1)));
      await assertCloudUntouched();
    } finally {
      ws.socket.close();
      await forget(id);
    }
  });

  it("control: a chain without declared content still reaches the cloud", LIMIT, async () => {
    const ws = await connectResponsesSocket(tandem.url);
    try {
      const first = await ws.turn({ type: "response.create", model: "redact-only", store: false, input: "Hello" });
      const firstId = String((first.at(-1)?.response as { id: string }).id);
      const next = await ws.turn({
        type: "response.create",
        model: "redact-only",
        store: false,
        previous_response_id: firstId,
        input: "Again",
      });
      assert.equal(next.at(-1)?.type, "response.completed", JSON.stringify(next.at(-1)));
    } finally {
      ws.socket.close();
    }
  });
});

describe("the client's own x-tandem-sensitivity: private on a redact route, as before", () => {
  it("sends the request to the cloud with what detection finds redacted", LIMIT, async () => {
    const { response } = await client.chat.completions
      .create({ model: "redact-only", messages: [{ role: "user", content: `Write to ${EMAIL}.` }] }, { headers: PRIVATE })
      .withResponse();
    assert.equal(response.headers.get("x-tandem-sensitivity"), "private");
    const received = await cloudReceived();
    assert.ok(received.includes("Write to "), "the request was sent");
    assert.ok(!received.includes(EMAIL), "the address was redacted");
  });

  it("and a turn private by detection does not keep the conversation's later turns off a redact route", LIMIT, async () => {
    const first = await client.responses.create({ model: "redact-only", input: `Write to ${EMAIL}.` });
    cloudRecorder.clear();
    const next = await client.responses.create({ model: "redact-only", previous_response_id: first.id, input: "Thanks!" });
    assert.equal(next.output_text, "Answered by the cloud.");
    const received = await cloudReceived();
    assert.ok(received.includes("Thanks!") && !received.includes(EMAIL), "sent, redacted");
  });
});

describe("a file uploaded private, named on a redact route", () => {
  for (const declared of [true, false]) {
    const what = declared ? "declared private: stays off" : "undeclared (control): goes to";
    it(`Responses input_file, ${what} the cloud`, LIMIT, async () => {
      const fileId = await upload(`Internal memo: our codename is ${FILE_CODENAME}. Nothing else.`, declared);
      const input = [
        {
          role: "user" as const,
          content: [
            { type: "input_text" as const, text: "What does the memo say?" },
            { type: "input_file" as const, file_id: fileId },
          ],
        },
      ];
      const turn = client.responses.create({ model: "redact-only", input });
      if (declared) {
        await assertRefused(turn);
        const local = await client.responses.create({ model: "redact-then-local", input });
        assert.equal(local.output_text, "Handled on this machine.");
        await assertCloudUntouched();
      } else {
        assert.equal((await turn).output_text, "Answered by the cloud.");
        assert.ok((await cloudReceived()).includes(FILE_CODENAME));
      }
    });

    it(`chat completions file part, ${what} the cloud`, LIMIT, async () => {
      const fileId = await upload(`Internal memo: our codename is ${FILE_CODENAME}. Nothing else.`, declared);
      const turn = client.chat.completions.create({
        model: "redact-only",
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "What does the memo say?" },
              { type: "file", file: { file_id: fileId } },
            ],
          },
        ],
      });
      if (declared) {
        await assertRefused(turn);
        await assertCloudUntouched();
      } else {
        assert.equal((await turn).choices[0]?.message.content, "Answered by the cloud.");
        assert.ok((await cloudReceived()).includes(FILE_CODENAME));
      }
    });
  }

  it("file_search's passage of a private file keeps the turns after the search on this machine", LIMIT, async () => {
    const fileId = await upload(`The boat is moored at pier 7 of the old harbour. Its codename is ${FILE_CODENAME}.`, true);
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
    const { data: response, response: http } = await client.responses
      .create({
        model: "redact-then-local",
        input: "Where is the boat moored?",
        tools: [{ type: "file_search", vector_store_ids: [store.id] }],
      })
      .withResponse();
    assert.equal(response.output_text, "Found it.");
    // The answer is named for the target that wrote it, and says why that is not the first tier.
    assert.equal(response.model, LOCAL);
    assert.equal(http.headers.get("x-tandem-target"), LOCAL);
    assert.match(http.headers.get("x-tandem-degraded") ?? "", /^true; the tool loop's turn after the tool calls went to /);
    assert.ok(response.output.some((item) => item.type === "file_search_call"));
    assert.ok(!(await cloudReceived()).includes(FILE_CODENAME), "the passage reached the cloud upstream");
  });
});

describe("conversation items added declared private, on a redact route", () => {
  it("keep a later turn on this machine, or refused without a local target", LIMIT, async () => {
    const conversation = await client.conversations.create(
      { items: [{ type: "message", role: "user", content: `Our codename is ${CODENAME}. Keep it to yourself.` }] },
      { headers: PRIVATE },
    );
    await assertRefused(client.responses.create({ model: "redact-only", conversation: conversation.id, input: "What now?" }));
    const local = await client.responses.create({
      model: "redact-then-local",
      conversation: conversation.id,
      input: "What now?",
    });
    assert.equal(local.output_text, "Handled on this machine.");
    // The turn's own items (its answer may quote the declared ones) hold a later turn too.
    await assertRefused(client.responses.create({ model: "redact-only", previous_response_id: local.id, input: "And then?" }));
    await assertCloudUntouched();
  });
});

describe("a compaction of a history that held content declared private", () => {
  it("written on this machine, and sent back as input, keeps that turn off the cloud", LIMIT, async () => {
    const conversation = await client.conversations.create(
      { items: [{ type: "message", role: "user", content: `Our codename is ${CODENAME}. Keep it to yourself.` }] },
      { headers: PRIVATE },
    );
    const first = await client.responses.create({ model: "redact-then-local", conversation: conversation.id, input: "Noted?" });
    home.script(() => ({ kind: "text", text: `The user's codename is ${CODENAME}.` }));
    const compacted = await client.responses.compact({ model: "redact-then-local", previous_response_id: first.id });
    const summary = compacted.output.filter((item) => item.type === "compaction");
    assert.equal(summary.length, 1);
    await assertRefused(
      client.responses.create({
        model: "redact-only",
        input: [...(summary as ResponseInputItem[]), { role: "user", content: "What now?" }],
        store: false,
      }),
    );
    await assertCloudUntouched();
  });
});
