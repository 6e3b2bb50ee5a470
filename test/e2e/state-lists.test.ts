/**
 * tandem's lists of the state it keeps (its own extension: OpenAI's API lists neither), against the
 * real server, with the encrypted store and in memory: GET /v1/conversations (newest change first)
 * and GET /v1/responses (newest first), paged across pages both ways in OpenAI's list shape, bad
 * paging in OpenAI's error shape naming the parameter, an unknown or deleted cursor a 404, deleted
 * conversations and responses gone from the lists, previews bounded, the client key and Origin
 * checks as on every /v1 route, and the Responses WebSocket mode still served on /v1/responses.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI from "openai";
import { PREVIEW_CHARS } from "../../src/core/state-listing.js";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { connectResponsesSocket } from "../support/responses-socket-client.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const MODEL = "openai/gpt-4o-mini";
const KEY = "state-lists-client-key";

type Json = Record<string, unknown>;
interface List {
  object: string;
  data: Json[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

let upstream: FakeOpenAIUpstream;

before(async () => {
  upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
  upstream.script((request) => {
    const messages = (request.body as { messages: { role: string; content: unknown }[] }).messages;
    const last = messages.at(-1)?.content;
    return {
      kind: "text",
      text: `Answer to ${typeof last === "string" ? last.slice(0, 40) : "parts"}`,
      usage: { input: 5, output: 3 },
    };
  });
});
after(() => upstream?.close());

function config() {
  return { providers: { openai: { kind: "openai" as const, baseUrl: upstream.url, local: false, models: ["gpt-4o-mini"] } } };
}

/** GET with the SDK's own fetch settings left aside: plain fetch, the status and the parsed body. */
async function get(
  tandem: RunningTandem,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Json }> {
  const res = await fetch(`${tandem.url}${path}`, { headers: { authorization: `Bearer ${KEY}`, ...headers } });
  return { status: res.status, body: (await res.json()) as Json };
}

async function list(tandem: RunningTandem, path: string): Promise<List> {
  const { status, body } = await get(tandem, path);
  assert.equal(status, 200, JSON.stringify(body));
  return body as unknown as List;
}

/** Every page of a list, `limit` at a time, following `last_id`: the ids in order and the pages' sizes. */
async function allPages(tandem: RunningTandem, path: string, limit: number, order: "asc" | "desc") {
  const ids: string[] = [];
  const sizes: number[] = [];
  let after: string | undefined;
  for (let page = 0; page < 50; page++) {
    const query = new URLSearchParams({ limit: String(limit), order, ...(after !== undefined && { after }) });
    const got = await list(tandem, `${path}?${query}`);
    assert.equal(got.object, "list");
    assert.equal(got.first_id, (got.data[0]?.id as string | undefined) ?? null);
    assert.equal(got.last_id, (got.data.at(-1)?.id as string | undefined) ?? null);
    ids.push(...got.data.map((item) => String(item.id)));
    sizes.push(got.data.length);
    if (!got.has_more) return { ids, sizes };
    after = got.last_id ?? undefined;
  }
  throw new Error("the list never ended");
}

for (const storeKind of ["encrypted store", "memory"] as const) {
  describe(`GET /v1/conversations and GET /v1/responses (${storeKind})`, () => {
    let tandem: RunningTandem;
    let client: OpenAI;
    const conversations: string[] = [];
    const responses: string[] = [];

    before(async () => {
      tandem = await startTandem(config(), {
        clientKeys: [KEY],
        ...(storeKind === "memory" ? { state: new MemoryStateStore() } : { store: true }),
      });
      client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: KEY, maxRetries: 0 });
      // Five conversations, a few ms apart (their last change orders them), each opening with a user message.
      for (let i = 0; i < 5; i++) {
        const made = await client.conversations.create({
          metadata: { n: String(i) },
          items: [
            { type: "message", role: "system", content: "be brief" },
            { type: "message", role: "user", content: `Conversation ${i}:   first\n\nquestion` },
          ],
        });
        conversations.push(made.id);
        await sleep(5);
      }
      for (let i = 0; i < 3; i++) {
        const made = await client.responses.create({ model: MODEL, input: `Response question ${i}` });
        responses.push(made.id);
      }
    });
    after(() => tandem?.close());

    it("lists conversations newest first in OpenAI's list shape, each as its retrieve plus tandem's fields", async () => {
      const page = await list(tandem, "/v1/conversations?limit=2");
      assert.deepEqual(
        page.data.map((c) => c.id),
        [conversations[4], conversations[3]],
      );
      assert.equal(page.has_more, true);
      const [first] = page.data;
      const retrieved = await client.conversations.retrieve(conversations[4] as string);
      const { updated_at, item_count, preview, ...asRetrieved } = first as Json;
      assert.deepEqual(asRetrieved, JSON.parse(JSON.stringify(retrieved)));
      assert.equal(item_count, 2);
      assert.equal(preview, "Conversation 4: first question", "the first user message, whitespace folded");
      assert.equal(typeof updated_at, "number");
      assert.ok(Math.abs((updated_at as number) - Date.now() / 1000) < 600, "seconds since the epoch");
    });

    it("pages every conversation once, both ways, across pages", async () => {
      const desc = await allPages(tandem, "/v1/conversations", 2, "desc");
      assert.deepEqual(desc.ids, [...conversations].reverse());
      assert.deepEqual(desc.sizes, [2, 2, 1]);
      const asc = await allPages(tandem, "/v1/conversations", 3, "asc");
      assert.deepEqual(asc.ids, conversations);
      assert.deepEqual(asc.sizes, [3, 2]);
      // The default is 20, newest first.
      const all = await list(tandem, "/v1/conversations");
      assert.deepEqual(
        all.data.map((c) => c.id),
        [...conversations].reverse(),
      );
      assert.equal(all.has_more, false);
    });

    it("moves a conversation to the top when it changes, with its new item count", async () => {
      const oldest = conversations[0] as string;
      await sleep(5);
      await client.conversations.items.create(oldest, { items: [{ type: "message", role: "user", content: "later" }] });
      const page = await list(tandem, "/v1/conversations?limit=1");
      assert.equal(page.data[0]?.id, oldest);
      assert.equal(page.data[0]?.item_count, 3);
      assert.equal(page.data[0]?.preview, "Conversation 0: first question", "still the first user message");
      conversations.push(...conversations.splice(0, 1));
    });

    it("lists responses newest first as summaries; the whole stays at its retrieve", async () => {
      const desc = await allPages(tandem, "/v1/responses", 2, "desc");
      assert.deepEqual(new Set(desc.ids), new Set(responses));
      assert.equal(desc.ids.length, responses.length, "each once");
      const asc = await allPages(tandem, "/v1/responses", 1, "asc");
      assert.deepEqual(asc.ids, [...desc.ids].reverse(), "asc is desc reversed");
      // Newest first: by created_at (seconds; ties, made in the same second, by id).
      const page = await list(tandem, "/v1/responses?limit=100");
      const created = page.data.map((r) => r.created_at as number);
      assert.deepEqual(
        created,
        [...created].sort((a, b) => b - a),
      );
      const summary = page.data.find((r) => r.id === responses[1]) as Json;
      assert.deepEqual(Object.keys(summary).sort(), [
        "conversation",
        "created_at",
        "id",
        "input_preview",
        "model",
        "object",
        "output_preview",
        "previous_response_id",
        "status",
      ]);
      const whole = await client.responses.retrieve(responses[1] as string);
      assert.equal(summary.object, "response.summary");
      assert.equal(summary.created_at, whole.created_at);
      assert.equal(summary.model, whole.model);
      assert.equal(summary.status, "completed");
      assert.equal(summary.previous_response_id, null);
      assert.equal(summary.conversation, null);
      assert.equal(summary.input_preview, "Response question 1");
      assert.equal(summary.output_preview, "Answer to Response question 1");
      assert.equal(summary.output_preview, whole.output_text);
    });

    it("names a response's predecessor and conversation, and counts a conversation's items added by a response", async () => {
      const conversation = await client.conversations.create({});
      const first = await client.responses.create({ model: MODEL, input: "in a conversation", conversation: conversation.id });
      const next = await client.responses.create({ model: MODEL, input: "follow-up", previous_response_id: first.id });
      responses.push(first.id, next.id);
      conversations.push(conversation.id);
      const page = await list(tandem, "/v1/responses?limit=100");
      const byId = new Map(page.data.map((r) => [r.id, r]));
      assert.deepEqual(byId.get(first.id)?.conversation, { id: conversation.id });
      assert.equal(byId.get(next.id)?.previous_response_id, first.id);
      assert.equal(byId.get(next.id)?.input_preview, "follow-up");
      const top = (await list(tandem, "/v1/conversations?limit=1")).data[0];
      assert.equal(top?.id, conversation.id);
      assert.equal(top?.item_count, 2, "the response's input and output");
      assert.equal(top?.preview, "in a conversation");
    });

    it("keeps previews bounded whatever the message's length", async () => {
      const long = `${"word ".repeat(3000)}end`;
      const conversation = await client.conversations.create({
        items: [{ type: "message", role: "user", content: [{ type: "input_text", text: long }] }],
      });
      const made = await client.responses.create({ model: MODEL, input: long });
      conversations.push(conversation.id);
      responses.push(made.id);
      const convPreview = (await list(tandem, "/v1/conversations?limit=1")).data[0]?.preview as string;
      assert.ok(convPreview.startsWith("word word"), convPreview);
      assert.equal(Array.from(convPreview).length, PREVIEW_CHARS);
      assert.ok(convPreview.endsWith("…"));
      const summary = (await list(tandem, "/v1/responses?limit=100")).data.find((r) => r.id === made.id) as Json;
      assert.equal(Array.from(summary.input_preview as string).length, PREVIEW_CHARS);
      assert.ok((summary.output_preview as string).length <= PREVIEW_CHARS);
    });

    it("answers bad paging with OpenAI's 400 naming the parameter, and an unknown cursor with a 404 naming `after`", async () => {
      for (const path of ["/v1/conversations", "/v1/responses"]) {
        for (const [query, param, code] of [
          ["limit=0", "limit", "integer_below_min_value"],
          ["limit=101", "limit", "integer_above_max_value"],
          ["limit=ten", "limit", "invalid_type"],
          ["order=newest", "order", "invalid_value"],
          ["after=a&after=b", "after", "invalid_type"],
        ] as const) {
          const { status, body } = await get(tandem, `${path}?${query}`);
          assert.equal(status, 400, `${path}?${query}`);
          const error = body.error as Json;
          assert.equal(error.type, "invalid_request_error");
          assert.equal(error.param, param);
          assert.equal(error.code, code);
          assert.equal(typeof error.message, "string");
        }
        const { status, body } = await get(tandem, `${path}?after=nothing_like_it`);
        assert.equal(status, 404);
        assert.equal((body.error as Json).param, "after");
        assert.match(String((body.error as Json).message), /nothing_like_it/);
      }
      // The SDK sees the same as an APIError with the parameter.
      const error = await client.get("/conversations", { query: { limit: 0 } }).then(
        () => undefined,
        (err: unknown) => err,
      );
      assert.ok(error instanceof OpenAI.BadRequestError);
      assert.equal(error.param, "limit");
    });

    it("drops deleted conversations and responses from the lists; a deleted one as a cursor is a 404", async () => {
      const conversation = conversations[2] as string;
      const response = responses[0] as string;
      await client.conversations.delete(conversation);
      await client.responses.delete(response);
      const convIds = (await allPages(tandem, "/v1/conversations", 3, "desc")).ids;
      assert.ok(!convIds.includes(conversation));
      assert.equal(convIds.length, conversations.length - 1);
      const respIds = (await allPages(tandem, "/v1/responses", 3, "desc")).ids;
      assert.ok(!respIds.includes(response));
      assert.equal(respIds.length, responses.length - 1);
      assert.equal((await get(tandem, `/v1/conversations?after=${conversation}`)).status, 404);
      assert.equal((await get(tandem, `/v1/responses?after=${response}`)).status, 404);
    });

    it("asks for the client key, and refuses another web origin, as every /v1 route", async () => {
      for (const path of ["/v1/conversations", "/v1/responses"]) {
        const bare = await fetch(`${tandem.url}${path}`);
        assert.equal(bare.status, 401);
        assert.equal(((await bare.json()) as { error: Json }).error.type, "invalid_request_error");
        const wrong = await fetch(`${tandem.url}${path}`, { headers: { authorization: "Bearer nope" } });
        assert.equal(wrong.status, 401);
        const foreign = await get(tandem, path, { origin: "https://evil.example" });
        assert.equal(foreign.status, 403);
        assert.equal(JSON.stringify(foreign.body).includes("Conversation "), false, "nothing of the state in the refusal");
      }
    });

    it("still serves the Responses WebSocket mode on /v1/responses, whose responses the list then shows", async () => {
      const socket = await connectResponsesSocket(tandem.url, { authorization: `Bearer ${KEY}` });
      try {
        const events = await socket.turn({ type: "response.create", model: MODEL, input: "over the socket", store: true });
        const done = events.find((e) => e.type === "response.completed") as { response: { id: string } } | undefined;
        assert.ok(done, JSON.stringify(events));
        const summary = (await list(tandem, "/v1/responses?limit=100")).data.find((r) => r.id === done.response.id);
        assert.equal(summary?.input_preview, "over the socket");
      } finally {
        socket.socket.close();
      }
      // And a plain GET (no upgrade) is the list, not a refused upgrade.
      const plain = await get(tandem, "/v1/responses?limit=1");
      assert.equal(plain.status, 200);
      assert.equal(plain.body.object, "list");
    });
  });
}
