import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Command } from "commander";
import { getLlamaGpuTypes } from "node-llama-cpp";
import type { CommandIo } from "../../src/cli/command-io.js";
import { gpuCommand } from "../../src/cli/gpu.js";
import { binaryPackages, cpuBinaryPackage } from "../../src/providers/llamacpp/gpu-packages.js";
import { sharedModel } from "../support/local-models.js";
import { startTandem } from "../support/tandem.js";

class Exited extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

/** Runs `tandem gpu ...` in this process, capturing its output and exit code. */
async function gpu(args: string[], env: NodeJS.ProcessEnv) {
  let stdout = "";
  let stderr = "";
  let code: number | undefined;
  const io: CommandIo = {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
    setExitCode: (c) => {
      code = c;
    },
    exit: (c) => {
      throw new Exited(c);
    },
  };
  const program = new Command("tandem").exitOverride().addCommand(gpuCommand(io));
  try {
    await program.parseAsync(["gpu", ...args], { from: "user" });
  } catch (err) {
    if (!(err instanceof Exited)) throw err;
    code = err.code;
  }
  return { code: code ?? 0, stdout, stderr };
}

const hasGpu = (await getLlamaGpuTypes("supported")).some((t) => t !== false);
const VULKAN = binaryPackages(process.platform, process.arch, "vulkan");

describe("tandem gpu", () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  /** A registry on 127.0.0.1 that has no packages at all, and the paths npm asked it for. */
  let registry: Server;
  const asked: string[] = [];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tandem-gpu-cli-"));
    registry = createServer((req, res) => {
      asked.push(req.url ?? "");
      res.writeHead(404, { "content-type": "application/json" }).end('{"error":"Not found"}');
    });
    await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
    env = {
      PATH: process.env.PATH,
      HOME: dir,
      npm_config_registry: `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`,
      npm_config_cache: join(dir, "npm-cache"),
      npm_config_userconfig: join(dir, "npmrc"),
      npm_config_update_notifier: "false",
    };
  });

  after(async () => {
    registry.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("reports the CPU and why on a machine without a GPU", { skip: hasGpu && "this machine has a GPU" }, async () => {
    const text = await gpu(["--data-dir", dir], env);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^platform: \w+-\w+, node-llama-cpp \d+\.\d+\.\d+$/m);
    assert.match(text.stdout, /^GPU: none; the engine runs on the CPU$/m);
    assert.match(text.stdout, /^why: no GPU found: node-llama-cpp found no NVIDIA driver .* and no Vulkan loader/m);
    assert.match(text.stdout, /^tools: nvidia-smi not found, vulkaninfo not found$/m);
    const cpu = cpuBinaryPackage(process.platform, process.arch);
    if (cpu) assert.ok(text.stdout.includes(`\nCPU build: ${cpu}@`), text.stdout);
    assert.match(text.stdout, /^CPU build: \S+@\d+\.\d+\.\d+, installed with tandem$/m);
    const json = await gpu(["--json", "--data-dir", dir], env);
    const report = JSON.parse(json.stdout) as {
      found: string[];
      best?: string;
      packages: string[];
      engineDir: string;
      cpuBuild?: { where: string };
    };
    assert.deepEqual(report.found, []);
    assert.equal(report.best, undefined);
    assert.deepEqual(report.packages, []);
    assert.equal(report.engineDir, join(dir, "engine"));
    assert.equal(report.cpuBuild?.where, "node_modules");
    // With nothing found, installing needs a backend named.
    const install = await gpu(["install", "--data-dir", dir], env);
    assert.equal(install.code, 1);
    assert.match(install.stderr, /no GPU found.*Name a backend \(cuda, vulkan\)/);
  });

  it("plans an install of the build at node-llama-cpp's exact version into <dataDir>/engine without touching anything", async () => {
    const version = JSON.parse(
      await readFile(join(import.meta.dirname, "../../node_modules/node-llama-cpp/package.json"), "utf8"),
    ).version as string;
    const plan = await gpu(["install", "cuda", "--dry-run", "--data-dir", dir], env);
    assert.equal(plan.code, 0, plan.stderr);
    const packages = binaryPackages(process.platform, process.arch, "cuda");
    if (packages.length === 0) return;
    for (const p of packages) assert.ok(plan.stdout.includes(`${p}@${version}`), plan.stdout);
    assert.ok(plan.stdout.includes(`npm install --prefix ${join(dir, "engine")} `), plan.stdout);
    assert.equal(existsSync(join(dir, "engine")), false);
  });

  it("plans an install of the CPU build (left out by npm install --omit=optional) at the exact version", {
    skip: cpuBinaryPackage(process.platform, process.arch) === undefined && "no CPU build for this platform",
  }, async () => {
    const version = JSON.parse(
      await readFile(join(import.meta.dirname, "../../node_modules/node-llama-cpp/package.json"), "utf8"),
    ).version as string;
    const plan = await gpu(["install", "cpu", "--dry-run", "--data-dir", dir], env);
    assert.equal(plan.code, 0, plan.stderr);
    assert.equal(
      plan.stdout,
      `would install ${cpuBinaryPackage(process.platform, process.arch)}@${version} into ${join(dir, "engine")}:\n  npm install --prefix ${join(dir, "engine")} --no-audit --no-fund --omit=dev --loglevel=http ${cpuBinaryPackage(process.platform, process.arch)}@${version}\n`,
    );
    assert.equal(existsSync(join(dir, "engine")), false);
  });

  it("refuses an unknown backend as a usage error", async () => {
    const res = await gpu(["install", "opencl", "--data-dir", dir], env);
    assert.equal(res.code, 2);
    assert.match(res.stderr, /unknown backend 'opencl' \(cuda, vulkan, metal or cpu\)/);
  });

  it("fails cleanly when the registry has no such package, leaving the engine on its CPU build", {
    skip: VULKAN.length === 0 && "no Vulkan build for this platform",
  }, async () => {
    const res = await gpu(["install", "vulkan", "--data-dir", dir], env);
    assert.equal(res.code, 1, res.stdout + res.stderr);
    assert.match(res.stderr, /installing @node-llama-cpp\/\S+-vulkan@\d+\.\d+\.\d+ into /);
    assert.match(res.stderr, /npm failed \(exit code \d+\); the engine stays on its CPU build\./);
    // npm really asked the registry it was pointed at, and for that package.
    assert.ok(
      asked.some((u) => decodeURIComponent(u).includes((VULKAN[0] as string).slice(1))),
      asked.join(" "),
    );
    assert.equal(existsSync(join(dir, "engine", "node_modules", ...(VULKAN[0] as string).split("/"))), false);
  });

  it("gpu status finds the server at TANDEM_URL and sends TANDEM_API_KEY, as the other client commands do", async () => {
    const tandem = await startTandem({}, { clientKeys: ["client-key-1"] });
    try {
      const withKey = await gpu(["status"], { ...env, TANDEM_URL: tandem.url, TANDEM_API_KEY: "client-key-1" });
      assert.equal(withKey.code, 0, withKey.stderr);
      assert.equal(withKey.stdout, "no local engine is configured\n");
      const withoutKey = await gpu(["status"], { ...env, TANDEM_URL: tandem.url });
      assert.equal(withoutKey.code, 1);
      // The server's message and the status, as `tandem ps` prints them; not the raw JSON body.
      assert.match(withoutKey.stderr, /^tandem gpu status: Invalid or missing API key: .* \(401\)\n$/);
      assert.doesNotMatch(withoutKey.stderr, /\{"error"/);
      const flag = await gpu(["status", "--key", "client-key-1"], { ...env, TANDEM_URL: tandem.url });
      assert.equal(flag.code, 0, flag.stderr);
      assert.match(flag.stderr, /warning: --key is visible to other users/);
    } finally {
      await tandem.close();
    }
  });

  it("gpu status shows the running engine's backend, devices and memory, as /v1/status does", async () => {
    const tandem = await startTandem({
      providers: {
        local: { kind: "llamacpp", threads: 1, models: { stories: { path: sharedModel("stories260K.gguf"), contextSize: 256 } } },
      },
    });
    try {
      const before = await gpu(["status", "--url", tandem.url], env);
      assert.equal(before.code, 0, before.stderr);
      assert.equal(before.stdout, "local: not started (starts on first use)\n");
      const res = await fetch(`${tandem.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "local/stories", messages: [{ role: "user", content: "Once" }], max_tokens: 3 }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      const status = (await (await fetch(`${tandem.url}/v1/status`)).json()) as {
        providers: {
          engine?: { backend?: { gpu: string; requested: string; devices: string[] }; memory?: { ram: { total: number } } };
        }[];
      };
      const engine = status.providers[0]?.engine;
      assert.equal(engine?.backend?.requested, "auto");
      assert.equal(engine?.backend?.gpu, hasGpu ? engine?.backend?.gpu : "cpu");
      assert.ok(Array.isArray(engine?.backend?.devices));
      assert.ok((engine?.memory?.ram.total ?? 0) > 0);
      const after = await gpu(["status", "--url", tandem.url], env);
      assert.match(
        after.stdout,
        /^local: backend (cpu|cuda|vulkan|metal).*, RAM [\d.]+\/[\d.]+ GiB in use \(engine [\d.]+ GiB\)/,
      );
    } finally {
      await tandem.close();
    }
  });
});
