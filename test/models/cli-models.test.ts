import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { formatBytes, formatDuration, type ModelsCommandIo, modelsCommand } from "../../src/cli/models.js";
import { type FakeHfHub, startFakeHfHub } from "../support/fake-hf-hub.js";
import { TANDEM_CLI } from "../support/tandem-cli.js";

// Resolved here, since the CLI runs in other working directories.
const MODELS = fileURLToPath(new URL("../../../shared/models/", import.meta.url));
const STORIES = readFileSync(join(MODELS, "stories260K.gguf"));

let hub: FakeHfHub;
/** The spawned CLI runs, started before the in-process tests so the slow process start-ups overlap them. */
let spawned: { dataDir: string; runs: Promise<[CliRun, CliRun]> };

interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

before(async () => {
  hub = await startFakeHfHub({
    repos: [
      { id: "Qwen/Qwen2.5-0.5B-Instruct-GGUF", files: [{ path: "qwen2.5-0.5b-instruct-q4_k_m.gguf", content: STORIES }] },
      { id: "bartowski/SmolLM2-360M-Instruct-GGUF", files: [{ path: "SmolLM2-360M-Instruct-Q4_K_M.gguf", content: STORIES }] },
    ],
  });
  const h = home();
  const dataDir = join(h, "from-env");
  spawned = {
    dataDir,
    // Side by side: each tandem process takes a second or two to start.
    runs: Promise.all([
      spawnCli(["pull", "qwen2.5-0.5b"], cleanEnv(h, { TANDEM_DATA_DIR: dataDir }), h),
      spawnCli(["pull"], cleanEnv(h), h),
    ]),
  };
});

after(() => hub.close());

/** A home with no config anywhere and the data dir where tandem would put it by default. */
function home(): string {
  return mkdtempSync(join(tmpdir(), "tandem-models-cli-"));
}

function cleanEnv(h: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: h,
    XDG_CONFIG_HOME: join(h, "config"),
    XDG_DATA_HOME: join(h, "data"),
    HF_ENDPOINT: hub.url,
    ...extra,
  };
}

/** A data dir holding a copy of the tiny story model, an unfinished download and a corrupt file. */
function populated(h: string): string {
  const dataDir = join(h, "populated");
  mkdirSync(join(dataDir, "models"), { recursive: true });
  copyFileSync(join(MODELS, "stories260K.gguf"), join(dataDir, "models", "stories.gguf"));
  copyFileSync(join(MODELS, "llama-2-tiny-random.gguf"), join(dataDir, "models", "tiny-random.gguf"));
  writeFileSync(join(dataDir, "models", "half.gguf.partial"), "x");
  return dataDir;
}

class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Runs `tandem models ...` in this process, capturing its output and exit code. */
async function runInProcess(args: string[], env: NodeJS.ProcessEnv, tty?: { columns: number }) {
  let stdout = "";
  let stderr = "";
  let code: number | undefined;
  const io: ModelsCommandIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text), isTTY: tty !== undefined, columns: tty?.columns },
    env,
    setExitCode: (c) => {
      code = c;
    },
    exit: (c) => {
      throw new Exited(c);
    },
  };
  const program = new Command("tandem").exitOverride().addCommand(modelsCommand(io));
  try {
    await program.parseAsync(["models", ...args], { from: "user" });
  } catch (err) {
    if (!(err instanceof Exited)) throw err;
    code = err.code;
  }
  return { code, stdout, stderr };
}

function spawnCli(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
  const child = spawn(process.execPath, [TANDEM_CLI, "models", ...args], {
    env,
    cwd,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d) => {
    stdout += d;
  });
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  return new Promise<CliRun>((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

describe("tandem models (in process)", () => {
  it("pulls with plain progress lines when stderr is not a terminal, and says when a model is there already", async () => {
    const h = home();
    const dataDir = join(h, "data");
    const first = await runInProcess(["pull", "smollm2-360m", "--data-dir", dataDir], cleanEnv(h));
    assert.equal(first.code, 0, first.stderr);
    const lines = first.stderr.trim().split("\n");
    assert.equal(
      lines[0],
      "pulling smollm2-360m: bartowski/SmolLM2-360M-Instruct-GGUF SmolLM2-360M-Instruct-Q4_K_M.gguf (alias)",
    );
    assert.match(lines[1] ?? "", /^smollm2-360m: 0% {2}0 B \/ 1\.2 MB$/);
    assert.match(lines.at(-2) ?? "", /^smollm2-360m: 100% {2}1\.2 MB \/ 1\.2 MB/);
    assert.equal(lines.at(-1), `verifying sha256 ${hub.sha256(STORIES).slice(0, 12)}...`);
    assert.ok(!first.stderr.includes("\r"), "no terminal control characters in a log");
    assert.match(
      first.stdout,
      /^pulled smollm2-360m \(1\.2 MB, F32, context 2048, sha256 verified\) into .*smollm2-360m\.gguf\n$/,
    );

    const again = await runInProcess(["pull", "smollm2-360m", "--data-dir", dataDir], cleanEnv(h));
    assert.equal(again.code, 0);
    assert.match(again.stdout, /^smollm2-360m is already installed at .* \(--force downloads it again\)\n$/);
  });

  it("draws a progress bar on a terminal", async () => {
    const h = home();
    const run = await runInProcess(["pull", "qwen2.5-0.5b", "--data-dir", join(h, "data")], cleanEnv(h), { columns: 100 });
    assert.equal(run.code, 0, run.stderr);
    const redraw = "\r\x1b[2K";
    assert.ok(run.stderr.includes(`${redraw}[${"#".repeat(30)}] 100%  1.2 MB / 1.2 MB`), JSON.stringify(run.stderr));
    assert.ok(run.stderr.includes(`${redraw}[${".".repeat(30)}] 0%  0 B / 1.2 MB`), JSON.stringify(run.stderr));
    // The last draw may end with the speed (a slow, loaded box measures one; a fast download has none).
    assert.match(
      run.stderr,
      /100% {2}1\.2 MB \/ 1\.2 MB( {2}[\d.]+ [kMG]?B\/s)?\nverifying sha256/,
      "the bar's line ends before the next message",
    );
  });

  it("lists as a table or JSON, removes, and reports failures in one line with exit 1", async () => {
    const h = home();
    const dataDir = populated(h);
    const table = await runInProcess(["list", "--data-dir", dataDir], cleanEnv(h));
    assert.equal(table.code, 0, table.stderr);
    assert.equal(
      table.stdout,
      [
        "NAME           SIZE  QUANT  CONTEXT  CHAT TEMPLATE",
        "stories      1.2 MB  F32       2048  no",
        "tiny-random  1.8 MB  F16       4096  no",
        "",
      ].join("\n"),
    );

    const json = await runInProcess(["list", "--json", "--data-dir", dataDir], cleanEnv(h));
    assert.equal(json.code, 0);
    const models = JSON.parse(json.stdout) as {
      name: string;
      size: number;
      quantization: string;
      contextLength: number;
      hasChatTemplate: boolean;
    }[];
    assert.deepEqual(
      models.map((m) => [m.name, m.size, m.quantization, m.contextLength, m.hasChatTemplate]),
      [
        ["stories", 1_185_376, "F32", 2048, false],
        ["tiny-random", 1_750_560, "F16", 4096, false],
      ],
    );

    const removed = await runInProcess(["rm", "stories", "--data-dir", dataDir], cleanEnv(h));
    assert.equal(removed.code, 0);
    assert.equal(removed.stdout, `removed stories (${join(dataDir, "models", "stories.gguf")})\n`);
    assert.equal(existsSync(join(dataDir, "models", "stories.gguf")), false);

    const unsafe = await runInProcess(["rm", "../stories", "--data-dir", dataDir], cleanEnv(h));
    assert.equal(unsafe.code, 1);
    assert.equal(unsafe.stderr, "tandem models rm: invalid model name '../stories': it contains a path separator\n");

    const gone = await runInProcess(["rm", "nothing", "--data-dir", dataDir], cleanEnv(h));
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /^tandem models rm: no model named 'nothing' in .* \(installed: tiny-random\)\n$/);

    const missing = await runInProcess(["pull", "nobody/nothing", "--data-dir", dataDir], cleanEnv(h));
    assert.equal(missing.code, 1);
    assert.equal(
      missing.stderr,
      "tandem models pull: repo nobody/nothing not found or gated: set HF_TOKEN if it is private or gated\n",
    );

    const empty = await runInProcess(["list", "--data-dir", join(h, "empty")], cleanEnv(h));
    assert.equal(empty.code, 0);
    assert.equal(empty.stdout, "");
    assert.match(empty.stderr, /^no models in .*empty\/models; get one with: tandem models pull qwen2\.5-0\.5b\n$/);
  });

  it("takes the data dir from the config file, and exits 2 on usage and config errors", async () => {
    const h = home();
    const dataDir = populated(h);
    writeFileSync(join(h, "tandem.yaml"), `dataDir: ${dataDir}\n`);
    const fromConfig = await runInProcess(["list", "--config", join(h, "tandem.yaml")], cleanEnv(h));
    assert.equal(fromConfig.code, 0, fromConfig.stderr);
    assert.match(fromConfig.stdout, /^stories /m);

    const noConfig = await runInProcess(["list", "--config", join(h, "missing.yaml")], cleanEnv(h));
    assert.equal(noConfig.code, 2);
    assert.match(noConfig.stderr, /^tandem models list: config error: .*missing\.yaml/);

    const unknownOption = await runInProcess(["list", "--bogus"], cleanEnv(h));
    assert.equal(unknownOption.code, 2);
    assert.match(unknownOption.stderr, /unknown option '--bogus'/);

    const badReference = await runInProcess(["pull", "a b c", "--data-dir", dataDir], cleanEnv(h));
    assert.equal(badReference.code, 2);
    assert.match(badReference.stderr, /expected an alias, a repo, or 'repo file'/);

    const localFile = join(MODELS, "stories260K.gguf");
    const local = await runInProcess(["pull", localFile, "--data-dir", dataDir], cleanEnv(h));
    assert.equal(local.code, 2);
    assert.ok(
      local.stderr.startsWith(
        `tandem models pull: '${localFile}' is a file on this machine: pulling downloads from Hugging Face`,
      ),
      local.stderr,
    );
    assert.match(local.stderr, /copy or link it into the models folder/);

    const noCommand = await runInProcess([], cleanEnv(h));
    assert.equal(noCommand.code, 2);
    assert.match(noCommand.stderr, /Usage: tandem models/);

    const help = await runInProcess(["pull", "--help"], cleanEnv(h));
    assert.equal(help.code, 0);
    assert.match(
      help.stdout,
      /Aliases:\n {2}qwen2\.5-0\.5b {3}Qwen\/Qwen2\.5-0\.5B-Instruct-GGUF qwen2\.5-0\.5b-instruct-q4_k_m\.gguf/,
    );
  });

  it("refuses to pull under a name the config gives another local model file, before downloading", async () => {
    const h = home();
    const dataDir = join(h, "data");
    const config = join(h, "tandem.yaml");
    writeFileSync(
      config,
      [
        `dataDir: ${dataDir}`,
        "providers:",
        "  local:",
        "    kind: llamacpp",
        "    models:",
        `      pinned: { path: ${join(MODELS, "stories260K.gguf")} }`,
        "",
      ].join("\n"),
    );
    const refused = await runInProcess(["pull", "qwen2.5-0.5b", "--name", "pinned", "--config", config], cleanEnv(h));
    assert.equal(refused.code, 2, refused.stderr);
    assert.match(refused.stderr, /^tandem models pull: local\/pinned is configured with the file .*stories260K\.gguf/);
    assert.equal(existsSync(join(dataDir, "models", "pinned.gguf")), false);
    assert.equal(existsSync(join(dataDir, "models", "pinned.gguf.partial")), false, "nothing was downloaded");

    // A data dir of its own has no configured models to shadow.
    const elsewhere = join(h, "elsewhere");
    const pulled = await runInProcess(["pull", "qwen2.5-0.5b", "--name", "pinned", "--data-dir", elsewhere], cleanEnv(h));
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.ok(existsSync(join(elsewhere, "models", "pinned.gguf")));
  });

  it("refuses to remove a file models in the config use, naming them, unless --force", async () => {
    const h = home();
    const dataDir = populated(h);
    const config = join(h, "tandem.yaml");
    writeFileSync(
      config,
      [
        `dataDir: ${dataDir}`,
        "providers:",
        "  local:",
        "    kind: llamacpp",
        "    models:",
        "      story: { path: models/stories.gguf }",
        `      stories: { path: ${join(dataDir, "models", "stories.gguf")}, contextSize: 512 }`,
        "",
      ].join("\n"),
    );
    // Before, the file went and the server listed both models with nothing to load.
    const refused = await runInProcess(["rm", "stories", "--config", config], cleanEnv(h));
    assert.equal(refused.code, 1);
    assert.equal(
      refused.stderr,
      `tandem models rm: stories is not deleted: its file ${join(dataDir, "models", "stories.gguf")} is used by local/story (providers.local.models.story), local/stories (providers.local.models.stories) in the config; take them out of the config first, or pass --force\n`,
    );
    assert.ok(existsSync(join(dataDir, "models", "stories.gguf")));
    // The same config found as the server finds it (TANDEM_CONFIG), with the data dir given outright.
    const viaEnv = await runInProcess(["rm", "stories", "--data-dir", dataDir], cleanEnv(h, { TANDEM_CONFIG: config }));
    assert.equal(viaEnv.code, 1);
    assert.match(viaEnv.stderr, /is used by local\/story/);

    // A model no configured one uses goes as before.
    const free = await runInProcess(["rm", "tiny-random", "--config", config], cleanEnv(h));
    assert.equal(free.code, 0, free.stderr);
    assert.equal(existsSync(join(dataDir, "models", "tiny-random.gguf")), false);

    const forced = await runInProcess(["rm", "stories", "--force", "--config", config], cleanEnv(h));
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(existsSync(join(dataDir, "models", "stories.gguf")), false);
  });

  it("removes with a warning when the config cannot be read and --data-dir says where the models are", async () => {
    const h = home();
    const dataDir = populated(h);
    const broken = join(h, "broken.yaml");
    writeFileSync(broken, "providers: [\n");
    const removed = await runInProcess(["rm", "stories", "--config", broken, "--data-dir", dataDir], cleanEnv(h));
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(
      removed.stderr,
      /^tandem models rm: warning: config not read, so not checked for models that use stories \(.*broken\.yaml.*\)\n$/,
    );
    assert.equal(existsSync(join(dataDir, "models", "stories.gguf")), false);
    // Without --data-dir the models folder is unknown: a config error, as before.
    const unknown = await runInProcess(["rm", "tiny-random", "--config", broken], cleanEnv(h));
    assert.equal(unknown.code, 2);
    assert.ok(existsSync(join(dataDir, "models", "tiny-random.gguf")));
  });

  it("formats sizes and durations", () => {
    assert.equal(formatBytes(0), "0 B");
    assert.equal(formatBytes(1_185_376), "1.2 MB");
    assert.equal(formatBytes(491_400_032), "491 MB");
    assert.equal(formatBytes(2_019_377_600), "2.0 GB");
    assert.equal(formatDuration(4.4), "4s");
    assert.equal(formatDuration(192), "3m12s");
    assert.equal(formatDuration(3900), "1h05m");
  });
});

describe("tandem models (spawned, end to end)", () => {
  it("pulls an alias from the hub into the data dir TANDEM_DATA_DIR names, and exits 2 on a usage error", async () => {
    const { dataDir, runs } = spawned;
    const [pulled, usage] = await runs;

    assert.equal(pulled.code, 0, pulled.stderr);
    const path = join(dataDir, "models", "qwen2.5-0.5b.gguf");
    assert.equal(pulled.stdout, `pulled qwen2.5-0.5b (1.2 MB, F32, context 2048, sha256 verified) into ${path}\n`);
    assert.ok(readFileSync(path).equals(STORIES));
    assert.match(
      pulled.stderr,
      /pulling qwen2\.5-0\.5b: Qwen\/Qwen2\.5-0\.5B-Instruct-GGUF qwen2\.5-0\.5b-instruct-q4_k_m\.gguf \(alias\)/,
    );
    assert.match(pulled.stderr, /qwen2\.5-0\.5b: 100% {2}1\.2 MB \/ 1\.2 MB/);

    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /error: missing required argument 'model'/);
  });
});
