/**
 * Turns and item changes on one conversation at once, through a real tandem server with the official
 * openai SDK over an upstream whose answers take as long as a test asks (`ms:NNNN` in the input):
 * who gets the conversation is decided as a request is accepted (a background run too), item changes
 * with no turn under way wait for each other instead of refusing each other, a `store: false` turn
 * (which appends nothing) is not held up, and a foreground response being answered is cancelled,
 * read and deleted as the README says. Each case here was a bug.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { StateStore } from "../../src/core/state.js";
import { type SlowUpstream, startSlowUpstream } from "../support/slow-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: SlowUpstream;
let tandem: RunningTandem;
let client: OpenAI;
let state: StateStore;
const MODEL = "oa/slow";

const LOCKED = {
  message: "Another process is currently operating on this conversation. Please retry in a few seconds.",
  type: "invalid_request_error",
  param: "conversation",
  code: "conversation_locked",
};

before(async () => {
  upstream = await startSlowUpstream();
  tandem = await startTandem(
    { providers: { oa: { kind: "openai", baseUrl: upstream.url, apiKeys: ["env:K"], local: false, models: ["slow"] } } },
    // The encrypted store, as a user runs tandem: its writes take long enough for requests to overlap.
    { env: { K: "sk-upstream" }, store: true },
  );
  state = tandem.server.state;
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  upstream?.close();
});

/** OpenAI's 400 for a busy conversation, exactly as tandem gives a foreground turn. */
function isLocked(err: unknown): boolean {
  assert.ok(err instanceof OpenAI.BadRequestError, String(err));
  assert.deepEqual(err.error, LOCKED);
  return true;
}

async function seeded(): Promise<string> {
  return (await client.conversations.create({ items: [{ type: "message", role: "user", content: "seed" }] })).id;
}

/** The conversation's items as `role:text`, oldest first. */
async function itemsOf(conversationId: string): Promise<string[]> {
  const items = (await state.conversationItems(conversationId)) ?? [];
  return items.map(({ item }) => {
    const content = (item as { content?: Array<{ text?: string }> }).content ?? [];
    return `${String((item as { role?: string }).role)}:${content.map((part) => part.text ?? "").join("")}`;
  });
}

async function finished(id: string): Promise<OpenAI.Responses.Response> {
  for (let i = 0; i < 500; i++) {
    const read = await client.responses.retrieve(id);
    if (read.status !== "queued" && read.status !== "in_progress") return read;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${id} did not finish`);
}

/**
 * A streamed foreground turn that calls `meanwhile` with its id as soon as `response.created` comes
 * (the answer then still has `ms` to go), and answers the stream's last event type.
 */
async function streamedTurn(
  body: { input: string; conversation?: string },
  meanwhile: (id: string) => Promise<void>,
): Promise<{ id: string; last: string }> {
  const stream = await client.responses.create({ model: MODEL, stream: true, ...body });
  let id = "";
  let last = "";
  for await (const event of stream) {
    last = event.type;
    if (event.type === "response.created") {
      id = event.response.id;
      await meanwhile(id);
    }
  }
  return { id, last };
}

async function rawPost(path: string, body: unknown): Promise<{ status: number; type: string; json: unknown }> {
  const res = await fetch(`${tandem.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const type = res.headers.get("content-type") ?? "";
  return { status: res.status, type, json: type.includes("json") ? JSON.parse(text) : text };
}

describe("a background turn takes its conversation as it is accepted", () => {
  it("on a busy conversation it is OpenAI's 400 at once (streamed too), not a run answered queued that fails later", async () => {
    const conversation = await seeded();
    await streamedTurn({ input: "ms:1500 fg", conversation }, async () => {
      await assert.rejects(client.responses.create({ model: MODEL, input: "bg", background: true, conversation }), isLocked);
      const streamed = await rawPost("/v1/responses", {
        model: MODEL,
        input: "bg streamed",
        background: true,
        stream: true,
        conversation,
      });
      assert.equal(streamed.status, 400, "refused before any event");
      assert.deepEqual((streamed.json as { error: unknown }).error, LOCKED);
    });
    assert.deepEqual((await itemsOf(conversation)).slice(0, 2), ["user:seed", "user:ms:1500 fg"]);
  });

  it("once accepted it holds the conversation: a second background turn and a foreground one are refused, and the run completes", async () => {
    const conversation = await seeded();
    const run = await client.responses.create({ model: MODEL, input: "ms:800 bg1", background: true, conversation });
    assert.equal(run.status, "queued");
    await assert.rejects(client.responses.create({ model: MODEL, input: "bg2", background: true, conversation }), isLocked);
    await assert.rejects(client.responses.create({ model: MODEL, input: "fg", conversation }), isLocked);
    // Nor may items be added under it: they would be stored before its input.
    await assert.rejects(
      client.conversations.items.create(conversation, { items: [{ type: "message", role: "user", content: "side" }] }),
      isLocked,
    );
    const done = await finished(run.id);
    assert.equal(done.status, "completed");
    const conversationItems = await itemsOf(conversation);
    assert.deepEqual(conversationItems.slice(0, 2), ["user:seed", "user:ms:800 bg1"]);
    assert.equal(conversationItems.length, 3);
    const inputs = await client.responses.inputItems.list(run.id, { order: "asc" });
    assert.deepEqual(
      inputs.data.map((item) => (item.type === "message" ? item.role : item.type)),
      ["user", "user"],
      "the conversation's item, then the run's own input",
    );
    // Freed when the run ended: the next turn is taken.
    assert.equal((await client.responses.create({ model: MODEL, input: "ms:50 next", conversation })).status, "completed");
  });

  it("sent at the same moment as another turn, one of them gets the conversation and the other the 400: no accepted run fails", async () => {
    for (const second of ["foreground", "background"] as const) {
      const conversation = await seeded();
      const [bg, other] = await Promise.allSettled([
        client.responses.create({ model: MODEL, input: "ms:400 bg", background: true, conversation }),
        client.responses.create({
          model: MODEL,
          input: `ms:400 ${second}`,
          conversation,
          ...(second === "background" && { background: true }),
        }),
      ]);
      const accepted = [bg, other].filter((outcome) => outcome.status === "fulfilled");
      const refused = [bg, other].filter((outcome) => outcome.status === "rejected");
      assert.equal(accepted.length, 1, `${second}: exactly one accepted`);
      assert.equal(refused.length, 1, `${second}: exactly one refused`);
      isLocked((refused[0] as PromiseRejectedResult).reason);
      const response = (accepted[0] as PromiseFulfilledResult<OpenAI.Responses.Response>).value;
      const ended = response.background ? await finished(response.id) : response;
      assert.equal(ended.status, "completed", `${second}: the accepted one completes`);
      assert.equal((await itemsOf(conversation)).length, 3);
    }
  });
});

describe("a foreground response being answered", () => {
  it("cancel is OpenAI's 400 'Cannot cancel a synchronous response.', as once it is stored; GET and input_items are 404 until it is stored", async () => {
    const refusedAsSynchronous = (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.equal((err.error as { message?: string }).message, "Cannot cancel a synchronous response.");
      return true;
    };
    const { id, last } = await streamedTurn({ input: "ms:1000 x" }, async (id) => {
      await assert.rejects(client.responses.cancel(id), refusedAsSynchronous);
      await assert.rejects(client.responses.retrieve(id), OpenAI.NotFoundError);
      await assert.rejects(client.responses.inputItems.list(id), OpenAI.NotFoundError);
    });
    assert.equal(last, "response.completed", "the cancel did not stop it");
    await assert.rejects(client.responses.cancel(id), refusedAsSynchronous);
    assert.equal((await client.responses.retrieve(id)).status, "completed");
  });

  it("deleted, it is not kept, and its turn does not join its conversation (as a deleted background run's does not)", async () => {
    const conversation = await seeded();
    const { id, last } = await streamedTurn({ input: "ms:1000 deleted turn", conversation }, async (id) => {
      assert.deepEqual(await client.responses.delete(id), { id, object: "response.deleted", deleted: true });
    });
    assert.equal(last, "response.completed");
    await assert.rejects(client.responses.retrieve(id), OpenAI.NotFoundError);
    assert.deepEqual(await itemsOf(conversation), ["user:seed"], "nothing of the deleted turn");
    // The conversation is free and goes on from its own items.
    upstream.received.length = 0;
    await client.responses.create({ model: MODEL, input: "ms:50 next", conversation });
    assert.doesNotMatch(JSON.stringify(upstream.received[0]), /deleted turn/);
    assert.equal((await itemsOf(conversation)).length, 3);
  });
});

describe("conversation items with no turn under way", () => {
  it("10 adds at once all succeed, each add's items together", async () => {
    const conversation = await seeded();
    const adds = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        client.conversations.items.create(conversation, {
          items: [
            { type: "message", role: "user", content: `a${i}` },
            { type: "message", role: "user", content: `b${i}` },
          ],
        }),
      ),
    );
    assert.deepEqual(
      adds.map((add) => (add.status === "fulfilled" ? "ok" : String(add.reason))),
      Array(10).fill("ok"),
    );
    const items = await itemsOf(conversation);
    assert.equal(items.length, 21);
    for (let at = 1; at < items.length; at += 2) {
      assert.equal(items[at + 1], (items[at] as string).replace(":a", ":b"), "an add's two items are adjacent");
    }
  });

  it("5 deletes of one item at once: one deletes it, the others find it gone (404)", async () => {
    const conversation = await seeded();
    const [item] = (await client.conversations.items.list(conversation)).data;
    const deletes = await Promise.allSettled(
      Array.from({ length: 5 }, () => client.conversations.items.delete(item?.id as string, { conversation_id: conversation })),
    );
    const outcomes = deletes.map((outcome) =>
      outcome.status === "fulfilled" ? 200 : ((outcome.reason as { status?: number }).status ?? String(outcome.reason)),
    );
    assert.deepEqual(outcomes.sort(), [200, 404, 404, 404, 404]);
  });

  it("a turn sent with item adds is never refused for them, and is composed from the items before it", async () => {
    const conversation = await seeded();
    const adds = Array.from({ length: 6 }, (_, i) =>
      client.conversations.items.create(conversation, { items: [{ type: "message", role: "user", content: `side${i}` }] }),
    );
    const turn = client.responses.create({ model: MODEL, input: "ms:50 turn", conversation });
    const settled = await Promise.allSettled(adds);
    for (const add of settled) if (add.status === "rejected") isLocked(add.reason);
    const response = await turn;
    assert.equal(response.status, "completed");
    const items = await itemsOf(conversation);
    const at = items.indexOf("user:ms:50 turn");
    const inputs = await client.responses.inputItems.list(response.id, { order: "asc", limit: 100 });
    assert.equal(inputs.data.length, at + 1, "its input items: the conversation before it, then its input");
  });
});

describe("a store: false turn on a conversation", () => {
  it("reads the conversation while a stored turn runs, is not refused, and appends nothing", async () => {
    const conversation = await seeded();
    await streamedTurn({ input: "ms:1000 stored", conversation }, async () => {
      upstream.received.length = 0;
      const unstored = await client.responses.create({ model: MODEL, input: "ms:50 unstored", conversation, store: false });
      assert.equal(unstored.status, "completed");
      const sent = JSON.stringify(upstream.received[0]);
      assert.match(sent, /seed/, "the conversation as it stands");
      assert.doesNotMatch(sent, /ms:1000 stored/, "without the turn still under way");
    });
    const items = await itemsOf(conversation);
    assert.deepEqual(items.slice(0, 2), ["user:seed", "user:ms:1000 stored"]);
    assert.equal(items.length, 3, "only the stored turn");
  });
});
