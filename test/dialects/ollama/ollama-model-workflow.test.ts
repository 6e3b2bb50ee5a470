/**
 * Ollama's model workflow through the official `ollama` client against a real tandem with its
 * embedded engine and tiny GGUF models the test writes: delete, copy, create (from a model with
 * saved defaults, and from a GGUF blob uploaded by digest), show with those defaults, and /api/ps.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, rename, stat, utimes } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Command } from "commander";
import { Ollama } from "ollama";
import { type ModelsCommandIo, modelsCommand } from "../../../src/cli/models.js";
import { makeModelDir, writeChatModel } from "../../support/gguf/index.js";
import { loadLocalModel, type RunningTandem, startTandem } from "../../support/tandem.js";

let tandem: RunningTandem;
let ollama: Ollama;
let cleanup: () => Promise<void>;
let outside: string;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  outside = join(made.dir, "outside.gguf");
  await writeChatModel(outside, { answer: "From outside." });
  tandem = await startTandem({
    providers: {
      local: { kind: "llamacpp", threads: 1, parallel: 1, models: { pinned: { path: outside, contextSize: 256 } } },
    },
  });
  await mkdir(join(tandem.dataDir, "models"), { recursive: true });
  await writeChatModel(join(tandem.dataDir, "models", "chat.gguf"));
  ollama = new Ollama({ host: tandem.url });
});

after(async () => {
  await tandem?.close();
  await cleanup?.();
});

async function post(path: string, body: unknown, method = "POST"): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${tandem.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
}

/** Runs `tandem models ...` in this process, beside the server, as a user runs it in another terminal. */
async function tandemModels(args: string[]): Promise<{ code: number | undefined; stderr: string }> {
  let stderr = "";
  let code: number | undefined;
  const io: ModelsCommandIo = {
    stdout: { write: () => true },
    stderr: { write: (text: string) => (stderr += text) },
    env: {},
    setExitCode: (c) => {
      code = c;
    },
    exit: (c) => {
      throw new Error(`tandem models exited with ${c}: ${stderr}`);
    },
  };
  await new Command("tandem")
    .exitOverride()
    .addCommand(modelsCommand(io))
    .parseAsync(["models", ...args], { from: "user" });
  return { code, stderr };
}

function names(list: { models: { name: string }[] }): string[] {
  return list.models.map((m) => m.name);
}

describe("Ollama model workflow", () => {
  it("copies a model (hard link), serves the copy, and answers 404 for an unknown source", async () => {
    assert.deepEqual(await ollama.copy({ source: "local/chat", destination: "chat-copy" }), { status: "success" });
    const original = await stat(join(tandem.dataDir, "models", "chat.gguf"));
    const copy = await stat(join(tandem.dataDir, "models", "chat-copy.gguf"));
    assert.equal(copy.ino, original.ino, "the copy is a hard link of the original");
    assert.ok(names(await ollama.list()).includes("local/chat-copy"));
    // Each model is loaded before its first chat: a request naming a target directly has a 10 s
    // first-token limit (not this test's subject) that would count the load on a loaded box.
    await loadLocalModel(tandem, "local/chat-copy");
    const answer = await ollama.chat({ model: "local/chat-copy", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(answer.message.content, "Hello from tandem.");

    const missing = await post("/api/copy", { source: "local/nope", destination: "x" });
    assert.equal(missing.status, 404);
    assert.match((missing.body as { error: string }).error, /nope/);
    const bad = await post("/api/copy", { source: "local/chat", destination: "../escape" });
    assert.equal(bad.status, 400);
    assert.match((bad.body as { error: string }).error, /path separator/);
  });

  it("deletes a model (unloading it first), 404 for an unknown one, and refuses a configured file outside the models folder", async () => {
    await ollama.generate({ model: "local/chat-copy", prompt: "", keep_alive: "5m" });
    assert.ok((await ollama.ps()).models.some((m) => m.name === "local/chat-copy"));
    assert.deepEqual(await ollama.delete({ model: "local/chat-copy" }), { status: "success" });
    assert.equal(existsSync(join(tandem.dataDir, "models", "chat-copy.gguf")), false);
    assert.ok(!(await ollama.ps()).models.some((m) => m.name === "local/chat-copy"), "unloaded");
    assert.ok(!names(await ollama.list()).includes("local/chat-copy"));

    const again = await post("/api/delete", { model: "local/chat-copy" }, "DELETE");
    assert.equal(again.status, 404);
    assert.equal(typeof (again.body as { error: string }).error, "string");

    const pinned = await post("/api/delete", { name: "local/pinned" }, "DELETE");
    assert.equal(pinned.status, 400);
    assert.match((pinned.body as { error: string }).error, /outside the models folder/);
    assert.ok(existsSync(outside), "the configured file is left alone");
  });

  it("refuses to create or copy onto a name the config gives another file, as /api/delete refuses to delete it", async () => {
    const created = await post("/api/create", {
      model: "local/pinned",
      from: "local/chat",
      parameters: { num_predict: 2 },
      system: "SYS",
      stream: false,
    });
    assert.equal(created.status, 400);
    assert.match((created.body as { error: string }).error, /local\/pinned is configured with the file .*outside\.gguf/);
    // Streamed (Ollama's default), the refusal comes before any status line, with its own status.
    const streamed = await post("/api/create", { model: "pinned:latest", from: "local/chat" });
    assert.equal(streamed.status, 400);
    assert.match((streamed.body as { error: string }).error, /configured with the file/);
    const copied = await post("/api/copy", { source: "local/chat", destination: "pinned" });
    assert.equal(copied.status, 400);
    assert.match((copied.body as { error: string }).error, /providers\.local\.models\.pinned/);

    assert.equal(existsSync(join(tandem.dataDir, "models", "pinned.gguf")), false, "no file that would never be served");
    assert.equal(existsSync(join(tandem.dataDir, "models", "pinned.json")), false, "no settings for the configured model");
    const show = await ollama.show({ model: "local/pinned" });
    assert.equal(show.system ?? "", "");
    assert.doesNotMatch(show.modelfile, /^FROM chat$/m);
  });

  it("creates a model from another with parameters and a system prompt saved as its defaults", async () => {
    const statuses: string[] = [];
    for await (const part of await ollama.create({
      model: "local/tuned",
      from: "local/chat",
      parameters: { num_ctx: 512, temperature: 0.2, stop: ["<END>"] },
      system: "You are terse.",
      stream: true,
    })) {
      statuses.push(part.status);
    }
    assert.deepEqual(statuses.slice(-2), ["writing manifest", "success"]);
    const settings = JSON.parse(await readFile(join(tandem.dataDir, "models", "tuned.json"), "utf8"));
    assert.equal(settings.system, "You are terse.");

    const show = await ollama.show({ model: "local/tuned" });
    assert.equal(show.system, "You are terse.");
    assert.match(show.parameters, /^num_ctx\s+512$/m);
    assert.match(show.parameters, /^temperature\s+0\.2$/m);
    assert.match(show.parameters, /^stop\s+"<END>"$/m);
    assert.match(show.modelfile, /^FROM chat$/m);
    assert.match(show.modelfile, /^SYSTEM """You are terse."""$/m);
    assert.equal(show.details.parent_model, "chat");

    // Defaults apply to requests that do not set them: the window is num_ctx, the system prompt is added.
    await loadLocalModel(tandem, "local/chat");
    const plain = await ollama.chat({ model: "local/chat", messages: [{ role: "user", content: "Hi" }] });
    await loadLocalModel(tandem, "local/tuned");
    const tuned = await ollama.chat({ model: "local/tuned", messages: [{ role: "user", content: "Hi" }], keep_alive: "5m" });
    assert.equal(tuned.message.content, "Hello from tandem.");
    assert.ok(tuned.prompt_eval_count > plain.prompt_eval_count, "the saved system prompt is part of the prompt");
    const ps = (await ollama.ps()).models.find((m) => m.name === "local/tuned") as unknown as { context_length: number };
    assert.equal(ps.context_length, 512);
    // A request's own system prompt wins.
    const own = await ollama.chat({
      model: "local/tuned",
      messages: [
        { role: "system", content: "x" },
        { role: "user", content: "Hi" },
      ],
    });
    assert.ok(own.prompt_eval_count < tuned.prompt_eval_count);
  });

  it("creates a model from a GGUF blob uploaded by digest, checking the digest", async () => {
    const { dir, cleanup: done } = await makeModelDir();
    try {
      const file = join(dir, "blob.gguf");
      await writeChatModel(file, { answer: "From a blob." });
      const bytes = await readFile(file);
      const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
      assert.equal((await fetch(`${tandem.url}/api/blobs/${digest}`, { method: "HEAD" })).status, 404);
      const wrong = await fetch(`${tandem.url}/api/blobs/${digest}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: Buffer.concat([bytes, Buffer.from("x")]),
      });
      assert.equal(wrong.status, 400);
      assert.match(((await wrong.json()) as { error: string }).error, /digest mismatch/);
      const text = await fetch(`${tandem.url}/api/blobs/${digest}`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body: "x",
      });
      assert.equal(text.status, 415);
      const put = await fetch(`${tandem.url}/api/blobs/${digest}`, {
        method: "POST",
        headers: { "content-type": "application/octet-stream" },
        body: bytes,
      });
      assert.equal(put.status, 201);
      assert.equal((await fetch(`${tandem.url}/api/blobs/${digest}`, { method: "HEAD" })).status, 200);

      // `files` is Ollama's current create field; the client's types do not list it yet.
      const request = { model: "from-blob", files: { "blob.gguf": digest }, stream: false } as Parameters<Ollama["create"]>[0] & {
        stream: false;
      };
      const created = await ollama.create(request);
      assert.equal(created.status, "success");
      await loadLocalModel(tandem, "local/from-blob");
      const answer = await ollama.chat({ model: "local/from-blob", messages: [{ role: "user", content: "Hi" }] });
      assert.equal(answer.message.content, "From a blob.");

      const unknown = await post("/api/create", {
        model: "nope",
        files: { "x.gguf": `sha256:${"0".repeat(64)}` },
        stream: false,
      });
      assert.equal(unknown.status, 400);
      assert.match((unknown.body as { error: string }).error, /was not uploaded/);
    } finally {
      await done();
    }
  });

  it("takes Ollama's `:latest` names as the bare model, and a blob labelled JSON as Ollama's own client sends it", async () => {
    await ollama.create({ model: "tagged:latest", from: "local/chat:latest" });
    assert.ok(existsSync(join(tandem.dataDir, "models", "tagged.gguf")));
    await loadLocalModel(tandem, "local/tagged:latest");
    const answer = await ollama.chat({ model: "local/tagged:latest", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(answer.message.content, "Hello from tandem.");
    await ollama.delete({ model: "local/tagged:latest" });
    assert.equal(existsSync(join(tandem.dataDir, "models", "tagged.gguf")), false);

    const bytes = Buffer.from("not a model, but a blob all the same");
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    const put = await fetch(`${tandem.url}/api/blobs/${digest}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: bytes,
    });
    assert.equal(put.status, 201);
    const notGguf = await post("/api/create", { model: "junk", files: { "junk.gguf": digest }, stream: false });
    assert.equal(notGguf.status, 400);
    assert.match((notGguf.body as { error: string }).error, /not a usable GGUF/);
    const badDigest = await fetch(`${tandem.url}/api/blobs/sha256:xyz`, { method: "HEAD" });
    assert.equal(badDigest.status, 400);
  });

  it("takes a bare name as Ollama does, `mine` and `mine:latest` alike, on every endpoint and in other dialects' model fields", async () => {
    await ollama.create({ model: "mine", from: "local/chat" });
    await loadLocalModel(tandem, "mine");
    const show = await ollama.show({ model: "mine" });
    assert.equal(show.details.parent_model, "chat");
    assert.equal((await ollama.show({ model: "mine:latest" })).details.parent_model, "chat");
    const chat = await ollama.chat({ model: "mine", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(chat.message.content, "Hello from tandem.");
    assert.equal(chat.model, "local/mine", "answered by the one model, whatever it was called");
    const generated = await ollama.generate({ model: "mine:latest", prompt: "Hi", options: { num_predict: 4 } });
    assert.equal(generated.model, "local/mine");

    const openai = await fetch(`${tandem.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "mine", messages: [{ role: "user", content: "Hi" }], max_tokens: 4 }),
    });
    assert.equal(openai.status, 200, await openai.clone().text());
    assert.equal(openai.headers.get("x-tandem-target"), "local/mine");
    const anthropic = await fetch(`${tandem.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
      body: JSON.stringify({ model: "mine:latest", max_tokens: 4, messages: [{ role: "user", content: "Hi" }] }),
    });
    assert.equal(anthropic.status, 200, await anthropic.clone().text());
    assert.equal(anthropic.headers.get("x-tandem-target"), "local/mine");

    // A name the config gives without a tag takes `:latest` too.
    await loadLocalModel(tandem, "pinned:latest");
    const pinned = await ollama.chat({ model: "pinned", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(pinned.message.content, "From outside.");
    // A file put in the models folder beside the server is served by its bare name at once.
    await writeChatModel(join(tandem.dataDir, "models", "dropped.gguf"), { answer: "Dropped in." });
    await loadLocalModel(tandem, "dropped");
    assert.equal(
      (await ollama.chat({ model: "dropped", messages: [{ role: "user", content: "Hi" }] })).message.content,
      "Dropped in.",
    );

    const unknown = await post("/api/chat", { model: "nope", messages: [{ role: "user", content: "Hi" }] });
    assert.equal(unknown.status, 404);
    assert.match((unknown.body as { error: string }).error, /^model 'nope' not found\. Available: .*local\/mine/);
    await ollama.delete({ model: "mine:latest" });
    assert.equal((await post("/api/show", { model: "mine" })).status, 404);
  });

  it("dates each local model by its file in /api/tags and /v1/models, or by its making when it was created from another", async () => {
    const when = new Date("2021-05-04T03:02:01Z");
    const dated = join(tandem.dataDir, "models", "dated.gguf");
    await writeChatModel(dated);
    await utimes(dated, when, when);
    await utimes(outside, when, when);
    const made = Date.now();
    await ollama.create({ model: "dated-copy", from: "local/dated", system: "Be brief." });

    const tags = (await ollama.list()).models;
    const modified = (name: string) => (tags.find((m) => m.name === name)?.modified_at as unknown as string) ?? "";
    assert.equal(modified("local/dated"), "2021-05-04T03:02:01.000Z");
    assert.equal(modified("local/pinned"), "2021-05-04T03:02:01.000Z", "a configured model by its file too");
    // A hard link of dated.gguf (the same file time), made now: its saved settings say when.
    const copyTime = new Date(modified("local/dated-copy")).getTime();
    assert.ok(copyTime >= Math.floor(made / 1000) * 1000 && copyTime <= Date.now(), modified("local/dated-copy"));

    const listed = (await (await fetch(`${tandem.url}/v1/models`)).json()) as { data: { id: string; created: number }[] };
    assert.equal(listed.data.find((m) => m.id === "local/dated")?.created, when.getTime() / 1000);
    await ollama.delete({ model: "dated-copy" });
  });

  it("runs a local model with the window options.num_ctx asks for, reloading it as Ollama does, and fits the conversation to it", async () => {
    const generate = (options: Record<string, unknown>, prompt = "Hi") =>
      fetch(`${tandem.url}/api/generate`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "local/chat",
          prompt,
          stream: false,
          keep_alive: "5m",
          options: { num_predict: 2, ...options },
        }),
      });
    const window = async () => {
      const loaded = (await ollama.ps()).models.filter((m) => m.name === "local/chat");
      assert.equal(loaded.length, 1, "one load of the model: the one with the old window is gone");
      return (loaded[0] as unknown as { context_length: number }).context_length;
    };
    const asked = await generate({ num_ctx: 512 });
    assert.equal(asked.status, 200, await asked.clone().text());
    assert.equal(asked.headers.get("x-tandem-warnings"), null, "applied, so not named");
    assert.equal(await window(), 512);
    // A request that asks none runs with the model's own window (chat.gguf's trained 4096) again.
    assert.equal((await generate({})).status, 200);
    assert.equal(await window(), 4096);
    // At most the trained context, as Ollama caps it.
    assert.equal((await generate({ num_ctx: 100_000 })).status, 200);
    assert.equal(await window(), 4096);

    // The conversation must fit the window asked for, not the model's own.
    const long = "word ".repeat(400);
    const tooLong = await generate({ num_ctx: 256 }, long);
    assert.equal(tooLong.status, 400);
    assert.match(((await tooLong.json()) as { error: string }).error, /256-token context window/);
    assert.equal((await generate({}, long)).status, 200);
  });

  it("unloads a model whose file is removed beside the server (tandem models rm), and loads the new file of one replaced", async () => {
    const file = join(tandem.dataDir, "models", "beside.gguf");
    await writeChatModel(file, { answer: "First." });
    await ollama.generate({ model: "local/beside", prompt: "", keep_alive: "10m" });
    assert.equal(
      (await ollama.chat({ model: "local/beside", messages: [{ role: "user", content: "Hi" }] })).message.content,
      "First.",
    );
    // A new file renamed over it, as a pull installs one: the next request loads it.
    const next = join(tandem.dataDir, "beside-next.gguf");
    await writeChatModel(next, { answer: "Second." });
    await rename(next, file);
    await loadLocalModel(tandem, "local/beside");
    assert.equal(
      (await ollama.chat({ model: "local/beside", messages: [{ role: "user", content: "Hi" }] })).message.content,
      "Second.",
    );
    assert.equal((await ollama.ps()).models.filter((m) => m.name === "local/beside").length, 1, "the old load is gone");

    const removed = await tandemModels(["rm", "beside", "--data-dir", tandem.dataDir]);
    assert.equal(removed.code, 0, removed.stderr);
    assert.ok(!(await ollama.ps()).models.some((m) => m.name === "local/beside"), "unloaded, not held until its keep-alive ends");
    assert.equal((await post("/api/show", { model: "local/beside" })).status, 404);
  });

  it("refuses quantize, an unknown source and a bad parameter with Ollama's error shape", async () => {
    const quantize = await post("/api/create", { model: "q", from: "local/chat", quantize: "q4_K_M" });
    assert.equal(quantize.status, 400);
    assert.match((quantize.body as { error: string }).error, /does not quantize/);
    const from = await post("/api/create", { model: "q", from: "local/absent" });
    assert.equal(from.status, 404);
    const param = await post("/api/create", { model: "q", from: "local/chat", parameters: { temprature: 1 } });
    assert.equal(param.status, 400);
    assert.match((param.body as { error: string }).error, /unknown parameter 'temprature'/);
    const neither = await post("/api/create", { model: "q" });
    assert.equal(neither.status, 400);
  });

  it("lists loaded models in /api/ps with Ollama's fields, matching /api/tags by name and digest", async () => {
    await ollama.generate({ model: "local/chat", prompt: "", keep_alive: "10m" });
    const before = Date.now();
    const entry = (await ollama.ps()).models.find((m) => m.name === "local/chat");
    assert.ok(entry);
    const raw = entry as unknown as Record<string, unknown>;
    for (const field of ["name", "model", "size", "digest", "details", "expires_at", "size_vram", "context_length"]) {
      assert.ok(field in raw, `ps has ${field}`);
    }
    assert.equal(entry.model, "local/chat");
    assert.equal(entry.details.format, "gguf");
    const expires = new Date(entry.expires_at).getTime();
    assert.ok(expires > before + 9 * 60_000 && expires <= before + 10 * 60_000 + 1000, `expires_at ${entry.expires_at}`);
    const tag = (await ollama.list()).models.find((m) => m.name === "local/chat");
    assert.equal(tag?.digest, entry.digest);
    // All it holds: the weights (the file's size) and its context's KV cache and buffers; on a CPU
    // nothing is in VRAM.
    assert.ok(tag && entry.size > tag.size, `ps size ${entry.size} over the file's ${tag?.size}`);
    assert.equal(entry.size_vram, 0);
    // keep_alive 0 unloads at once.
    await ollama.generate({ model: "local/chat", prompt: "", keep_alive: 0 });
    assert.ok(!(await ollama.ps()).models.some((m) => m.name === "local/chat"));
  });
});
