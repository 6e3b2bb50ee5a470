import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { pathToFileURL } from "node:url";
import { TANDEM_CLI } from "../support/tandem-cli.js";

/**
 * Packages whose module graphs take a second or more to load and that a command needs only on some
 * paths: node-llama-cpp (about 1.4 s; the engine runs in a child of its own, and only `tandem gpu`
 * asks it for a report in the CLI's process) and gpt-tokenizer's o200k tables (about 0.8 s; used
 * when a vector store indexes a file), and the MCP SDK (about 0.25 s; its client side loads with the
 * first connection to an MCP server, `tandem mcp` loads its own, the server's `/mcp` with its first
 * request). Loaded at start, they made every command, `serve` included, start that much slower.
 */
const HEAVY = ["node-llama-cpp", "gpt-tokenizer", "@modelcontextprotocol/sdk"];

/**
 * The server's own packages (Fastify, zod for every provider's config schema, undici): a command that
 * only talks to a running server, or prints its help, starts in a third of the time without them.
 */
const SERVER = ["fastify", "zod", "undici"];

const dir = mkdtempSync(join(tmpdir(), "tandem-startup-"));
after(() => rmSync(dir, { recursive: true, force: true }));

// A module hook that reports to stderr every package a module is loaded from.
const hook = join(dir, "hook.mjs");
writeFileSync(
  hook,
  `export async function load(url, context, next) {
  const m = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(url);
  if (m) process.stderr.write("loaded-package " + m[1] + "\\n");
  return next(url, context);
}
`,
);
const register = join(dir, "register.mjs");
writeFileSync(register, `import { register } from "node:module"; register(${JSON.stringify(pathToFileURL(hook).href)});\n`);

/** Runs the CLI with `args` until `done(stderr)` says so (or it exits); the packages it loaded. */
function packagesLoaded(args: string[], done: (stderr: string) => boolean = () => false): Promise<Set<string>> {
  const child = spawn(process.execPath, ["--import", register, TANDEM_CLI, ...args], {
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      XDG_CONFIG_HOME: join(dir, "config"),
      XDG_DATA_HOME: join(dir, "data"),
      OLLAMA_HOST: "127.0.0.1:9",
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`tandem ${args.join(" ")} did not finish: ${stderr.slice(-2000)}`));
    }, 60_000);
    const finish = () => {
      clearTimeout(timer);
      child.kill("SIGTERM");
      resolve(new Set([...stderr.matchAll(/^loaded-package (\S+)$/gm)].map((m) => m[1] as string)));
    };
    child.stderr.on("data", (d) => {
      stderr += d;
      if (done(stderr)) finish();
    });
    child.on("exit", finish);
  });
}

describe("what the CLI loads at start", () => {
  it("tandem --version loads none of node-llama-cpp, the tokenizer tables, the MCP SDK or the server", async () => {
    const loaded = await packagesLoaded(["--version"]);
    assert.ok(loaded.has("commander"), "the hook sees the packages the CLI loads");
    for (const name of [...HEAVY, ...SERVER]) assert.equal(loaded.has(name), false, `${name} loaded by tandem --version`);
  });

  it("tandem serve loads none of them until a request needs them", async () => {
    const config = join(dir, "tandem.config.yaml");
    writeFileSync(
      config,
      [
        `dataDir: "${join(dir, "serve-data")}"`,
        "store: { enabled: false }",
        "providers:",
        '  local: { kind: llamacpp, threads: 1, models: { tiny: { path: "missing.gguf" } } }',
        "",
      ].join("\n"),
    );
    const loaded = await packagesLoaded(["serve", "--config", config, "--port", "0"], (stderr) =>
      /listening on http:\/\/127\.0\.0\.1:\d+/.test(stderr),
    );
    assert.ok(loaded.has("fastify"), "the server started");
    for (const name of HEAVY) assert.equal(loaded.has(name), false, `${name} loaded by tandem serve`);
  });
});
