/**
 * OpenAI's Batch API on a real tandem, through the official openai SDK: a JSONL file uploaded with
 * `files.create({purpose: "batch"})`, `batches.create`, `retrieve` polled to the end, the output and
 * error files read with `files.content`. Every endpoint a batch can name; good and bad lines in one
 * batch (a 400 from the dialect, a route whose every target fails: in the error file, the batch
 * completed); every error code of an invalid input file; create's own 400s and 404s; cancel while
 * a line hangs upstream (aborted there); the input file deleted mid-run; list paging with the SDK's
 * auto-pagination and an unknown cursor; privacy (a private batch on a local-only route never reaches
 * the cloud upstream) and the egress audit rows of cloud lines; `output_expires_after`.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import type { Batch } from "openai/resources/batches";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let local: FakeOpenAIUpstream;
let cloud: FakeOpenAIUpstream;
let tandem: RunningTandem;
let client: OpenAI;

const MODELS = ["gpt-4o-mini", "text-embedding-3-small"];

/** The text of a chat request's last message (what the scripts below answer by). */
function lastText(request: RecordedRequest): string {
  const messages = (request.body as { messages?: { content?: unknown }[] } | undefined)?.messages ?? [];
  const content = messages.at(-1)?.content;
  return typeof content === "string" ? content : JSON.stringify(content ?? "");
}

before(async () => {
  [local, cloud] = await Promise.all([startFakeOpenAI({ models: MODELS }), startFakeOpenAI({ models: MODELS })]);
  // RATELIMITn[key]: the first n requests with that key are a 429 (with the fake's Retry-After: 1).
  const limited = new Map<string, number>();
  const answer = (request: RecordedRequest) => {
    const text = lastText(request);
    const rate = /RATELIMIT(\d+)\[(\w+)\]/.exec(text);
    if (rate) {
      const seen = limited.get(rate[2] as string) ?? 0;
      limited.set(rate[2] as string, seen + 1);
      if (seen < Number(rate[1])) return { kind: "error" as const, status: 429 };
    }
    if (text.includes("HANG")) return { kind: "stall" as const, chunks: [] };
    if (text.includes("BREAK")) return { kind: "error" as const, status: 500 };
    return { kind: "text" as const, text: `echo: ${text}`, usage: { input: 10, output: 3 } };
  };
  // LOCALFAIL: only the local target fails, so a line that may leave goes on to the cloud.
  local.script((request) => (lastText(request).includes("LOCALFAIL") ? { kind: "error", status: 500 } : answer(request)));
  cloud.script(answer);
  tandem = await startTandem(
    {
      providers: {
        home: { kind: "openai", baseUrl: local.url, local: true, models: MODELS },
        cloud: { kind: "openai", baseUrl: cloud.url, local: false, models: MODELS },
      },
      routes: {
        fast: { tiers: [["cloud/gpt-4o-mini"]], retry: { attempts: 1 } },
        failing: { tiers: [["cloud/gpt-4o-mini"]], retry: { attempts: 1 } },
        private: { tiers: [["home/gpt-4o-mini"]], privacy: "local-only", retry: { attempts: 1 } },
        mixed: { tiers: [["home/gpt-4o-mini"], ["cloud/gpt-4o-mini"]], retry: { attempts: 1 } },
        red: { tiers: [["cloud/gpt-4o-mini"]], privacy: "redact", retry: { attempts: 1 } },
        redlocal: { tiers: [["home/gpt-4o-mini"], ["cloud/gpt-4o-mini"]], privacy: "redact", retry: { attempts: 1 } },
        redembed: { tiers: [["cloud/text-embedding-3-small"]], privacy: "redact", retry: { attempts: 1 } },
      },
      batches: { concurrency: 2, maxRequests: 5 },
    },
    { store: true },
  );
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});
after(async () => {
  await tandem?.close();
  await Promise.all([local?.close(), cloud?.close()]);
});

type Line = { custom_id?: unknown; method?: unknown; url?: unknown; body?: unknown };

function jsonl(lines: readonly (Line | string)[]): string {
  return lines.map((l) => (typeof l === "string" ? l : JSON.stringify(l))).join("\n");
}

function chatLine(customId: string, text: string, model = "fast"): Line {
  return {
    custom_id: customId,
    method: "POST",
    url: "/v1/chat/completions",
    body: { model, messages: [{ role: "user", content: text }] },
  };
}

async function upload(
  text: string,
  purpose: "batch" | "user_data" = "batch",
  headers: Record<string, string> = {},
): Promise<string> {
  return (await client.files.create({ file: await toFile(Buffer.from(text), "input.jsonl"), purpose }, { headers })).id;
}

/** Polls the batch until it has ended (or fails after 20 s). */
async function settled(id: string): Promise<Batch> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const batch = await client.batches.retrieve(id);
    if (["completed", "failed", "cancelled", "expired"].includes(batch.status)) return batch;
    if (Date.now() > deadline) assert.fail(`batch ${id} still ${batch.status}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface OutputLine {
  id: string;
  custom_id: string;
  response: { status_code: number; request_id: string; body: Record<string, unknown> } | null;
  error: { code: string; message: string } | null;
}

async function fileLines(id: string | undefined | null): Promise<OutputLine[]> {
  assert.ok(id, "the batch has the file");
  const text = await (await client.files.content(id)).text();
  assert.ok(text.endsWith("\n"), "JSONL ends with a newline");
  return text
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l) as OutputLine);
}

describe("OpenAI Batch API", () => {
  it("runs a chat completions batch to completed and writes the output file as OpenAI does", async () => {
    const fileId = await upload(jsonl([chatLine("a", "one"), chatLine("b", "two"), chatLine("c", "three")]));
    const created = await client.batches.create({
      input_file_id: fileId,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
      metadata: { job: "nightly" },
    });
    assert.match(created.id, /^batch_[A-Za-z0-9]{24}$/);
    assert.equal(created.object, "batch");
    assert.equal(created.endpoint, "/v1/chat/completions");
    assert.equal(created.input_file_id, fileId);
    assert.equal(created.completion_window, "24h");
    assert.deepEqual(created.metadata, { job: "nightly" });
    assert.ok(created.expires_at !== undefined && created.expires_at - created.created_at === 86_400);
    assert.ok(["validating", "in_progress", "finalizing", "completed"].includes(created.status));

    const done = await settled(created.id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.request_counts, { total: 3, completed: 3, failed: 0 });
    assert.equal(done.model, "fast");
    assert.deepEqual(done.usage, {
      input_tokens: 30,
      input_tokens_details: { cached_tokens: 0 },
      output_tokens: 9,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 39,
    });
    for (const field of ["in_progress_at", "finalizing_at", "completed_at"] as const) {
      assert.equal(typeof done[field], "number", field);
    }
    assert.equal(done.error_file_id, undefined, "no error file without errors");
    assert.equal(done.errors, undefined);

    const output = await fileLines(done.output_file_id);
    assert.deepEqual(
      output.map((l) => l.custom_id),
      ["a", "b", "c"],
      "in the input's order",
    );
    for (const line of output) {
      assert.match(line.id, /^batch_req_[A-Za-z0-9]{32}$/);
      assert.equal(line.error, null);
      assert.equal(line.response?.status_code, 200);
      assert.match(line.response?.request_id ?? "", /^req_/);
      assert.equal(line.response?.body.object, "chat.completion");
    }
    const first = output[0]?.response?.body as { choices: { message: { content: string } }[] };
    assert.equal(first.choices[0]?.message.content, "echo: one");
    const file = await client.files.retrieve(done.output_file_id as string);
    assert.equal(file.purpose, "batch_output");
    assert.equal(file.filename, `${created.id}_output.jsonl`);
    assert.ok(!("expires_at" in file), "kept until deleted unless output_expires_after says otherwise");
  });

  it("runs every endpoint kind: embeddings, completions and responses (a stored Response)", async () => {
    const embeddings = await client.batches.create({
      input_file_id: await upload(
        jsonl([
          {
            custom_id: "e1",
            method: "POST",
            url: "/v1/embeddings",
            body: { model: "cloud/text-embedding-3-small", input: "hello" },
          },
          {
            custom_id: "e2",
            method: "POST",
            url: "/v1/embeddings",
            body: { model: "cloud/text-embedding-3-small", input: ["a", "b"] },
          },
        ]),
      ),
      endpoint: "/v1/embeddings",
      completion_window: "24h",
    });
    const completions = await client.batches.create({
      input_file_id: await upload(
        jsonl([
          { custom_id: "c1", method: "POST", url: "/v1/completions", body: { model: "fast", prompt: "say hi", max_tokens: 5 } },
        ]),
      ),
      endpoint: "/v1/completions",
      completion_window: "24h",
    });
    const responses = await client.batches.create({
      input_file_id: await upload(
        jsonl([
          { custom_id: "r1", method: "POST", url: "/v1/responses", body: { model: "fast", input: "respond", stream: true } },
        ]),
      ),
      endpoint: "/v1/responses",
      completion_window: "24h",
    });

    const e = await settled(embeddings.id);
    assert.equal(e.status, "completed");
    const eLines = await fileLines(e.output_file_id);
    assert.equal(eLines[1]?.response?.body.object, "list");
    assert.equal((eLines[1]?.response?.body.data as unknown[]).length, 2);

    const c = await settled(completions.id);
    assert.equal(c.status, "completed");
    const [cLine] = await fileLines(c.output_file_id);
    assert.equal(cLine?.response?.body.object, "text_completion");

    const r = await settled(responses.id);
    assert.equal(r.status, "completed");
    const [rLine] = await fileLines(r.output_file_id);
    const body = rLine?.response?.body as { id: string; object: string; status: string };
    assert.equal(body.object, "response", "one whole Response, not a stream (stream is not sent on)");
    assert.equal(body.status, "completed");
    // The line's Response is stored as any other: retrievable by id.
    const stored = await client.responses.retrieve(body.id);
    assert.equal(stored.id, body.id);
    assert.equal(stored.output_text, "echo: respond");
  });

  it("records each line's failure in the error file and still completes the batch", async () => {
    const fileId = await upload(
      jsonl([
        chatLine("good", "fine"),
        { custom_id: "bad-body", method: "POST", url: "/v1/chat/completions", body: { model: "fast", messages: "not a list" } },
        chatLine("upstream-fails", "BREAK now"),
        "",
        chatLine("good-2", "also fine"),
      ]),
    );
    const batch = await settled(
      (await client.batches.create({ input_file_id: fileId, endpoint: "/v1/chat/completions", completion_window: "24h" })).id,
    );
    assert.equal(batch.status, "completed");
    assert.deepEqual(batch.request_counts, { total: 4, completed: 2, failed: 2 });
    const output = await fileLines(batch.output_file_id);
    assert.deepEqual(
      output.map((l) => l.custom_id),
      ["good", "good-2"],
    );
    const errors = await fileLines(batch.error_file_id);
    assert.deepEqual(
      errors.map((l) => l.custom_id),
      ["bad-body", "upstream-fails"],
    );
    const [badBody, failed] = errors;
    assert.equal(badBody?.response?.status_code, 400);
    assert.equal(badBody?.error, null, "an HTTP error is the response, as OpenAI writes it");
    const badError = badBody?.response?.body.error as { type: string; param: string };
    assert.equal(badError.type, "invalid_request_error");
    assert.match(badError.param, /messages/);
    // Every target of the route failed: the route's exhausted error (503 or 502), not a crash.
    assert.ok((failed?.response?.status_code ?? 0) >= 500, `status ${failed?.response?.status_code}`);
    assert.ok(failed?.response?.body.error);
    const errorFile = await client.files.retrieve(batch.error_file_id as string);
    assert.equal(errorFile.purpose, "batch_output");
  });

  it("fails an invalid input file with every problem named by line, code and param", async () => {
    const cases: { name: string; text: string; errors: { code: string; line?: number | null; param?: string | null }[] }[] = [
      {
        name: "bad JSON, missing and duplicate custom_id, wrong method and url, another model",
        text: jsonl([
          chatLine("x", "ok"),
          "{not json",
          { method: "POST", url: "/v1/chat/completions", body: { model: "fast", messages: [] } },
          chatLine("x", "dup"),
          { ...chatLine("m", "get"), method: "GET" },
          { ...chatLine("u", "url"), url: "/v1/embeddings" },
          chatLine("o", "other model", "private"),
          { custom_id: "nb", method: "POST", url: "/v1/chat/completions" },
        ]),
        errors: [
          { code: "invalid_json_line", line: 2, param: null },
          { code: "missing_required_parameter", line: 3, param: "custom_id" },
          { code: "duplicate_custom_id", line: 4, param: "custom_id" },
          { code: "invalid_method", line: 5, param: "method" },
          { code: "url_mismatch", line: 6, param: "url" },
          { code: "model_mismatch", line: 7, param: "body.model" },
          { code: "missing_required_parameter", line: 8, param: "body" },
        ],
      },
      { name: "an empty file", text: "\n\n", errors: [{ code: "empty_file", line: null, param: null }] },
      {
        name: "more lines than batches.maxRequests",
        text: jsonl(["1", "2", "3", "4", "5", "6"].map((n) => chatLine(n, n))),
        errors: [{ code: "too_many_tasks", line: null, param: null }],
      },
    ];
    for (const c of cases) {
      const created = await client.batches.create({
        input_file_id: await upload(c.text),
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      });
      const batch = await settled(created.id);
      assert.equal(batch.status, "failed", c.name);
      assert.equal(typeof batch.failed_at, "number");
      assert.equal(batch.errors?.object, "list");
      assert.deepEqual(
        batch.errors?.data?.map((e) => ({ code: e.code, line: e.line, param: e.param })),
        c.errors,
        c.name,
      );
      for (const e of batch.errors?.data ?? []) assert.ok((e.message ?? "").length > 0);
      assert.deepEqual(batch.request_counts, { total: 0, completed: 0, failed: 0 });
      assert.equal(batch.output_file_id, undefined);
    }
    assert.equal(cloud.requests.filter((r) => lastText(r).includes("other model")).length, 0, "no line of a refused file ran");
  });

  it("runs a line its one-target route answered 429 with Retry-After again, until it gets its answer", async () => {
    const sentBefore = cloud.requests.length;
    const batch = await client.batches.create({
      input_file_id: await upload(jsonl([chatLine("limited", "RATELIMIT1[b429]")])),
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const done = await settled(batch.id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.request_counts, { total: 1, completed: 1, failed: 0 });
    const [line] = await fileLines(done.output_file_id);
    assert.equal(line?.response?.status_code, 200);
    assert.equal(line?.response?.body.object, "chat.completion");
    assert.ok(!done.error_file_id, "no error file");
    assert.equal(cloud.requests.length - sentBefore, 2, "rate-limited once, then answered");
  });

  it("runs the lines of one conversation one after another, in order, none refused as conversation_locked", async () => {
    const conversation = await client.conversations.create({});
    const turns = ["first", "second", "third", "fourth"];
    const batch = await client.batches.create({
      input_file_id: await upload(
        jsonl(
          turns.map((turn) => ({
            custom_id: turn,
            method: "POST",
            url: "/v1/responses",
            body: { model: "fast", conversation: conversation.id, input: `turn ${turn}` },
          })),
        ),
      ),
      endpoint: "/v1/responses",
      completion_window: "24h",
    });
    const done = await settled(batch.id);
    assert.equal(done.status, "completed");
    assert.deepEqual(done.request_counts, { total: 4, completed: 4, failed: 0 });
    const items = await client.conversations.items.list(conversation.id, { order: "asc" });
    const inputs = items.data
      .filter((item) => item.type === "message" && item.role === "user")
      .map((item) => (item as { content: { text: string }[] }).content[0]?.text);
    assert.deepEqual(
      inputs,
      turns.map((turn) => `turn ${turn}`),
    );
  });

  it("answers create's mistakes at once: unknown file, wrong purpose, endpoint, window, expiry", async () => {
    await assert.rejects(
      client.batches.create({ input_file_id: "file-nope", endpoint: "/v1/chat/completions", completion_window: "24h" }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && (err.error as { param?: string }).param === "input_file_id",
    );
    const notBatch = await upload(jsonl([chatLine("a", "x")]), "user_data");
    await assert.rejects(
      client.batches.create({ input_file_id: notBatch, endpoint: "/v1/chat/completions", completion_window: "24h" }),
      (err: unknown) => err instanceof OpenAI.BadRequestError && /purpose 'batch'/.test(err.message),
    );
    const fileId = await upload(jsonl([chatLine("a", "x")]));
    const bad: [Record<string, unknown>, string][] = [
      [{ endpoint: "/v1/moderations" }, "endpoint"],
      [{ endpoint: "/v1/nope" }, "endpoint"],
      [{ completion_window: "48h" }, "completion_window"],
      [{ input_file_id: undefined }, "input_file_id"],
      [{ metadata: { k: 1 } }, "metadata.k"],
      [{ output_expires_after: { anchor: "created_at", seconds: 60 } }, "output_expires_after.seconds"],
      [{ output_expires_after: { anchor: "now", seconds: 3600 } }, "output_expires_after.anchor"],
      // Not a parameter of OpenAI's: refused by name, as the other routes refuse one.
      [{ foo: 1 }, "foo"],
    ];
    for (const [change, param] of bad) {
      const res = await fetch(`${tandem.url}/v1/batches`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ input_file_id: fileId, endpoint: "/v1/chat/completions", completion_window: "24h", ...change }),
      });
      assert.equal(res.status, 400, JSON.stringify(change));
      const body = (await res.json()) as { error: { type: string; param: string; message: string } };
      assert.equal(body.error.type, "invalid_request_error");
      assert.equal(body.error.param, param, JSON.stringify(change));
      if (param === "foo") assert.equal(body.error.message, "Unrecognized request argument supplied: foo");
    }
    await assert.rejects(client.batches.retrieve("batch_nope"), OpenAI.NotFoundError);
    await assert.rejects(client.batches.cancel("batch_nope"), OpenAI.NotFoundError);
  });

  it("cancels a running batch: the hanging line is aborted upstream, the rest never sent", async () => {
    const before = cloud.requests.length;
    const fileId = await upload(
      jsonl([
        chatLine("done", "quick"),
        chatLine("hangs", "HANG here"),
        chatLine("hangs-2", "HANG too"),
        chatLine("later", "never"),
      ]),
    );
    const created = await client.batches.create({
      input_file_id: fileId,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    await until(
      "both hanging lines upstream",
      () => cloud.requests.slice(before).filter((r) => lastText(r).includes("HANG")).length === 2,
    );
    const cancelling = await client.batches.cancel(created.id);
    assert.ok(["cancelling", "cancelled"].includes(cancelling.status));
    assert.equal(typeof cancelling.cancelling_at, "number");
    const batch = await settled(created.id);
    assert.equal(batch.status, "cancelled");
    assert.equal(typeof batch.cancelled_at, "number");
    assert.deepEqual(batch.request_counts, { total: 4, completed: 1, failed: 3 });
    const output = await fileLines(batch.output_file_id);
    assert.deepEqual(
      output.map((l) => l.custom_id),
      ["done"],
    );
    const errors = await fileLines(batch.error_file_id);
    assert.deepEqual(
      errors.map((l) => [l.custom_id, l.response, l.error?.code]),
      [
        ["hangs", null, "batch_cancelled"],
        ["hangs-2", null, "batch_cancelled"],
        ["later", null, "batch_cancelled"],
      ],
    );
    assert.equal(cloud.requests.filter((r) => lastText(r).includes("never")).length, 0, "no line starts after the cancel");
    // Cancelling again is the same batch; an ended batch cannot be cancelled otherwise.
    assert.equal((await client.batches.cancel(created.id)).status, "cancelled");
    const completed = await settled(
      (
        await client.batches.create({
          input_file_id: await upload(jsonl([chatLine("a", "x")])),
          endpoint: "/v1/chat/completions",
          completion_window: "24h",
        })
      ).id,
    );
    await assert.rejects(client.batches.cancel(completed.id), OpenAI.ConflictError);
  });

  it("keeps running when its input file is deleted mid-run", async () => {
    const fileId = await upload(jsonl([chatLine("h", "HANG first"), chatLine("after", "after delete")]));
    const before = cloud.requests.length;
    const created = await client.batches.create({
      input_file_id: fileId,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    await until("the lines upstream", () => cloud.requests.slice(before).some((r) => lastText(r).includes("HANG first")));
    await client.files.delete(fileId);
    await until("the second line", () => cloud.requests.slice(before).some((r) => lastText(r).includes("after delete")));
    // The hanging line is cut by cancelling: the batch ends with what it has.
    await client.batches.cancel(created.id);
    const batch = await settled(created.id);
    assert.equal(batch.status, "cancelled");
    const output = await fileLines(batch.output_file_id);
    assert.deepEqual(
      output.map((l) => l.custom_id),
      ["after"],
    );
  });

  it("keeps a private batch on the local-only route's local target, and audits the cloud lines", async () => {
    const localBefore = local.requests.length;
    const cloudBefore = cloud.requests.length;
    const privateBatch = await client.batches.create(
      {
        input_file_id: await upload(jsonl([chatLine("p1", "secret plan", "private"), chatLine("p2", "secret too", "private")])),
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      },
      { headers: { "x-tandem-sensitivity": "private" } },
    );
    const p = await settled(privateBatch.id);
    assert.equal(p.status, "completed");
    assert.equal(p.request_counts?.completed, 2);
    assert.equal(local.requests.length - localBefore, 2);
    assert.equal(cloud.requests.length - cloudBefore, 0, "nothing of a private batch reached the cloud");

    // A private batch on a route with a cloud tier after the local one: the local target answers;
    // when it fails, the line fails rather than go to the cloud.
    const mixedBatch = await client.batches.create(
      {
        input_file_id: await upload(jsonl([chatLine("m1", "private and BREAK", "mixed")])),
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      },
      { headers: { "x-tandem-sensitivity": "private" } },
    );
    const m = await settled(mixedBatch.id);
    assert.equal(m.request_counts?.failed, 1);
    assert.equal(cloud.requests.length - cloudBefore, 0, "a private line never leaves, even when the local target fails");

    // No declaration: each line is classified on its own. The local target fails both; the line
    // with a card number stays (and fails), the other goes on to the cloud.
    const detected = await client.batches.create({
      input_file_id: await upload(
        jsonl([
          chatLine("card", "pay with 4111 1111 1111 1111 LOCALFAIL", "mixed"),
          chatLine("plain", "hello LOCALFAIL", "mixed"),
        ]),
      ),
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    const d = await settled(detected.id);
    assert.deepEqual(d.request_counts, { total: 2, completed: 1, failed: 1 });
    assert.deepEqual(
      (await fileLines(d.output_file_id)).map((l) => l.custom_id),
      ["plain"],
    );
    const [card] = await fileLines(d.error_file_id);
    assert.equal(card?.custom_id, "card");
    assert.equal(cloud.requests.length - cloudBefore, 1, "only the line without private data reached the cloud");
    assert.ok(!JSON.stringify(cloud.requests.map((r) => r.body)).includes("4111"), "the card never reached the cloud");

    // A cloud batch: each line is in the egress audit, as a client's request would be.
    const auditBefore = (await tandem.server.store?.queryAudit({ limit: 1000 }))?.length ?? 0;
    const cloudBatch = await settled(
      (
        await client.batches.create({
          input_file_id: await upload(jsonl([chatLine("c1", "public one"), chatLine("c2", "public two")])),
          endpoint: "/v1/chat/completions",
          completion_window: "24h",
        })
      ).id,
    );
    assert.equal(cloudBatch.status, "completed");
    const audit = (await tandem.server.store?.queryAudit({ limit: 1000 })) ?? [];
    assert.equal(audit.length - auditBefore, 2, "one audit row per cloud line");
  });

  it("holds the lines of a file uploaded as private to local targets on a redact route, as the file's content", async () => {
    const declaredBatch = async (lines: Line[], endpoint: "/v1/chat/completions" | "/v1/embeddings") =>
      settled(
        (
          await client.batches.create({
            input_file_id: await upload(jsonl(lines), "batch", { "x-tandem-sensitivity": "private" }),
            endpoint,
            completion_window: "24h",
          })
        ).id,
      );
    const cloudBefore = cloud.requests.length;
    const localBefore = local.requests.length;
    const secret = chatLine("red", "codename NIGHTJAR, email nj@example.com", "red");

    // A cloud-only redact route: each line is refused (403) in the error file.
    const refusedBatch = await declaredBatch([secret, chatLine("red2", "codename NIGHTJAR", "red")], "/v1/chat/completions");
    assert.equal(refusedBatch.status, "completed", JSON.stringify(refusedBatch.errors));
    assert.deepEqual(refusedBatch.request_counts, { total: 2, completed: 0, failed: 2 });
    const refused = await fileLines(refusedBatch.error_file_id);
    assert.deepEqual(
      refused.map((l) => [l.custom_id, l.response?.status_code]),
      [
        ["red", 403],
        ["red2", 403],
      ],
    );
    assert.match(JSON.stringify(refused[0]?.response?.body), /declared private where it was kept/);

    // A redact route with a local target: the lines are answered there.
    const localBatch = await declaredBatch([chatLine("redlocal", "codename NIGHTJAR", "redlocal")], "/v1/chat/completions");
    assert.deepEqual(localBatch.request_counts, { total: 1, completed: 1, failed: 0 });
    assert.equal(local.requests.length - localBefore, 1, "the route's local target answered");

    // An embeddings line of such a file too: its inputs are the file's content.
    const embedBatch = await declaredBatch(
      [{ custom_id: "e", method: "POST", url: "/v1/embeddings", body: { model: "redembed", input: "NIGHTJAR" } }],
      "/v1/embeddings",
    );
    assert.deepEqual(embedBatch.request_counts, { total: 1, completed: 0, failed: 1 });
    assert.equal(cloud.requests.length - cloudBefore, 0, "a line of a private file reached the cloud");

    // The client's header on the batch (not on the file) declares a level, as on any request: a
    // redact route redacts what detection finds and sends the line.
    const headed = await settled(
      (
        await client.batches.create(
          { input_file_id: await upload(jsonl([secret])), endpoint: "/v1/chat/completions", completion_window: "24h" },
          { headers: { "x-tandem-sensitivity": "private" } },
        )
      ).id,
    );
    assert.deepEqual(headed.request_counts, { total: 1, completed: 1, failed: 0 });
    assert.equal(lastText(cloud.requests.at(-1)!), "codename NIGHTJAR, email [EMAIL_1]");

    // Only tandem's own loopback declares a request's content private from outside its body: a
    // client's header of that name is dropped.
    const forged = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tandem-declared-private": "a line of a batch input file" },
      body: JSON.stringify({ model: "red", messages: [{ role: "user", content: "hello" }] }),
    });
    assert.equal(forged.status, 200);
  });

  it("lists batches newest first with after/limit, pages with the SDK, and 404s an unknown cursor", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const batch = await client.batches.create({
        input_file_id: await upload(jsonl([chatLine(`l${i}`, `list ${i}`)])),
        endpoint: "/v1/chat/completions",
        completion_window: "24h",
      });
      ids.push(batch.id);
    }
    const first = await client.batches.list({ limit: 2 });
    assert.deepEqual(
      first.data.map((b) => b.id),
      [ids[2], ids[1]],
    );
    assert.equal(first.has_more, true);
    const next = await client.batches.list({ limit: 2, after: ids[1] });
    assert.equal(next.data[0]?.id, ids[0]);
    const all: string[] = [];
    for await (const batch of client.batches.list({ limit: 2 })) all.push(batch.id);
    assert.equal(new Set(all).size, all.length, "no batch twice");
    for (const id of ids) assert.ok(all.includes(id));
    await assert.rejects(
      client.batches.list({ after: "batch_unknown" }),
      (err: unknown) => err instanceof OpenAI.NotFoundError && (err.error as { param?: string }).param === "after",
    );
    const res = await fetch(`${tandem.url}/v1/batches?limit=101`);
    assert.equal(res.status, 400);
    for (const id of ids) await settled(id);
  });

  it("writes the output files with output_expires_after", async () => {
    const batch = await settled(
      (
        await client.batches.create({
          input_file_id: await upload(jsonl([chatLine("x", "expiring output")])),
          endpoint: "/v1/chat/completions",
          completion_window: "24h",
          output_expires_after: { anchor: "created_at", seconds: 3600 },
        })
      ).id,
    );
    const file = await client.files.retrieve(batch.output_file_id as string);
    assert.equal(file.expires_at, file.created_at + 3600);
  });
});
