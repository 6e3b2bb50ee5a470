/**
 * The stored-response routes and the Conversations API, driven by the official openai SDK against
 * a real tandem: once over the encrypted store (`store: true`) and once over the in-memory one.
 * Responses are seeded through the server's StateStore (POST /v1/responses creates them in use).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { StoredResponse } from "../../../src/core/state.js";
import { EncryptedStateStore } from "../../../src/harness/state/encrypted-state-store.js";
import { MemoryStateStore } from "../../../src/harness/state/memory-state-store.js";
import { type RunningTandem, startTandem } from "../../support/tandem.js";

function seededResponse(id: string, inputs: number, extra: Record<string, unknown> = {}): StoredResponse {
  const input = Array.from({ length: inputs }, (_, i) => ({
    item: {
      id: `msg_${id}_${i}`,
      type: "message",
      role: "user",
      status: "completed",
      content: [{ type: "input_text", text: `q${i}` }],
    },
  }));
  const output = [
    {
      id: `msg_${id}_out`,
      type: "message",
      role: "assistant",
      status: "completed",
      content: [{ type: "output_text", text: "an answer", annotations: [] }],
    },
  ];
  return {
    id,
    createdAt: 1_750_000_000,
    response: {
      id,
      object: "response",
      created_at: 1_750_000_000,
      status: "completed",
      model: "fake/model",
      output,
      usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
      ...extra,
    },
    input,
    output: output.map((item) => ({ item })),
  };
}

async function rejects(
  promise: Promise<unknown>,
  status: number,
  expected: { message?: RegExp; param?: string | null; code?: string | null },
) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, status);
    const body = err.error as { message: string; type: string; param: string | null; code: string | null };
    assert.equal(body.type, "invalid_request_error");
    if (expected.message) assert.match(body.message, expected.message);
    if (expected.param !== undefined) assert.equal(body.param, expected.param);
    if (expected.code !== undefined) assert.equal(body.code, expected.code);
    return true;
  });
}

function routesSuite(name: string, store: boolean): void {
  describe(`stored state routes (${name})`, () => {
    let tandem: RunningTandem;
    let client: OpenAI;
    before(async () => {
      tandem = await startTandem({}, { store });
      client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "sk-test", maxRetries: 0 });
    });
    after(() => tandem.close());

    it(`keeps state in the ${name}`, () => {
      assert.ok(tandem.server.state instanceof (store ? EncryptedStateStore : MemoryStateStore));
    });

    it("creates a conversation with metadata and items, normalised to stored items with ids", async () => {
      const conversation = await client.conversations.create({
        metadata: { project: "tandem" },
        items: [
          { role: "user", content: "Hello there" },
          { type: "message", role: "developer", content: [{ type: "input_text", text: "Be brief." }] },
          { role: "assistant", content: "Hi!" },
          { type: "function_call", call_id: "call_1", name: "lookup", arguments: '{"q":"x"}' },
          { type: "function_call_output", call_id: "call_1", output: "found" },
        ],
      });
      assert.match(conversation.id, /^conv_/);
      assert.equal(conversation.object, "conversation");
      assert.deepEqual(conversation.metadata, { project: "tandem" });
      assert.ok(Number.isInteger(conversation.created_at));
      assert.deepEqual(await client.conversations.retrieve(conversation.id), conversation);

      const items = [];
      for await (const item of client.conversations.items.list(conversation.id, { order: "asc" })) items.push(item);
      assert.deepEqual(
        items.map((i) => i.type),
        ["message", "message", "message", "function_call", "function_call_output"],
      );
      const [user, developer, assistant, call, output] = items as unknown as Record<string, unknown>[];
      assert.match(String(user?.id), /^msg_/);
      assert.deepEqual(
        { ...user, id: "x" },
        { id: "x", type: "message", status: "completed", role: "user", content: [{ type: "input_text", text: "Hello there" }] },
      );
      assert.deepEqual(developer?.content, [{ type: "input_text", text: "Be brief." }]);
      assert.deepEqual(assistant?.content, [{ type: "output_text", text: "Hi!", annotations: [], logprobs: [] }]);
      assert.match(String(call?.id), /^fc_/);
      assert.equal(call?.status, "completed");
      assert.match(String(output?.id), /^fco_/);
      assert.equal(output?.output, "found");
      // The stored item is what retrieve answers.
      assert.deepEqual(await client.conversations.items.retrieve(String(user?.id), { conversation_id: conversation.id }), user);
    });

    it("updates and deletes a conversation; then it is 404 everywhere", async () => {
      const conversation = await client.conversations.create({ metadata: { a: "1" } });
      const updated = await client.conversations.update(conversation.id, { metadata: { b: "2" } });
      assert.deepEqual(updated, { ...conversation, metadata: { b: "2" } });
      assert.deepEqual((await client.conversations.retrieve(conversation.id)).metadata, { b: "2" });
      const deleted = await client.conversations.delete(conversation.id);
      assert.deepEqual(deleted, { id: conversation.id, object: "conversation.deleted", deleted: true });
      const notFound = {
        message: new RegExp(`^Conversation with id '${conversation.id}' not found\\.$`),
        param: null,
        code: null,
      };
      await rejects(client.conversations.retrieve(conversation.id), 404, notFound);
      await rejects(client.conversations.update(conversation.id, { metadata: {} }), 404, notFound);
      await rejects(client.conversations.delete(conversation.id), 404, notFound);
      await rejects(client.conversations.items.list(conversation.id), 404, notFound);
      await rejects(
        client.conversations.items.create(conversation.id, { items: [{ role: "user", content: "x" }] }),
        404,
        notFound,
      );
    });

    it("adds items, pages them with the SDK's auto-pagination both ways, retrieves and deletes one", async () => {
      const conversation = await client.conversations.create();
      const first = await client.conversations.items.create(conversation.id, {
        items: Array.from({ length: 20 }, (_, i) => ({ role: "user" as const, content: `item ${i}` })),
      });
      assert.equal(first.object, "list");
      assert.equal(first.data.length, 20);
      assert.equal(first.first_id, first.data[0]?.id);
      assert.equal(first.last_id, first.data[19]?.id);
      assert.equal(first.has_more, false);
      const second = await client.conversations.items.create(conversation.id, {
        items: [{ role: "assistant", content: "item 20" }],
        include: ["message.input_image.image_url"],
      });
      const ids = [...first.data, ...second.data].map((i) => i.id);

      const asc: string[] = [];
      for await (const item of client.conversations.items.list(conversation.id, { limit: 3, order: "asc" }))
        asc.push(String(item.id));
      assert.deepEqual(asc, ids, "every item once, in order, over 7 pages");
      const desc: string[] = [];
      for await (const item of client.conversations.items.list(conversation.id, { limit: 4 })) desc.push(String(item.id));
      assert.deepEqual(desc, [...ids].reverse(), "desc is the default");
      const page = await client.conversations.items.list(conversation.id, { limit: 5, order: "asc", after: ids[9] });
      assert.deepEqual(
        page.data.map((i) => i.id),
        ids.slice(10, 15),
      );
      assert.equal(page.has_more, true);
      const defaultPage = await client.conversations.items.list(conversation.id);
      assert.equal(defaultPage.data.length, 20, "limit defaults to 20");

      const victim = ids[5] as string;
      const after = await client.conversations.items.delete(victim, { conversation_id: conversation.id });
      assert.deepEqual(after, await client.conversations.retrieve(conversation.id), "delete answers the conversation");
      await rejects(client.conversations.items.retrieve(victim, { conversation_id: conversation.id }), 404, {
        message: new RegExp(`^Item with id '${victim}' not found\\.$`),
        code: null,
      });
      await rejects(client.conversations.items.delete(victim, { conversation_id: conversation.id }), 404, { code: null });
      const left: string[] = [];
      for await (const item of client.conversations.items.list(conversation.id, { limit: 100, order: "asc" }))
        left.push(String(item.id));
      assert.deepEqual(
        left,
        ids.filter((id) => id !== victim),
      );
    });

    it("refuses bad fields with 400 naming the field", async () => {
      const conversation = await client.conversations.create();
      const tooMany = Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"]));
      await rejects(client.conversations.create({ metadata: tooMany }), 400, {
        param: "metadata",
        code: "object_above_max_properties",
      });
      await rejects(client.conversations.create({ metadata: { ["k".repeat(65)]: "v" } }), 400, {
        param: "metadata",
        code: "string_above_max_length",
      });
      await rejects(client.conversations.update(conversation.id, { metadata: { k: "v".repeat(513) } }), 400, {
        param: "metadata.k",
        code: "string_above_max_length",
      });
      // 16 keys of 64 characters with 512-character values are fine.
      const atLimit = Object.fromEntries(Array.from({ length: 16 }, (_, i) => [`${i}`.padStart(64, "k"), "v".repeat(512)]));
      assert.deepEqual((await client.conversations.update(conversation.id, { metadata: atLimit })).metadata, atLimit);
      await rejects(
        client.conversations.items.create(conversation.id, {
          items: Array.from({ length: 21 }, () => ({ role: "user" as const, content: "x" })),
        }),
        400,
        { param: "items", code: "array_above_max_length" },
      );
      await rejects(
        client.conversations.items.create(conversation.id, { items: [{ role: "robot", content: "x" } as never] }),
        400,
        { param: "items[0].role" },
      );
      await rejects(
        client.conversations.items.create(conversation.id, { items: [{ type: "function_call", name: "f" } as never] }),
        400,
        { param: "items[0].call_id", code: "missing_required_parameter" },
      );
      // One id twice, in one call or across calls, at creation too: OpenAI's duplicate-item 400.
      const call = { type: "function_call" as const, id: "fc_dup", call_id: "call_dup", name: "f", arguments: "{}" };
      await rejects(client.conversations.items.create(conversation.id, { items: [call, call] }), 400, { param: "items" });
      await client.conversations.items.create(conversation.id, { items: [call] });
      await rejects(client.conversations.items.create(conversation.id, { items: [call] }), 400, { param: "items" });
      await rejects(client.conversations.create({ items: [call, call] }), 400, { param: "items" });
      const listed = await client.conversations.items.list(conversation.id);
      assert.equal(listed.data.filter((item) => item.id === "fc_dup").length, 1);
      await client.conversations.items.delete("fc_dup", { conversation_id: conversation.id });
      await rejects(client.conversations.items.list(conversation.id, { limit: 0 }), 400, {
        param: "limit",
        code: "integer_below_min_value",
      });
      await rejects(client.conversations.items.list(conversation.id, { limit: 101 }), 400, {
        param: "limit",
        code: "integer_above_max_value",
      });
      await rejects(client.conversations.items.list(conversation.id, { order: "sideways" as never }), 400, { param: "order" });
      await rejects(client.conversations.items.list(conversation.id, { include: ["everything" as never] }), 400, {
        param: "include",
      });
      const raw = await fetch(`${tandem.url}/v1/conversations/${conversation.id}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      assert.equal(raw.status, 400);
      assert.equal(((await raw.json()) as { error: { param: string } }).error.param, "metadata");
    });

    it("shows a reasoning item's encrypted content in input items and conversation items only when include asks", async () => {
      const sealed = { id: "rs_sealed", type: "reasoning", summary: [], encrypted_content: "ENC123" };
      const signed = {
        id: "rs_signed",
        type: "reasoning",
        summary: [],
        encrypted_content: "tandem.thinking-signature:sig",
      };
      const seeded = seededResponse("resp_sealed", 1);
      await tandem.server.state.saveResponse({ ...seeded, input: [...seeded.input, { item: sealed }, { item: signed }] });
      const conversation = await tandem.server.state.createConversation({}, [{ item: sealed }, { item: signed }]);
      const include = ["reasoning.encrypted_content" as const];
      const shown = (items: unknown[]) =>
        items
          .filter((item) => (item as { type: string }).type === "reasoning")
          .map((item) => (item as { encrypted_content?: unknown }).encrypted_content);
      assert.deepEqual(shown((await client.responses.inputItems.list("resp_sealed")).data), [undefined, undefined]);
      assert.deepEqual(shown((await client.conversations.items.list(conversation.id)).data), [undefined, undefined]);
      const one = await client.conversations.items.retrieve("rs_sealed", { conversation_id: conversation.id });
      assert.equal("encrypted_content" in one, false);
      // Asked for: the upstream's own, never the Anthropic signature tandem keeps.
      assert.deepEqual(shown((await client.responses.inputItems.list("resp_sealed", { include })).data), [undefined, "ENC123"]);
      assert.deepEqual(shown((await client.conversations.items.list(conversation.id, { include })).data), [undefined, "ENC123"]);
      const asked = await client.conversations.items.retrieve("rs_sealed", { conversation_id: conversation.id, include });
      assert.equal((asked as { encrypted_content?: unknown }).encrypted_content, "ENC123");
      const signedOne = await client.conversations.items.retrieve("rs_signed", { conversation_id: conversation.id, include });
      assert.equal("encrypted_content" in signedOne, false);
    });

    it("retrieves, lists input items of, cancels and deletes a stored response", async () => {
      const seeded = seededResponse("resp_seeded1", 7);
      await tandem.server.state.saveResponse(seeded);
      const retrieved = await client.responses.retrieve("resp_seeded1", { include: ["reasoning.encrypted_content"] });
      // The SDK adds its output_text convenience to every Response it reads; a response stored
      // without access_programs (required by openai-node 7) is served with it null.
      assert.deepEqual(retrieved, { ...seeded.response, access_programs: null, output_text: "an answer" });

      const desc: string[] = [];
      for await (const item of client.responses.inputItems.list("resp_seeded1", { limit: 2 })) desc.push(item.id as string);
      assert.deepEqual(desc, seeded.input.map((i) => i.item.id).reverse(), "desc by default, over 4 pages");
      const asc = await client.responses.inputItems.list("resp_seeded1", { order: "asc", limit: 3 });
      assert.deepEqual(
        asc.data.map((i) => i.id),
        ["msg_resp_seeded1_0", "msg_resp_seeded1_1", "msg_resp_seeded1_2"],
      );
      assert.equal(asc.has_more, true);
      const raw = (await (
        await fetch(`${tandem.url}/v1/responses/resp_seeded1/input_items?order=asc&after=msg_resp_seeded1_5`)
      ).json()) as Record<string, unknown>;
      assert.deepEqual(raw, {
        object: "list",
        data: [seeded.input[6]?.item],
        first_id: "msg_resp_seeded1_6",
        last_id: "msg_resp_seeded1_6",
        has_more: false,
      });

      await rejects(client.responses.cancel("resp_seeded1"), 400, { message: /^Cannot cancel a synchronous response\.$/ });
      await tandem.server.state.saveResponse(seededResponse("resp_background", 1, { background: true }));
      // A finished background response cannot be cancelled: OpenAI's 400.
      await rejects(client.responses.cancel("resp_background"), 400, {
        message: /^Cannot cancel a completed response\.$/,
      });

      const deleted = await fetch(`${tandem.url}/v1/responses/resp_seeded1`, { method: "DELETE" });
      assert.equal(deleted.status, 200);
      assert.deepEqual(await deleted.json(), { id: "resp_seeded1", object: "response.deleted", deleted: true });
      const notFound = { message: /^Response with id 'resp_seeded1' not found\.$/, param: null, code: null };
      await rejects(client.responses.retrieve("resp_seeded1"), 404, notFound);
      await rejects(client.responses.delete("resp_seeded1"), 404, notFound);
      await rejects(client.responses.cancel("resp_seeded1"), 404, notFound);
      await rejects(client.responses.inputItems.list("resp_seeded1"), 404, notFound);
      assert.equal(await tandem.server.state.getResponse("resp_seeded1"), undefined);

      await tandem.server.state.saveResponse(seededResponse("resp_sdk_delete", 1));
      await client.responses.delete("resp_sdk_delete");
      assert.equal(await tandem.server.state.getResponse("resp_sdk_delete"), undefined);
    });
  });
}

routesSuite("encrypted store", true);
routesSuite("memory store", false);
