/**
 * /api/tags and /api/show entries of a model an upstream Ollama lists: what that upstream said of
 * its file is shown field by field, and what it did not say keeps tandem's own value.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ModelEntry } from "../../../src/core/index.js";
import { modelDigest, renderOllamaShow, renderOllamaTagsEntry } from "../../../src/dialects/ollama/render-ollama-models.js";

const base: ModelEntry = {
  name: "ollama/old:latest",
  kind: "target",
  provider: "ollama",
  providerKind: "ollama",
  upstreamModel: "old:latest",
  created: 1_700_000_000,
};

describe("an upstream Ollama's model in /api/tags and /api/show", () => {
  it("fills in from tandem's own what an older upstream's list left out", () => {
    const entry: ModelEntry = { ...base, upstreamFile: { bytes: 42, family: "qwen2" } };
    assert.deepEqual(renderOllamaTagsEntry(entry), {
      name: "ollama/old:latest",
      model: "ollama/old:latest",
      modified_at: new Date(1_700_000_000_000).toISOString(),
      size: 42,
      digest: modelDigest("ollama/old:latest"),
      details: {
        parent_model: "",
        format: "remote",
        family: "qwen2",
        families: ["qwen2"],
        parameter_size: "",
        quantization_level: "",
      },
    });
  });

  it("shows the listed details in /api/show when the upstream could not describe the model", () => {
    const entry: ModelEntry = {
      ...base,
      upstreamFile: {
        format: "gguf",
        family: "llama",
        parameterSize: "3.2B",
        quantization: "Q4_K_M",
        modifiedAt: "2025-10-17T23:14:07.414671Z",
      },
    };
    const show = renderOllamaShow(entry);
    assert.equal(show.modified_at, "2025-10-17T23:14:07.414671Z");
    assert.deepEqual(show.details, {
      parent_model: "",
      format: "gguf",
      family: "llama",
      families: ["llama"],
      parameter_size: "3.2B",
      quantization_level: "Q4_K_M",
    });
  });
});
