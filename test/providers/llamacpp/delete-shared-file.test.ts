/**
 * Ollama's /api/delete on a model whose file other names still serve: as Ollama never removes a blob
 * another model uses, the delete is refused (400) and the file stays, rather than taking it from the
 * other configured models and from the file's own name in the models folder. A model whose file no
 * other name serves is deleted as before. No engine is started: nothing is loaded.
 */
import assert from "node:assert/strict";
import { copyFile, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { GatewayError } from "../../../src/core/index.js";
import { LlamaCppProvider } from "../../../src/providers/llamacpp/llamacpp-provider.js";
import { sharedModel } from "../../support/local-models.js";

let dataDir: string;
let provider: LlamaCppProvider;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "tandem-delete-shared-"));
  const models = join(dataDir, "models");
  await mkdir(models);
  await copyFile(sharedModel("stories260K.gguf"), join(models, "stories260K.gguf"));
  await copyFile(sharedModel("stories260K.gguf"), join(models, "alone.gguf"));
  provider = new LlamaCppProvider({
    id: "local",
    dataDir,
    threads: 1,
    models: {
      st: { path: join(models, "stories260K.gguf"), contextSize: 256 },
      big: { path: "models/stories260K.gguf", contextSize: 2048 },
      alone: { path: "models/alone.gguf", contextSize: 512 },
    },
  });
});

after(async () => {
  await provider?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

const refusedNaming =
  (...names: string[]) =>
  (err: unknown) =>
    err instanceof GatewayError &&
    err.code === "invalid_request" &&
    names.every((name) => err.message.includes(name)) &&
    /not deleted/.test(err.message);

describe("deleting a model whose file other names serve", () => {
  it("refuses a configured model whose file another configured model and the folder's own name serve", async () => {
    await assert.rejects(
      provider.deleteModel("st"),
      refusedNaming("local/big", "local/stories260K", "providers.local.models.st"),
    );
    assert.ok(await exists(join(dataDir, "models", "stories260K.gguf")));
  });

  it("refuses the folder's own name of a file the config serves under other names", async () => {
    await assert.rejects(provider.deleteModel("stories260K"), refusedNaming("local/st", "local/big"));
    assert.ok(await exists(join(dataDir, "models", "stories260K.gguf")));
  });

  it("deletes a configured model whose file no other name serves (its own name in the folder)", async () => {
    await provider.deleteModel("alone");
    assert.equal(await exists(join(dataDir, "models", "alone.gguf")), false);
  });
});
