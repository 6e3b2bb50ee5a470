/**
 * `tandem run`, `ps`, `stop` and `show`, spawned as a user runs them, against a real tandem (its
 * embedded engine, a tiny model the test writes) with a loopback imitation of the Hugging Face hub
 * to pull from.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Ollama } from "ollama";
import { type FakeHfHub, startFakeHfHub } from "../support/fake-hf-hub.js";
import { makeModelDir, writeChatModel } from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";
import { TANDEM_CLI } from "../support/tandem-cli.js";

let hub: FakeHfHub;
let tandem: RunningTandem;
let cleanup: () => Promise<void>;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  const file = join(made.dir, "chat.gguf");
  await writeChatModel(file);
  hub = await startFakeHfHub({
    repos: [{ id: "tandem-tests/Chat-GGUF", files: [{ path: "chat-Q4_K_M.gguf", content: await readFile(file) }] }],
  });
  tandem = await startTandem({ providers: { local: { kind: "llamacpp", threads: 1 } } }, { env: { HF_ENDPOINT: hub.url } });
});

after(async () => {
  await tandem?.close();
  await hub?.close();
  await cleanup?.();
});

/** Runs the CLI with stdin piped (so never a terminal), against the test's server through TANDEM_URL. */
function cli(args: string[], input = ""): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [TANDEM_CLI, ...args], {
    env: { PATH: process.env.PATH, HOME: tandem.dataDir, TANDEM_URL: tandem.url },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err += d;
  });
  child.stdin.end(input);
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, out, err })));
}

describe("tandem run, ps, stop, show", () => {
  it("run pulls a missing local model with progress, then answers the prompt once", async () => {
    const result = await cli(["run", "hf.co/tandem-tests/Chat-GGUF:Q4_K_M", "Hi"]);
    assert.equal(result.code, 0, result.err);
    assert.match(result.err, /pulling manifest/);
    assert.match(result.err, /100%/);
    assert.match(result.err, /success/);
    assert.equal(result.out.trim(), "Hello from tandem.");
  });

  it("run answers what is piped in when no prompt is given, and a model it cannot pull is an error", async () => {
    const piped = await cli(["run", "chat-Q4_K_M"], "Hi there\n");
    assert.equal(piped.code, 0, piped.err);
    assert.equal(piped.out.trim(), "Hello from tandem.");
    assert.doesNotMatch(piped.err, /pulling/, "installed already: nothing pulled");
    const missing = await cli(["run", "hf.co/nobody/Nothing-GGUF", "Hi"]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /Nothing-GGUF/);
    // The pull's error came as a line of a 200 stream: no HTTP status is made up for it.
    const unknown = await cli(["run", "local/nope", "Hi"]);
    assert.equal(unknown.code, 1);
    // Neither a model the server has nor a name a pull takes: not found, and how a pull is named.
    assert.match(unknown.err, /^tandem run: .*'local\/nope'.*not.*To pull a local model, name an alias/m);
    assert.doesNotMatch(`${missing.err}${unknown.err}`, /\(500\)/);
  });

  it("ps shows the loaded model as a table and as JSON; stop unloads it", async () => {
    const ollama = new Ollama({ host: tandem.url });
    await ollama.generate({ model: "local/chat-Q4_K_M", prompt: "", keep_alive: "10m" });
    const table = await cli(["ps"]);
    assert.equal(table.code, 0, table.err);
    const [header, row] = table.out.trim().split("\n");
    assert.match(header ?? "", /^NAME\s+ID\s+SIZE\s+PROCESSOR\s+CONTEXT\s+UNTIL$/);
    assert.match(row ?? "", /^local\/chat-Q4_K_M\s+[0-9a-f]{12}\s+[\d.]+ [kM]B\s+100% CPU\s+4096\s+(9|10) minutes from now$/);
    const json = await cli(["ps", "--json"]);
    const parsed = JSON.parse(json.out) as { models: { name: string; size_vram: number }[] };
    assert.equal(parsed.models[0]?.name, "local/chat-Q4_K_M");

    const stopped = await cli(["stop", "chat-Q4_K_M"]);
    assert.equal(stopped.code, 0, stopped.err);
    assert.deepEqual((await ollama.ps()).models, []);
    const again = await cli(["stop", "chat-Q4_K_M"]);
    assert.equal(again.code, 1);
    assert.match(again.err, /no loaded model named 'chat-Q4_K_M'/);
  });

  it("show prints details, saved parameters and system prompt; --json the raw /api/show", async () => {
    const ollama = new Ollama({ host: tandem.url });
    await ollama.create({
      model: "terse",
      from: "local/chat-Q4_K_M",
      system: "Answer in one word.",
      parameters: { temperature: 0.1 },
    });
    const shown = await cli(["show", "local/terse"]);
    assert.equal(shown.code, 0, shown.err);
    assert.match(shown.out, /^ {2}Model local\/terse$/m);
    assert.match(shown.out, /^ {4}format\s+gguf$/m);
    assert.match(shown.out, /^ {2}Parameters\n {4}temperature\s+0\.1$/m);
    assert.match(shown.out, /^ {2}System\n {4}Answer in one word\.$/m);
    const json = JSON.parse((await cli(["show", "local/terse", "--json"])).out) as { system: string };
    assert.equal(json.system, "Answer in one word.");
    const unknown = await cli(["show", "local/absent"]);
    assert.equal(unknown.code, 1);
  });
});
