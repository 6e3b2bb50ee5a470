/**
 * A passing failure of the store behind stored responses and conversations (a full disk, a busy
 * file) is a 503 the client may retry, a lasting one (a damaged file) a 503 it may not, never a 500,
 * and the store's words stay in the server.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI from "openai";
import type { StateStore, StoredResponse } from "../../../src/core/state.js";
import { MemoryStateStore } from "../../../src/harness/state/memory-state-store.js";
import { StoreError, type StoreErrorCode } from "../../../src/store/index.js";
import { startFakeOpenAI } from "../../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../../support/tandem.js";

/** A state store whose every call fails with the store's error `code`. */
function failingState(code: () => StoreErrorCode): StateStore {
  return new Proxy(new MemoryStateStore(), {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== "function") return value;
      return () => Promise.reject(new StoreError(code(), `cannot read /secret/path/tandem.db (${code()})`));
    },
  });
}

describe("stored-state routes when the store fails", () => {
  let tandem: RunningTandem;
  let code: StoreErrorCode = "busy";
  before(async () => {
    tandem = await startTandem({}, { state: failingState(() => code) });
  });
  after(() => tandem.close());

  it("answers a passing failure (busy, disk full, I/O) with 503 and Retry-After, without the file's path", async () => {
    for (const passing of ["busy", "disk_full", "io"] as const) {
      code = passing;
      const res = await fetch(`${tandem.url}/v1/conversations/conv_1`);
      assert.equal(res.status, 503, passing);
      assert.equal(res.headers.get("retry-after"), "1");
      const text = await res.text();
      assert.match(text, new RegExp(passing));
      assert.doesNotMatch(text, /secret/);
    }
    code = "busy";
    const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
    await assert.rejects(openai.responses.retrieve("resp_1"), (err: unknown) => err instanceof OpenAI.InternalServerError);
  });

  it("does not call a lasting failure (a damaged file) passing: a 503 as GET /v1/audit's, without Retry-After or 'try again'", async () => {
    code = "corrupt";
    const res = await fetch(`${tandem.url}/v1/conversations/conv_1`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get("retry-after"), null);
    const text = await res.text();
    assert.match(text, /store failed \(corrupt\); see the server log/);
    assert.doesNotMatch(text, /try again|secret/);
  });
});

describe("a turn in a conversation when the store fails between its writes", () => {
  it("keeps the response and the conversation's new items together: both or neither", async () => {
    const upstream = await startFakeOpenAI();
    const memory = new MemoryStateStore();
    const saved: string[] = [];
    // A full disk after the response's commit: the conversation's append fails.
    const state = new Proxy(memory, {
      get(target, prop, receiver) {
        if (prop === "addConversationItems") {
          return () => Promise.reject(new StoreError("disk_full", "cannot write to /secret/path/tandem.db: the disk is full"));
        }
        if (prop === "saveResponse") {
          return (response: StoredResponse) => {
            saved.push(response.id);
            return target.saveResponse(response);
          };
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const tandem = await startTandem(
      { providers: { home: { kind: "openai", baseUrl: upstream.url, local: true, models: ["gpt-4o-mini"] } } },
      { state },
    );
    try {
      const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
      const conversation = await memory.createConversation({}, []);
      let answered: OpenAI.Responses.Response | undefined;
      try {
        answered = await openai.responses.create({ model: "home/gpt-4o-mini", input: "hello", conversation: conversation.id });
      } catch (err) {
        assert.ok(err instanceof OpenAI.APIError && err.status === 503, String(err));
      }
      const items = (await memory.conversationItems(conversation.id)) ?? [];
      if (answered === undefined) {
        assert.deepEqual(saved, [], "a response is stored whose turn its conversation lacks");
        assert.deepEqual(items, []);
      } else {
        assert.deepEqual(saved, [answered.id]);
        assert.deepEqual(
          items.map((i) => i.item.id),
          [(await memory.responseHistory(answered.id))?.[0]?.item.id, answered.output[0]?.id],
        );
      }
    } finally {
      await tandem.close();
      await upstream.close();
    }
  });
});

describe("reading a background response a stop interrupted while the store cannot write", () => {
  it("answers it failed (a read), not a 503 because marking it failed could not be saved", async () => {
    const memory = new MemoryStateStore();
    const id = "resp_interrupted";
    await memory.saveResponse({
      id,
      createdAt: 1_700_000_000,
      response: { id, object: "response", created_at: 1_700_000_000, status: "queued", background: true, output: [] },
      input: [],
      output: [],
    });
    const state = new Proxy(memory, {
      get(target, prop, receiver) {
        if (prop === "saveResponse") {
          return () => Promise.reject(new StoreError("disk_full", "cannot write to /secret/path/tandem.db: the disk is full"));
        }
        const value = Reflect.get(target, prop, receiver);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    const tandem = await startTandem({}, { state });
    try {
      const openai = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "x", maxRetries: 0 });
      const read = await openai.responses.retrieve(id);
      assert.equal(read.status, "failed");
      const listed = (await (await fetch(`${tandem.url}/v1/responses`)).json()) as {
        data: Array<{ id: string; status: string }>;
      };
      assert.deepEqual(
        listed.data.map((r) => [r.id, r.status]),
        [[id, "failed"]],
      );
    } finally {
      await tandem.close();
    }
  });
});
