/**
 * The BatchRunner over a dispatch the test controls (no server): at most `concurrency` lines run at
 * once across batches; the completion window's end expires a running line and the rest; a close
 * leaves the running line unfinished and a new runner over the same store runs only what was not
 * finished; a batch whose input file is gone fails with why; a failed write of a line's outcome is
 * reported and the batch tried again; a dispatch that gives no answer is the line's error; an answer
 * that says to come back (a full disk, an upstream's rate limit) leaves the line for a later round,
 * no sooner than its Retry-After; the lines of one conversation run one after another, in order.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { BatchDispatch, BatchLineRequest, BatchUsage, FinishedBatchLine } from "../../../src/core/batches.js";
import { NO_BATCH_USAGE } from "../../../src/core/batches.js";
import { BatchRunner } from "../../../src/harness/batches/batch-runner.js";
import { MemoryBatchStore } from "../../../src/harness/batches/memory-batch-store.js";
import { MemoryFileStore } from "../../../src/harness/files/memory-file-store.js";

function chatLines(n: number, tag = "l"): string {
  return Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      custom_id: `${tag}${i}`,
      method: "POST",
      url: "/v1/chat/completions",
      body: { model: "m", messages: [{ role: "user", content: `${tag}${i}` }] },
    }),
  ).join("\n");
}

async function inputFile(files: MemoryFileStore, text: string): Promise<string> {
  return (
    await files.createFile(
      { filename: "in.jsonl", purpose: "batch", mediaType: "application/jsonl" },
      new TextEncoder().encode(text),
    )
  ).id;
}

function textOf(request: BatchLineRequest): string {
  return ((request.body.messages as { content: string }[])[0] as { content: string }).content;
}

const ok = (request: BatchLineRequest) => ({
  status: 200,
  requestId: "req_t",
  body: { object: "chat.completion", echo: textOf(request), usage: { prompt_tokens: 2, completion_tokens: 1 } },
});

/** Resolves when the signal aborts (a hung upstream). */
function hang(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }));
}

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function ended(runner: BatchRunner, id: string) {
  let batch = await runner.get(id);
  await until(`batch ${id} to end`, async () => {
    batch = await runner.get(id);
    return ["completed", "failed", "cancelled", "expired"].includes(batch?.status ?? "");
  });
  return batch;
}

async function outputLines(
  files: MemoryFileStore,
  id: string | undefined,
): Promise<{ custom_id: string; error: { code: string } | null }[]> {
  assert.ok(id);
  const content = await files.fileContent(id);
  return new TextDecoder()
    .decode(content?.data)
    .trimEnd()
    .split("\n")
    .map((l) => JSON.parse(l));
}

describe("BatchRunner", () => {
  it("runs at most `concurrency` lines at once, across batches", async () => {
    const files = new MemoryFileStore();
    let running = 0;
    let most = 0;
    const dispatch: BatchDispatch = async (request) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return ok(request);
    };
    const runner = new BatchRunner({ store: new MemoryBatchStore(), files, dispatch, concurrency: 2, maxRequests: 100 });
    const a = await runner.create({
      endpoint: "/v1/chat/completions",
      completionWindow: "24h",
      inputFileId: await inputFile(files, chatLines(6, "a")),
      idPrefix: "batch_",
    });
    const b = await runner.create({
      endpoint: "/v1/chat/completions",
      completionWindow: "24h",
      inputFileId: await inputFile(files, chatLines(6, "b")),
      idPrefix: "batch_",
    });
    const [doneA, doneB] = [await ended(runner, a.id), await ended(runner, b.id)];
    assert.equal(doneA?.status, "completed");
    assert.equal(doneB?.status, "completed");
    assert.equal(doneA?.counts.succeeded, 6);
    assert.deepEqual(doneA?.usage, { ...NO_BATCH_USAGE, inputTokens: 12, outputTokens: 6 });
    assert.equal(most, 2, "two at once, never more (and the two batches did share)");
    await runner.close();
  });

  it("expires the running line and those not run when the completion window closes", async () => {
    const files = new MemoryFileStore();
    const dispatch: BatchDispatch = async (request) => (textOf(request) === "l0" ? ok(request) : hang(request.signal));
    const runner = new BatchRunner({
      store: new MemoryBatchStore(),
      files,
      dispatch,
      concurrency: 1,
      maxRequests: 100,
      windowSeconds: 1,
    });
    const batch = await runner.create({
      endpoint: "/v1/chat/completions",
      completionWindow: "24h",
      inputFileId: await inputFile(files, chatLines(3)),
      idPrefix: "batch_",
    });
    const done = await ended(runner, batch.id);
    assert.equal(done?.status, "expired");
    assert.equal(typeof done?.expiredAt, "number");
    assert.deepEqual(done?.counts, { total: 3, processing: 0, succeeded: 1, errored: 0, canceled: 0, expired: 2 });
    assert.deepEqual(
      (await outputLines(files, done?.outputFileId)).map((l) => l.custom_id),
      ["l0"],
    );
    assert.deepEqual(
      (await outputLines(files, done?.errorFileId)).map((l) => [l.custom_id, l.error?.code]),
      [
        ["l1", "batch_expired"],
        ["l2", "batch_expired"],
      ],
    );
    await runner.close();
  });

  it("leaves the running line unfinished on close; the next runner runs only what was not finished", async () => {
    const files = new MemoryFileStore();
    const store = new MemoryBatchStore();
    const firstSeen: string[] = [];
    const first = new BatchRunner({
      store,
      files,
      concurrency: 1,
      maxRequests: 100,
      dispatch: async (request) => {
        firstSeen.push(textOf(request));
        return textOf(request) === "l0" ? ok(request) : hang(request.signal);
      },
    });
    const batch = await first.create({
      endpoint: "/v1/chat/completions",
      completionWindow: "24h",
      inputFileId: await inputFile(files, chatLines(3)),
      idPrefix: "batch_",
    });
    await until("the second line", () => firstSeen.includes("l1"));
    await first.close();
    const stopped = await store.getBatch(batch.id);
    assert.equal(stopped?.status, "in_progress");
    assert.deepEqual(stopped?.counts, { total: 3, processing: 2, succeeded: 1, errored: 0, canceled: 0, expired: 0 });

    const secondSeen: string[] = [];
    const second = new BatchRunner({
      store,
      files,
      concurrency: 1,
      maxRequests: 100,
      dispatch: async (request) => {
        secondSeen.push(textOf(request));
        return ok(request);
      },
    });
    await second.start();
    const done = await ended(second, batch.id);
    assert.equal(done?.status, "completed");
    assert.deepEqual(secondSeen, ["l1", "l2"], "the finished line is not run again");
    assert.deepEqual(
      (await outputLines(files, done?.outputFileId)).map((l) => l.custom_id),
      ["l0", "l1", "l2"],
    );
    await second.close();
  });

  it("fails a batch whose input file is gone before it was read", async () => {
    const files = new MemoryFileStore();
    const store = new MemoryBatchStore();
    await store.createBatch({
      id: "batch_gone",
      endpoint: "/v1/chat/completions",
      inputFileId: "file-gone",
      completionWindow: "24h",
      status: "validating",
      createdAt: Math.floor(Date.now() / 1000),
      expiresAt: Math.floor(Date.now() / 1000) + 86_400,
      usage: NO_BATCH_USAGE,
    });
    const runner = new BatchRunner({ store, files, concurrency: 1, maxRequests: 10, dispatch: async (r) => ok(r) });
    await runner.start();
    const done = await ended(runner, "batch_gone");
    assert.equal(done?.status, "failed");
    assert.equal(done?.errors?.[0]?.code, "file_not_found");
    await runner.close();
  });

  it("reports a failed write of a line's outcome and tries the batch again; a dispatch without an answer is the line's error", async () => {
    const files = new MemoryFileStore();
    let failOnce = true;
    // The first write of a line's outcome fails as a full disk does.
    const store = new (class extends MemoryBatchStore {
      override async finishLine(id: string, line: FinishedBatchLine, usage?: BatchUsage): Promise<boolean> {
        if (failOnce) {
          failOnce = false;
          throw Object.assign(new Error("disk full"), { code: "full", transient: true });
        }
        return super.finishLine(id, line, usage);
      }
    })();
    const reports: string[] = [];
    const runner = new BatchRunner({
      store,
      files,
      concurrency: 1,
      maxRequests: 10,
      retryDelayMs: 10,
      onError: (r) => reports.push((r.error as Error).message),
      dispatch: async (request) => {
        if (textOf(request) === "l1") throw new Error("no answer at all");
        return ok(request);
      },
    });
    const batch = await runner.create({
      endpoint: "/v1/chat/completions",
      completionWindow: "24h",
      inputFileId: await inputFile(files, chatLines(2)),
      idPrefix: "batch_",
    });
    const done = await ended(runner, batch.id);
    assert.equal(done?.status, "completed");
    assert.equal(reports.length, 1);
    assert.match(reports[0] ?? "", /disk full/);
    assert.deepEqual(done?.counts, { total: 2, processing: 0, succeeded: 1, errored: 1, canceled: 0, expired: 0 });
    const [errored] = await outputLines(files, done?.errorFileId);
    assert.equal(errored?.error?.code, "request_failed");
    await runner.close();
  });

  it("runs a line answered 'come back later' (a 503 with Retry-After: a full disk) again, instead of failing it for good", async () => {
    const files = new MemoryFileStore();
    let full = 2;
    const reports: string[] = [];
    const runner = new BatchRunner({
      store: new MemoryBatchStore(),
      files,
      concurrency: 2,
      maxRequests: 10,
      retryDelayMs: 10,
      onError: (r) => reports.push((r.error as Error).message),
      dispatch: async (request) => {
        // The first two lines sent meet a full disk under the egress audit; a 503 without Retry-After
        // (every target down for good) stays the line's answer.
        if (textOf(request) === "l2") return { status: 503, requestId: "req_d", body: { error: { message: "down" } } };
        if (full > 0) {
          full -= 1;
          return { status: 503, requestId: "req_f", body: { error: { message: "the disk is full" } }, retryAfterMs: 1000 };
        }
        return ok(request);
      },
    });
    const batch = await runner.create({
      endpoint: "/v1/chat/completions",
      completionWindow: "24h",
      inputFileId: await inputFile(files, chatLines(3)),
      idPrefix: "batch_",
    });
    const done = await ended(runner, batch.id);
    assert.equal(done?.status, "completed");
    assert.deepEqual(done?.counts, { total: 3, processing: 0, succeeded: 2, errored: 1, canceled: 0, expired: 0 });
    assert.deepEqual(
      (await outputLines(files, done?.outputFileId)).map((l) => l.custom_id),
      ["l0", "l1"],
    );
    assert.ok(reports.length >= 1 && reports.every((r) => /could not be answered for now/.test(r)), reports.join("\n"));
    await runner.close();
  });

  it("runs a line rate-limited upstream (a 429 with Retry-After) again once the Retry-After has passed; a 429 without one is the line's answer", async () => {
    const files = new MemoryFileStore();
    let limited = 2;
    const sent: { text: string; at: number }[] = [];
    const runner = new BatchRunner({
      store: new MemoryBatchStore(),
      files,
      concurrency: 1,
      maxRequests: 10,
      retryDelayMs: 10,
      dispatch: async (request) => {
        sent.push({ text: textOf(request), at: Date.now() });
        // A route of one target passes its upstream's 429 on as it came, Retry-After and all.
        if (textOf(request) === "l0" && limited > 0) {
          limited -= 1;
          return { status: 429, requestId: "req_r", body: { error: { type: "rate_limit_error" } }, retryAfterMs: 300 };
        }
        if (textOf(request) === "l1") return { status: 429, requestId: "req_q", body: { error: { code: "insufficient_quota" } } };
        return ok(request);
      },
    });
    const batch = await runner.create({
      endpoint: "/v1/chat/completions",
      completionWindow: "24h",
      inputFileId: await inputFile(files, chatLines(2)),
      idPrefix: "batch_",
    });
    const done = await ended(runner, batch.id);
    assert.equal(done?.status, "completed");
    assert.deepEqual(done?.counts, { total: 2, processing: 0, succeeded: 1, errored: 1, canceled: 0, expired: 0 });
    assert.deepEqual(
      (await outputLines(files, done?.outputFileId)).map((l) => l.custom_id),
      ["l0"],
    );
    const tries = sent.filter((s) => s.text === "l0").map((s) => s.at);
    assert.equal(tries.length, 3);
    // Sent again no sooner than the upstream asked (retryDelayMs alone would be 10 ms).
    for (let i = 1; i < tries.length; i++) assert.ok((tries[i] as number) - (tries[i - 1] as number) >= 290, String(tries));
    assert.equal(sent.filter((s) => s.text === "l1").length, 1, "a 429 without Retry-After is not sent again");
    await runner.close();
  });

  it("runs the lines of one conversation one after another, in order, and waits out a turn another client holds", async () => {
    const files = new MemoryFileStore();
    const held = new Set<string>();
    const turns: string[] = [];
    let locked = 0;
    let outsider = true;
    const runner = new BatchRunner({
      store: new MemoryBatchStore(),
      files,
      concurrency: 3,
      maxRequests: 10,
      retryDelayMs: 10,
      dispatch: async (request) => {
        const conversation = typeof request.body.conversation === "string" ? request.body.conversation : undefined;
        const text = request.body.input as string;
        // The server refuses a second turn on a conversation while one is under way (OpenAI's 400),
        // and the first turn of conv_a meets a client's turn that holds it for a moment.
        if (conversation !== undefined && (held.has(conversation) || (conversation === "conv_a" && outsider))) {
          outsider = false;
          locked += 1;
          return {
            status: 400,
            requestId: "req_l",
            body: {
              error: { message: "Another process is currently operating on this conversation.", code: "conversation_locked" },
            },
          };
        }
        if (conversation !== undefined) held.add(conversation);
        await new Promise((r) => setTimeout(r, 20));
        if (conversation !== undefined) held.delete(conversation);
        turns.push(text);
        return { status: 200, requestId: "req_t", body: { object: "response", echo: text } };
      },
    });
    const line = (id: string, conversation: unknown) =>
      JSON.stringify({
        custom_id: id,
        method: "POST",
        url: "/v1/responses",
        body: { model: "m", input: id, ...(conversation !== undefined && { conversation }) },
      });
    const input = [
      line("a0", "conv_a"),
      line("b0", { id: "conv_b" }),
      line("a1", "conv_a"),
      line("free", undefined),
      line("b1", "conv_b"),
      line("a2", { id: "conv_a" }),
      line("a3", "conv_a"),
    ].join("\n");
    const batch = await runner.create({
      endpoint: "/v1/responses",
      completionWindow: "24h",
      inputFileId: await inputFile(files, input),
      idPrefix: "batch_",
    });
    const done = await ended(runner, batch.id);
    assert.equal(done?.status, "completed");
    assert.deepEqual(done?.counts, { total: 7, processing: 0, succeeded: 7, errored: 0, canceled: 0, expired: 0 });
    assert.equal(locked, 1, "only the outside client's turn was met; the batch's own lines never refused each other");
    assert.deepEqual(
      turns.filter((t) => t.startsWith("a")),
      ["a0", "a1", "a2", "a3"],
    );
    assert.deepEqual(
      turns.filter((t) => t.startsWith("b")),
      ["b0", "b1"],
    );
    await runner.close();
  });
});
