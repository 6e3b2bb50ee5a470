/**
 * Anthropic's Message Batches API on a real tandem, through the official @anthropic-ai/sdk
 * (`messages.batches.create`, `retrieve`, `list` with auto-paging, `cancel`, `results()`, `delete`):
 * each request a POST /v1/messages through the server (to a fake Anthropic upstream), results as
 * the SDK decodes them (succeeded with the Message, errored with Anthropic's error response,
 * canceled), the MessageBatch object's fields, and the errors in Anthropic's shape.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import Anthropic from "@anthropic-ai/sdk";
import type { MessageBatch, MessageBatchIndividualResponse } from "@anthropic-ai/sdk/resources/messages/batches";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let upstream: FakeAnthropic;
let tandem: RunningTandem;
let client: Anthropic;

function lastText(request: RecordedRequest): string {
  const messages = (request.body as { messages?: { content?: unknown }[] } | undefined)?.messages ?? [];
  const content = messages.at(-1)?.content;
  return typeof content === "string" ? content : JSON.stringify(content ?? "");
}

before(async () => {
  upstream = await startFakeAnthropic({ models: ["claude-sonnet-4-5"] });
  // RATELIMITONCE: the first such request is a 429 (with the fake's Retry-After: 1).
  let limitedOnce = false;
  upstream.script((request) => {
    if (lastText(request).includes("RATELIMITONCE") && !limitedOnce) {
      limitedOnce = true;
      return { kind: "error", status: 429 };
    }
    return lastText(request).includes("HANG")
      ? { kind: "stall", chunks: [] }
      : { kind: "text", text: `re: ${lastText(request)}`, usage: { input: 4, output: 2 } };
  });
  tandem = await startTandem(
    {
      providers: {
        claude: {
          kind: "anthropic",
          baseUrl: upstream.url,
          apiKeys: ["env:UP_ANTHROPIC"],
          local: false,
          models: ["claude-sonnet-4-5"],
        },
      },
      routes: { sonnet: { tiers: [["claude/claude-sonnet-4-5"]], retry: { attempts: 1 } } },
      batches: { concurrency: 2 },
    },
    { env: { UP_ANTHROPIC: "sk-ant-test" } },
  );
  client = new Anthropic({ baseURL: tandem.url, apiKey: "unused", maxRetries: 0 });
});
after(async () => {
  await tandem?.close();
  await upstream?.close();
});

function request(customId: string, text: string, model = "sonnet") {
  return { custom_id: customId, params: { model, max_tokens: 64, messages: [{ role: "user" as const, content: text }] } };
}

async function ended(id: string): Promise<MessageBatch> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const batch = await client.messages.batches.retrieve(id);
    if (batch.processing_status === "ended") return batch;
    if (Date.now() > deadline) assert.fail(`batch ${id} still ${batch.processing_status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function results(id: string): Promise<MessageBatchIndividualResponse[]> {
  const out: MessageBatchIndividualResponse[] = [];
  for await (const result of await client.messages.batches.results(id)) out.push(result);
  return out;
}

describe("Anthropic Message Batches", () => {
  it("runs a batch and gives its results as the SDK decodes them", async () => {
    const created = await client.messages.batches.create({
      requests: [request("first", "hello"), request("bad", "x", "no-such-model"), request("second", "again")],
    });
    assert.match(created.id, /^msgbatch_[A-Za-z0-9]{24}$/);
    assert.equal(created.type, "message_batch");
    assert.equal(created.processing_status, "in_progress");
    assert.equal(created.results_url, null);
    assert.equal(created.archived_at, null);
    assert.equal(created.cancel_initiated_at, null);
    assert.equal(Date.parse(created.expires_at) - Date.parse(created.created_at), 86_400_000);
    await assert.rejects(client.messages.batches.results(created.id), /results_url/, "the SDK asks for results only once ended");

    const batch = await ended(created.id);
    assert.deepEqual(batch.request_counts, { processing: 0, succeeded: 2, errored: 1, canceled: 0, expired: 0 });
    assert.ok(batch.ended_at !== null && Date.parse(batch.ended_at) >= Date.parse(batch.created_at));
    assert.equal(batch.results_url, `${tandem.url}/v1/messages/batches/${batch.id}/results`);

    const all = await results(batch.id);
    assert.deepEqual(
      all.map((r) => [r.custom_id, r.result.type]),
      [
        ["first", "succeeded"],
        ["bad", "errored"],
        ["second", "succeeded"],
      ],
    );
    const first = all[0]?.result;
    assert.ok(first?.type === "succeeded");
    assert.equal(first.message.type, "message");
    assert.equal(first.message.role, "assistant");
    assert.deepEqual(first.message.content, [{ type: "text", text: "re: hello" }]);
    const bad = all[1]?.result;
    assert.ok(bad?.type === "errored");
    assert.equal(bad.error.type, "error");
    assert.equal(bad.error.error.type, "not_found_error");
    assert.match(bad.error.request_id ?? "", /^req_/);
  });

  it("runs a request its one-target route answered 429 with Retry-After again, as the hosted API never errors one for a rate limit", async () => {
    const sentBefore = upstream.requests.length;
    const created = await client.messages.batches.create({ requests: [request("limited", "RATELIMITONCE")] });
    const batch = await ended(created.id);
    assert.deepEqual(batch.request_counts, { processing: 0, succeeded: 1, errored: 0, canceled: 0, expired: 0 });
    const [result] = await results(batch.id);
    assert.equal(result?.result.type, "succeeded");
    assert.equal(upstream.requests.length - sentBefore, 2);
  });

  it("cancels a batch: the running request is aborted, the rest canceled", async () => {
    const created = await client.messages.batches.create({
      requests: [request("h1", "HANG one"), request("h2", "HANG two"), request("later", "later one")],
    });
    const deadline = Date.now() + 10_000;
    while (upstream.requests.filter((r) => lastText(r).startsWith("HANG")).length < 2) {
      if (Date.now() > deadline) assert.fail("the hanging requests never reached the upstream");
      await new Promise((r) => setTimeout(r, 20));
    }
    const cancelling = await client.messages.batches.cancel(created.id);
    assert.ok(["canceling", "ended"].includes(cancelling.processing_status));
    assert.ok(cancelling.cancel_initiated_at !== null);
    const batch = await ended(created.id);
    assert.deepEqual(batch.request_counts, { processing: 0, succeeded: 0, errored: 0, canceled: 3, expired: 0 });
    assert.deepEqual(
      (await results(batch.id)).map((r) => [r.custom_id, r.result]),
      [
        ["h1", { type: "canceled" }],
        ["h2", { type: "canceled" }],
        ["later", { type: "canceled" }],
      ],
    );
    assert.equal(upstream.requests.filter((r) => lastText(r) === "later one").length, 0);
  });

  it("lists newest first with the SDK's paging, deletes an ended batch, and answers mistakes in Anthropic's shape", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++)
      ids.push((await client.messages.batches.create({ requests: [request(`l${i}`, `list ${i}`)] })).id);
    const page = await client.messages.batches.list({ limit: 2 });
    assert.deepEqual(
      page.data.map((b) => b.id),
      [ids[2], ids[1]],
    );
    assert.equal(page.has_more, true);
    const seen: string[] = [];
    for await (const batch of client.messages.batches.list({ limit: 2 })) seen.push(batch.id);
    for (const id of ids) assert.ok(seen.includes(id));
    assert.equal(new Set(seen).size, seen.length);
    const newer = await client.messages.batches.list({ limit: 2, before_id: ids[0] });
    assert.deepEqual(
      newer.data.map((b) => b.id),
      [ids[2], ids[1]],
    );
    await assert.rejects(client.messages.batches.list({ after_id: "msgbatch_nope" }), Anthropic.NotFoundError);

    const running = await client.messages.batches.create({ requests: [request("r", "HANG running")] });
    await assert.rejects(
      client.messages.batches.delete(running.id),
      (err: unknown) => err instanceof Anthropic.APIError && err.status === 409,
    );
    await client.messages.batches.cancel(running.id);
    await ended(running.id);
    for (const id of ids) await ended(id);
    assert.deepEqual(await client.messages.batches.delete(ids[0] as string), { id: ids[0], type: "message_batch_deleted" });
    await assert.rejects(client.messages.batches.retrieve(ids[0] as string), (err: unknown) => {
      assert.ok(err instanceof Anthropic.NotFoundError);
      assert.equal((err.error as { type: string; error: { type: string } }).error.type, "not_found_error");
      return true;
    });
    const bad: [unknown, RegExp][] = [
      [{}, /requests/],
      [{ requests: [] }, /at least 1/],
      [{ requests: [{ custom_id: "a b", params: {} }] }, /custom_id/],
      [{ requests: [request("d", "x"), request("d", "y")] }, /Duplicate/],
      [{ requests: [{ custom_id: "p" }] }, /params/],
    ];
    for (const [body, message] of bad) {
      const res = await fetch(`${tandem.url}/v1/messages/batches`, {
        method: "POST",
        headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 400, JSON.stringify(body));
      const answer = (await res.json()) as { type: string; error: { type: string; message: string } };
      assert.equal(answer.type, "error");
      assert.equal(answer.error.type, "invalid_request_error");
      assert.match(answer.error.message, message);
    }
  });
});
