import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../../../src/core/index.js";
import type { MemoryNeeds } from "../../../src/providers/llamacpp/engine-protocol.js";
import { checkModelFile, judgeFit } from "../../../src/providers/llamacpp/model-files.js";
import { sharedModel } from "../../support/local-models.js";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

function needs(overrides: Partial<MemoryNeeds> = {}): MemoryNeeds {
  return {
    path: "/models/big.gguf",
    gpuLayers: 0,
    totalLayers: 33,
    contextSize: 8192,
    sequences: 2,
    modelRam: 4 * GiB,
    modelVram: 0,
    contextRam: 1 * GiB,
    contextVram: 0,
    freeRam: 16 * GiB,
    freeVram: 0,
    insufficient: undefined,
    ...overrides,
  };
}

describe("checkModelFile", () => {
  it("reads a sound model's header, and refuses a missing file naming it", async () => {
    const info = await checkModelFile("local/stories", sharedModel("stories260K.gguf"));
    assert.equal(info.architecture, "llama");
    await assert.rejects(
      checkModelFile("local/none", "/nowhere/none.gguf"),
      (err: unknown) =>
        err instanceof GatewayError && err.code === "unavailable" && !err.retryable && /none\.gguf/.test(err.message),
    );
  });
});

describe("judgeFit", () => {
  it("lets a model whose weights and context fit in free RAM load", () => {
    const fit = judgeFit(needs());
    assert.equal(fit.fits, true);
    assert.equal(fit.reason, undefined);
  });

  it("counts weights and context together, and names the file, the context and the sizes when RAM is short", () => {
    const fit = judgeFit(needs({ freeRam: 4.5 * GiB }));
    assert.equal(fit.fits, false);
    assert.match(
      fit.reason ?? "",
      /^\/models\/big\.gguf with a 8192-token context x 2 sequences needs about 5\.0 GiB of RAM \(weights 4\.0 GiB, context 1\.0 GiB\); 4\.5 GiB is free\.$/,
    );
  });

  it("does not refuse a model offloaded to the GPU for RAM it does not use, but does for VRAM that is short", () => {
    const offloaded = needs({ gpuLayers: 33, modelRam: 200 * MiB, contextRam: 50 * MiB, modelVram: 4 * GiB, contextVram: GiB });
    assert.equal(judgeFit({ ...offloaded, freeRam: GiB, freeVram: 8 * GiB }).fits, true);
    const short = judgeFit({ ...offloaded, freeRam: GiB, freeVram: 3 * GiB });
    assert.equal(short.fits, false);
    assert.match(short.reason ?? "", /needs about 5\.0 GiB of VRAM \(33\/33 layers on the GPU\); 3\.0 GiB is free/);
  });

  it("refuses what node-llama-cpp itself found no fitting configuration for, with its words", () => {
    const fit = judgeFit(needs({ insufficient: "Not enough VRAM to fit the model with the specified settings" }));
    assert.equal(fit.fits, false);
    assert.match(
      fit.reason ?? "",
      /does not fit: Not enough VRAM to fit the model with the specified settings \(16\.0 GiB RAM, 0 MiB VRAM free\)/,
    );
  });
});
