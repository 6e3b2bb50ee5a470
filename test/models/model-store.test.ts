import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import type { GatewayError } from "../../src/core/index.js";
import {
  checkModelName,
  installedModelNames,
  listInstalledModels,
  modelsDir,
  removeModel,
  resolveModelPath,
} from "../../src/models/index.js";
import { buildLlamaLikeGguf } from "./gguf-builder.js";

const MODELS = fileURLToPath(new URL("../../../shared/models/", import.meta.url));

/** A data dir with two real models, a chat model, a corrupt file, an unfinished download and unrelated files. */
function populatedDataDir(): string {
  const dataDir = mkdtempSync(join(tmpdir(), "tandem-store-"));
  const dir = modelsDir(dataDir);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(MODELS, "stories260K.gguf"), join(dir, "stories260K.gguf"));
  copyFileSync(join(MODELS, "llama-2-tiny-random.gguf"), join(dir, "tiny-random.gguf"));
  writeFileSync(
    join(dir, "chat.gguf"),
    buildLlamaLikeGguf({ fileType: 15, chatTemplate: "{{ messages }}", contextLength: 32768 }),
  );
  writeFileSync(join(dir, "broken.gguf"), Buffer.from("<html>gateway timeout</html>"));
  writeFileSync(join(dir, "half.gguf.partial"), Buffer.alloc(100));
  writeFileSync(join(dir, "half.gguf.partial.json"), "{}");
  writeFileSync(join(dir, "notes.txt"), "x");
  writeFileSync(join(dir, ".hidden.gguf"), "x");
  mkdirSync(join(dir, "folder.gguf"));
  return dataDir;
}

describe("model store", () => {
  it("lists installed GGUF files with their metadata, and not partial downloads or other files", async () => {
    const dataDir = populatedDataDir();
    const models = await listInstalledModels(dataDir);
    assert.deepEqual(
      models.map((m) => m.name),
      ["broken", "chat", "stories260K", "tiny-random"],
    );
    const byName = Object.fromEntries(models.map((m) => [m.name, m]));
    assert.deepEqual(
      {
        path: byName.stories260K?.path,
        size: byName.stories260K?.size,
        quantization: byName.stories260K?.quantization,
        contextLength: byName.stories260K?.contextLength,
        hasChatTemplate: byName.stories260K?.hasChatTemplate,
        architecture: byName.stories260K?.architecture,
      },
      {
        path: join(dataDir, "models", "stories260K.gguf"),
        size: 1_185_376,
        quantization: "F32",
        contextLength: 2048,
        hasChatTemplate: false,
        architecture: "llama",
      },
    );
    assert.equal(byName["tiny-random"]?.quantization, "F16");
    assert.equal(byName["tiny-random"]?.contextLength, 4096);
    assert.equal(byName.chat?.quantization, "Q4_K_M");
    assert.equal(byName.chat?.contextLength, 32768);
    assert.equal(byName.chat?.hasChatTemplate, true);
    assert.match(byName.broken?.error ?? "", /broken\.gguf: not a GGUF file/);
    assert.equal(byName.broken?.quantization, undefined);
  });

  it("lists nothing for a data dir without models", async () => {
    assert.deepEqual(await listInstalledModels(join(tmpdir(), "tandem-no-such-dir")), []);
  });

  it("resolves a name to its path, and says what is installed when it is not", async () => {
    const dataDir = populatedDataDir();
    assert.equal(await resolveModelPath(dataDir, "stories260K"), join(dataDir, "models", "stories260K.gguf"));
    assert.equal(await resolveModelPath(dataDir, "stories260K.gguf"), join(dataDir, "models", "stories260K.gguf"));
    await assert.rejects(resolveModelPath(dataDir, "half"), (err: GatewayError) => {
      assert.equal(err.code, "not_found");
      assert.match(err.message, /no model named 'half' in .*models \(installed: broken, chat, stories260K, tiny-random\)/);
      return true;
    });
  });

  it("removes a model, and its unfinished download too", async () => {
    const dataDir = populatedDataDir();
    const dir = modelsDir(dataDir);
    const removed = await removeModel(dataDir, "stories260K");
    assert.deepEqual(removed, { name: "stories260K", removed: [join(dir, "stories260K.gguf")] });
    assert.equal(existsSync(join(dir, "stories260K.gguf")), false);
    const partial = await removeModel(dataDir, "half");
    assert.deepEqual(partial.removed, [join(dir, "half.gguf.partial"), join(dir, "half.gguf.partial.json")]);
    assert.deepEqual(await installedModelNames(dataDir), ["broken", "chat", "tiny-random"]);
    await assert.rejects(removeModel(dataDir, "stories260K"), /no model named 'stories260K'/);
  });

  it("refuses names that could reach outside the models folder", async () => {
    const dataDir = populatedDataDir();
    for (const [name, why] of [
      ["../config", /contains a path separator/],
      ["a/b", /contains a path separator/],
      ["a\\b", /contains a path separator/],
      ["..", /starts with '\.'/],
      [".hidden", /starts with '\.'/],
      ["", /is empty/],
      ["a\nb", /control character/],
    ] as const) {
      await assert.rejects(removeModel(dataDir, name), (err: GatewayError) => {
        assert.equal(err.code, "invalid_request");
        assert.match(err.message, why);
        return true;
      });
    }
    assert.equal(checkModelName("qwen2.5-0.5b.gguf"), "qwen2.5-0.5b");
    assert.ok(existsSync(join(dataDir, "models", "stories260K.gguf")));
  });
});
