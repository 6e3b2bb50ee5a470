/**
 * A batch survives `kill -9` of `tandem serve` (the real CLI in a child process) mid-run: the lines
 * finished before the kill are kept and not sent again, the line that was running is sent again
 * (at least once), the rest run after the restart, and the batch completes with every line in its
 * output file, through the openai SDK against both servers over the same data dir and key. The
 * second server also has client keys: a resumed line carries the server's own key, not a client's.
 */
import assert from "node:assert/strict";
import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import OpenAI, { toFile } from "openai";
import { startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { spawnServe } from "../support/tandem-serve.js";

const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill("SIGKILL");
});

async function until(what: string, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function lastText(request: RecordedRequest): string {
  const messages = (request.body as { messages?: { content?: unknown }[] } | undefined)?.messages ?? [];
  return String(messages.at(-1)?.content ?? "");
}

describe("a batch across kill -9 and a restart", () => {
  it("keeps the finished lines, runs the rest, and completes", async () => {
    const cloud = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
    after(() => cloud.close());
    const home = mkdtempSync(join(tmpdir(), "tandem-kill-batch-"));
    const key = randomBytes(32).toString("hex");
    const config = join(home, "tandem.config.yaml");
    const lines = ["k0", "k1", "k2", "k3", "k4"];
    const write = (apiKeys: string[]) =>
      writeFileSync(
        config,
        [
          `dataDir: "${join(home, "data")}"`,
          "health: { probeIntervalMs: 0 }",
          `server: { apiKeys: [${apiKeys.map((k) => `"${k}"`).join(", ")}] }`,
          "providers:",
          `  cloud: { kind: openai, baseUrl: "${cloud.url}", local: false, models: [gpt-4o-mini] }`,
          "batches: { concurrency: 1 }",
          "",
        ].join("\n"),
      );
    write([]);
    // k2 hangs upstream: the kill comes while it runs.
    cloud.script((request) =>
      lastText(request) === "k2" ? { kind: "stall", chunks: [] } : { kind: "text", text: `done ${lastText(request)}` },
    );
    const first = await spawnServe(home, config, key);
    children.push(first.child);
    const client = new OpenAI({ baseURL: `${first.url}/v1`, apiKey: "unused", maxRetries: 0 });
    const input = lines
      .map((text) =>
        JSON.stringify({
          custom_id: text,
          method: "POST",
          url: "/v1/chat/completions",
          body: { model: "cloud/gpt-4o-mini", messages: [{ role: "user", content: text }] },
        }),
      )
      .join("\n");
    const file = await client.files.create({ file: await toFile(Buffer.from(input), "in.jsonl"), purpose: "batch" });
    const batch = await client.batches.create({
      input_file_id: file.id,
      endpoint: "/v1/chat/completions",
      completion_window: "24h",
    });
    await until("the hanging line upstream", () => cloud.requests.some((r) => lastText(r) === "k2"));
    const exited = new Promise((resolve) => first.child.once("exit", resolve));
    first.child.kill("SIGKILL");
    await exited;

    cloud.script((request) => ({ kind: "text", text: `done ${lastText(request)}` }));
    // The restarted server wants a client key: the resumed lines carry its own.
    write(["env:BATCH_CLIENT_KEY"]);
    const second = await spawnServe(home, config, key, { env: { BATCH_CLIENT_KEY: "sk-tandem-client" } });
    children.push(second.child);
    const again = new OpenAI({ baseURL: `${second.url}/v1`, apiKey: "sk-tandem-client", maxRetries: 0 });
    let done = await again.batches.retrieve(batch.id);
    await until("the batch to complete", async () => {
      done = await again.batches.retrieve(batch.id);
      return done.status === "completed";
    });
    assert.deepEqual(done.request_counts, { total: 5, completed: 5, failed: 0 });
    const output = (await (await again.files.content(done.output_file_id as string)).text())
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l) as { custom_id: string; response: { status_code: number } });
    assert.deepEqual(
      output.map((l) => [l.custom_id, l.response.status_code]),
      lines.map((l) => [l, 200]),
    );
    const sent = (text: string) => cloud.requests.filter((r) => lastText(r) === text).length;
    assert.equal(sent("k0"), 1, "finished before the kill: not sent again");
    assert.equal(sent("k1"), 1, "finished before the kill: not sent again");
    assert.equal(sent("k2"), 2, "running at the kill: sent again (at least once)");
    assert.equal(sent("k3"), 1);
    assert.equal(sent("k4"), 1);
  });
});
