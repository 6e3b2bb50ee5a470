/**
 * Models copied into `<dataDir>/models` while the server runs, and requested as `local/<name>` before
 * any listing read the folder again: each file is a target of its own, with its own breaker, so files
 * that cannot be loaded never open the breaker of a good one, and a name no file has is a 404, never
 * `breaker_open`. (They all shared `local/other`, the provider's untracked name, until a listing.)
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const STORIES = "/work/shared/models/stories260K.gguf";

let tandem: RunningTandem;

before(async () => {
  tandem = await startTandem({
    providers: { local: { kind: "llamacpp", threads: 1, parallel: 1 } },
    breaker: { failureThreshold: 2, cooldownMs: 60_000 },
  });
  await mkdir(join(tandem.dataDir, "models"), { recursive: true });
  // The server has read the (empty) folder: everything below is new to it.
  const listed = (await (await fetch(`${tandem.url}/v1/models`)).json()) as { data: { id: string }[] };
  assert.ok(!listed.data.some((m) => m.id.startsWith("local/")));
});

after(async () => {
  await tandem?.close();
});

const chat = (model: string) =>
  fetch(`${tandem.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "Once upon a time" }], max_tokens: 3 }),
  });

it("serves a good model copied in after bad ones failed, and answers an unknown name with a 404", async () => {
  const models = join(tandem.dataDir, "models");
  for (let i = 1; i <= 3; i++) await writeFile(join(models, `bad${i}.gguf`), `not a gguf ${i}\n`);
  await copyFile(STORIES, join(models, "good.gguf"));
  for (let i = 1; i <= 3; i++) {
    const res = await chat(`local/bad${i}`);
    const body = await res.text();
    assert.equal(res.status, 503, body);
    assert.match(body, new RegExp(`local/bad${i} cannot be loaded`));
  }
  const good = await chat("local/good");
  assert.equal(good.status, 200, await good.clone().text());
  const unknown = await chat("local/nosuchmodel");
  const body = (await unknown.json()) as { error: { code: string; message: string } };
  assert.equal(unknown.status, 404, JSON.stringify(body));
  assert.equal(body.error.code, "model_not_found");
  assert.match(body.error.message, /local\/good/);

  // Each file failed against its own target: no shared `local/other` line holds their failures.
  const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
    targets: { target: string; breaker: string }[];
  };
  const names = status.targets.map((t) => t.target);
  assert.ok(!names.includes("local/other"), names.join(", "));
  assert.equal(status.targets.find((t) => t.target === "local/good")?.breaker, "closed");
});
