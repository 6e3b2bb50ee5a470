import assert from "node:assert/strict";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GatewayError } from "../../../src/core/index.js";
import { binaryPackages, engineDir } from "../../../src/providers/llamacpp/gpu-packages.js";
import { LlamaCppProvider } from "../../../src/providers/llamacpp/index.js";
import { sharedModel } from "../../support/local-models.js";

const STORIES = sharedModel("stories260K.gguf");

/** A copy of a llama GGUF whose metadata says it was trained on `tokens` (its uint32 `llama.context_length`, set in place). */
function withTrainedContext(gguf: Buffer, tokens: number): Buffer {
  const copy = Buffer.from(gguf);
  const key = Buffer.from("llama.context_length");
  const at = copy.indexOf(key);
  assert.ok(at > 8 && copy.readBigUInt64LE(at - 8) === BigInt(key.length), "the model's metadata has llama.context_length");
  assert.equal(copy.readUInt32LE(at + key.length), 4, "llama.context_length is a uint32");
  copy.writeUInt32LE(tokens, at + key.length + 4);
  return copy;
}
const VULKAN_PACKAGE = binaryPackages(process.platform, process.arch, "vulkan")[0];

/** A stand-in for a prebuilt binary package in `<dataDir>/engine`, with the given index.js. */
async function fakeBinaryPackage(dataDir: string, name: string, indexJs: string): Promise<void> {
  const dir = join(engineDir(dataDir), "node_modules", ...name.split("/"));
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, "package.json"), JSON.stringify({ name, version: "3.21.1", main: "index.js" }));
  await writeFile(join(dir, "index.js"), indexJs);
}

describe("the engine's backend on a machine without a GPU", () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "tandem-gpu-"));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("runs on the CPU by default (gpu auto), says why, and uses llama.cpp's math cores as threads", async () => {
    const provider = new LlamaCppProvider({
      id: "local",
      dataDir: dir,
      models: { stories: { path: STORIES, contextSize: 256 } },
    });
    try {
      await provider.preload("stories", undefined, new AbortController().signal);
      const state = provider.engineState();
      assert.equal(state.backend?.requested, "auto");
      assert.equal(state.backend?.gpu, "cpu");
      assert.deepEqual(state.backend?.devices, []);
      assert.match(state.backend?.fallback ?? "", /no GPU found/);
      assert.match(state.engine ?? "", /\(cpu\)$/);
      const cores = state.backend?.cpuMathCores ?? 0;
      assert.ok(cores >= 1);
      const [loaded] = provider.loadedModels();
      assert.equal(loaded?.threads, Math.max(1, Math.min(cores, availableParallelism())));
      assert.equal(loaded?.gpuLayers, 0);
      // The status's memory figures come from the engine (node-llama-cpp's RAM state), after the load.
      await provider.engine.ping();
      const memory = provider.engineState().memory;
      assert.ok(memory && memory.ram.total > 0 && memory.ram.free > 0 && memory.rssBytes > 0);
      assert.equal(memory.vram.total, 0);
    } finally {
      await provider.close();
    }
  });

  it("falls back to the CPU, saying so, when the GPU build asked for is not installed", async () => {
    const provider = new LlamaCppProvider({
      id: "local",
      dataDir: dir,
      gpu: "cuda",
      threads: 1,
      models: { stories: { path: STORIES, contextSize: 256 } },
    });
    try {
      await provider.preload("stories", undefined, new AbortController().signal);
      const backend = provider.engineState().backend;
      assert.equal(backend?.requested, "cuda");
      assert.equal(backend?.gpu, "cpu");
      assert.match(backend?.fallback ?? "", /^cuda was asked for but/);
      assert.match(backend?.fallback ?? "", /running on the CPU$/);
    } finally {
      await provider.close();
    }
  });

  it("finds binary packages in <dataDir>/engine, and restarts on the CPU when a GPU build kills the engine as it starts", {
    skip: VULKAN_PACKAGE ? false : "no Vulkan package for this platform",
  }, async () => {
    const own = await mkdtemp(join(tmpdir(), "tandem-gpu-crash-"));
    // node-llama-cpp imports the package when it looks for the Vulkan binary: this one aborts the process.
    await fakeBinaryPackage(own, VULKAN_PACKAGE as string, "process.abort();\n");
    const logs: string[] = [];
    const provider = new LlamaCppProvider({
      id: "local",
      dataDir: own,
      gpu: "vulkan",
      threads: 1,
      onLog: (line) => logs.push(line),
      models: { stories: { path: STORIES, contextSize: 256 } },
    });
    try {
      await provider.preload("stories", undefined, new AbortController().signal);
      const state = provider.engineState();
      assert.equal(state.backend?.gpu, "cpu");
      assert.equal(state.backend?.requested, "vulkan");
      assert.match(state.backend?.fallback ?? "", /the engine on vulkan failed to start \(signal SIGABRT\).*running on the CPU/);
      assert.ok(logs.some((l) => /starting it on the CPU/.test(l)));
      // It stays on the CPU: a later restart does not try the crashing build again.
      provider.engine.kill("test");
      await provider.preload("stories", undefined, new AbortController().signal);
      assert.equal(provider.engineState().backend?.gpu, "cpu");
    } finally {
      await provider.close();
      await rm(own, { recursive: true, force: true });
    }
  });

  it("refuses a model whose context does not fit in memory with a 503 naming the file and the sizes, loading nothing", async () => {
    // A configured window is capped at the model's trained context (2,048 tokens here), so the vast one
    // is the same model saying it was trained on 2^27 tokens.
    const vastFile = join(dir, "vast", "stories260K.gguf");
    await mkdir(join(dir, "vast"), { recursive: true });
    await writeFile(vastFile, withTrainedContext(await readFile(STORIES), 2 ** 27));
    const provider = new LlamaCppProvider({
      id: "local",
      dataDir: dir,
      threads: 1,
      models: { stories: { path: STORIES, contextSize: 256 }, vast: { path: vastFile, contextSize: 2 ** 27 } },
    });
    try {
      const fit = await provider.fitsInMemory("stories");
      assert.equal(fit.fits, true);
      assert.ok(fit.needs.modelRam > 0 && fit.needs.contextRam > 0 && fit.needs.freeRam > 0);
      const vast = await provider.fitsInMemory("vast");
      assert.equal(vast.fits, false);
      let err: unknown;
      try {
        await provider.preload("vast", undefined, new AbortController().signal);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof GatewayError, String(err));
      assert.equal(err.code, "unavailable");
      assert.equal(err.retryable, false);
      assert.match(
        err.message,
        /local\/vast cannot be loaded: .*stories260K\.gguf with a 134217728-token context x 2 sequences needs about [\d.]+ GiB of RAM .* GiB is free\./,
      );
      assert.deepEqual(
        provider.loadedModels().map((m) => m.name),
        [],
      );
    } finally {
      await provider.close();
    }
  });
});
