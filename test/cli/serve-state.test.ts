/**
 * `tandem serve` keeps stored state in the encrypted store it opens: a conversation created through
 * one server is there after a restart, `state.retentionDays` from the config is applied by the
 * pruning at start, and with `store.enabled: false` state lives in memory only.
 */
import assert from "node:assert/strict";
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import OpenAI from "openai";
import { configSchema } from "../../src/config/index.js";
import { openStore } from "../../src/store/index.js";
import { TANDEM_CLI } from "../support/tandem-cli.js";

const DAY_MS = 86_400_000;

const children: ChildProcess[] = [];
after(() => {
  for (const c of children) c.kill("SIGKILL");
});

/** A clean environment (no keys, no machine config, no Ollama) with a known database key. */
function env(home: string, key: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, "config"),
    XDG_DATA_HOME: join(home, "data"),
    OLLAMA_HOST: "127.0.0.1:9",
    TANDEM_LOG_LEVEL: "warn",
    TANDEM_DB_KEY: key,
  };
}

/** Starts `tandem serve` on a free port and resolves with its URL and a stop function. */
async function serve(home: string, key: string): Promise<{ client: OpenAI; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, [TANDEM_CLI, "serve", "--port", "0"], {
    env: env(home, key),
    cwd: home,
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const until = Date.now() + 30_000;
  const listening = () => /listening on (http:\/\/[\d.:]+)/.exec(stderr)?.[1];
  while (!listening()) {
    if (Date.now() > until || child.exitCode !== null) throw new Error(`tandem serve did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 25));
  }
  const url = listening() as string;
  return {
    client: new OpenAI({ baseURL: `${url}/v1`, apiKey: "sk-none", maxRetries: 0 }),
    stop: async () => {
      child.kill("SIGTERM");
      return exited;
    },
  };
}

describe("tandem serve and stored state", () => {
  it("keeps conversations in the encrypted store across a restart, and prunes by state.retentionDays", async () => {
    const home = mkdtempSync(join(tmpdir(), "tandem-state-cli-"));
    const keyHex = randomBytes(32).toString("hex");
    const first = await serve(home, keyHex);
    const conversation = await first.client.conversations.create({
      metadata: { kept: "yes" },
      items: [{ role: "user", content: "remember me" }],
    });
    assert.equal(await first.stop(), 0);

    // A response from 40 days ago, written into the file while no server runs.
    const dataDir = join(home, "data", "tandem");
    const direct = openStore({ dataDir, key: Buffer.from(keyHex, "hex"), pruneIntervalMs: 0, report: () => {} });
    direct.state.saveResponse({
      id: "resp_old",
      createdAt: Math.floor((Date.now() - 40 * DAY_MS) / 1000),
      response: { id: "resp_old", object: "response", status: "completed", output: [] },
      input: [],
      output: [],
    });
    direct.close();

    const second = await serve(home, keyHex);
    assert.deepEqual(await second.client.conversations.retrieve(conversation.id), conversation);
    const items = await second.client.conversations.items.list(conversation.id);
    assert.deepEqual(
      items.data.map((i) => (i.type === "message" ? i.content : undefined)),
      [[{ type: "input_text", text: "remember me" }]],
    );
    assert.equal((await second.client.responses.retrieve("resp_old")).id, "resp_old", "kept until deleted by default");
    assert.equal(await second.stop(), 0);

    writeFileSync(join(home, "tandem.config.yaml"), "state: { retentionDays: 30 }\n");
    const third = await serve(home, keyHex);
    await assert.rejects(third.client.responses.retrieve("resp_old"), (err: unknown) => err instanceof OpenAI.NotFoundError);
    assert.equal((await third.client.conversations.retrieve(conversation.id)).id, conversation.id, "changed today: kept");
    assert.equal(await third.stop(), 0);

    writeFileSync(join(home, "tandem.config.yaml"), "store: { enabled: false }\n");
    const memory = await serve(home, keyHex);
    await assert.rejects(
      memory.client.conversations.retrieve(conversation.id),
      (err: unknown) => err instanceof OpenAI.NotFoundError,
    );
    assert.equal(await memory.stop(), 0);
  });

  it("takes state.retentionDays as a positive whole number of days, unset by default", () => {
    assert.equal(configSchema.parse({}).state.retentionDays, undefined);
    assert.equal(configSchema.parse({ state: { retentionDays: 90 } }).state.retentionDays, 90);
    for (const bad of [0, -1, 1.5, "30"])
      assert.equal(configSchema.safeParse({ state: { retentionDays: bad } }).success, false, String(bad));
  });
});
