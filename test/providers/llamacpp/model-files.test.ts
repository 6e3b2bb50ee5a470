import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../../../src/core/index.js";
import { checkModelFile } from "../../../src/providers/llamacpp/model-files.js";
import { sharedModel } from "../../support/local-models.js";

describe("checkModelFile", () => {
  it("reads a sound model's header and refuses one too large for free memory, saying how much it needs", async () => {
    const path = sharedModel("stories260K.gguf");
    const info = await checkModelFile("local/stories", path, () => 8 * 1024 ** 3);
    assert.equal(info.architecture, "llama");
    await assert.rejects(
      checkModelFile("local/stories", path, () => 100 * 1024 ** 2),
      (err: unknown) =>
        err instanceof GatewayError &&
        err.code === "unavailable" &&
        !err.retryable &&
        /needs about 0\.3 GiB of memory; 0\.1 GiB is free/.test(err.message),
    );
  });
});
