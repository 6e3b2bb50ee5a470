import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { GatewayError } from "../../../src/core/index.js";
import { cpuBinaryPackage, engineDir } from "../../../src/providers/llamacpp/gpu-packages.js";
import { detectGpu } from "../../../src/providers/llamacpp/gpu-setup.js";
import { LlamaCppProvider } from "../../../src/providers/llamacpp/index.js";
import { sharedModel } from "../../support/local-models.js";
import { startTandem } from "../../support/tandem.js";

/**
 * An install made with `npm install -g tandem --omit=optional` has no node-llama-cpp binary package
 * at all. These tests make the engine child see exactly that (a resolve hook, loaded into the child
 * through NODE_OPTIONS, hides every `@node-llama-cpp/*` package except those in the engine dir) and
 * give npm a registry on 127.0.0.1 that serves the real CPU package, packed from node_modules.
 */

const STORIES = sharedModel("stories260K.gguf");
const CPU_PACKAGE = cpuBinaryPackage(process.platform, process.arch);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
const NODE_LLAMA_CPP = join(ROOT, "node_modules", "node-llama-cpp");
const VERSION = JSON.parse(await readFile(join(NODE_LLAMA_CPP, "package.json"), "utf8")).version as string;
const LOCAL_BUILDS = join(NODE_LLAMA_CPP, "llama", "localBuilds");

/** Resolve hooks for the engine child: `@node-llama-cpp/*` resolves only from an engine dir (`<dataDir>/engine`). */
const HIDE_HOOKS = `
export async function resolve(specifier, context, next) {
  if (specifier.startsWith("@node-llama-cpp/") && !/[\\\\/]engine[\\\\/]package\\.json$/.test(context.parentURL ?? "")) {
    const err = new Error("Cannot find package '" + specifier + "' (left out, as by --omit=optional)");
    err.code = "ERR_MODULE_NOT_FOUND";
    throw err;
  }
  return next(specifier, context);
}
`;

describe("the engine without node-llama-cpp's prebuilt binaries (npm install --omit=optional)", {
  skip: CPU_PACKAGE === undefined && "node-llama-cpp publishes no CPU build for this platform",
}, () => {
  let dir: string;

  /** A local provider on the tiny stories model, with a data dir of its own and its engine's log lines. */
  async function storiesProvider(): Promise<{ dataDir: string; logs: string[]; provider: LlamaCppProvider }> {
    const dataDir = await mkdtemp(join(dir, "data-"));
    const logs: string[] = [];
    const provider = new LlamaCppProvider({
      id: "local",
      dataDir,
      threads: 1,
      onLog: (line) => logs.push(line),
      models: { stories: { path: STORIES, contextSize: 256 } },
    });
    return { dataDir, logs, provider };
  }
  let registry: Server;
  /** What the registry answers: the real package, 404 for everything (a registry without it), or nothing at all. */
  let serving: boolean | "never" = true;
  const held: ServerResponse[] = [];
  const asked: string[] = [];
  let hadLocalBuilds: boolean;
  const name = CPU_PACKAGE as string;

  before(async () => {
    hadLocalBuilds = existsSync(LOCAL_BUILDS);
    dir = await mkdtemp(join(tmpdir(), "tandem-engine-install-"));
    const packed = JSON.parse(
      (
        await promisify(execFile)(
          "npm",
          ["pack", join(ROOT, "node_modules", ...name.split("/")), "--pack-destination", dir, "--json"],
          {
            cwd: dir,
            env: { ...process.env, npm_config_registry: "http://127.0.0.1:9/", npm_config_update_notifier: "false" },
          },
        )
      ).stdout,
    ) as { filename: string }[];
    const tarball = await readFile(join(dir, (packed[0] as { filename: string }).filename));
    const manifest = JSON.parse(await readFile(join(ROOT, "node_modules", ...name.split("/"), "package.json"), "utf8"));
    registry = createServer((req, res) => {
      const url = decodeURIComponent(req.url ?? "");
      asked.push(url);
      if (serving === "never") {
        held.push(res);
        return;
      }
      const base = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;
      if (serving && url === `/${name}`) {
        const integrity = `sha512-${createHash("sha512").update(tarball).digest("base64")}`;
        const version = { ...manifest, dist: { tarball: `${base}/tarballs/cpu.tgz`, integrity } };
        res
          .writeHead(200, { "content-type": "application/json" })
          .end(JSON.stringify({ name, "dist-tags": { latest: VERSION }, versions: { [VERSION]: version } }));
      } else if (serving && url === "/tarballs/cpu.tgz") {
        res.writeHead(200, { "content-type": "application/octet-stream" }).end(tarball);
      } else {
        res.writeHead(404, { "content-type": "application/json" }).end('{"error":"Not found"}');
      }
    });
    await new Promise<void>((resolve) => registry.listen(0, "127.0.0.1", resolve));
    // The engine child and npm inherit this process's environment (this file runs in a process of its own).
    const hooks = join(dir, "hide-hooks.mjs");
    const register = join(dir, "hide-binaries.mjs");
    await writeFile(hooks, HIDE_HOOKS);
    await writeFile(
      register,
      `import { register } from "node:module";\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`,
    );
    process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ""} --import ${pathToFileURL(register).href}`.trim();
    Object.assign(process.env, {
      npm_config_registry: `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`,
      npm_config_cache: join(dir, "npm-cache"),
      npm_config_userconfig: join(dir, "npmrc"),
      npm_config_update_notifier: "false",
      npm_config_fetch_retries: "0",
    });
  });

  after(async () => {
    for (const res of held) res.destroy();
    registry.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("installs the CPU build of node-llama-cpp's exact version into <dataDir>/engine on first start, then runs on it", async () => {
    const { dataDir, logs, provider } = await storiesProvider();
    try {
      await provider.preload("stories", undefined, new AbortController().signal);
      assert.equal(provider.engineState().backend?.gpu, process.platform === "darwin" ? "metal" : "cpu");
      assert.equal(provider.loadedModels()[0]?.name, "stories");
      const installed = JSON.parse(
        await readFile(join(engineDir(dataDir), "node_modules", ...name.split("/"), "package.json"), "utf8"),
      ) as { name: string; version: string };
      assert.deepEqual([installed.name, installed.version], [name, VERSION]);
      assert.deepEqual((await detectGpu(dataDir, process.env)).cpuBuild, { package: `${name}@${VERSION}`, where: "engine" });
      assert.ok(asked.includes(`/${name}`), asked.join(" "));
      const text = logs.join("\n");
      assert.match(text, new RegExp(`found no prebuilt llama\\.cpp binary .*: installing ${name}@${VERSION} into `));
      assert.match(text, /^npm: /m); // npm's own progress lines reach the log
      assert.match(text, new RegExp(`installed ${name}@${VERSION}; starting the engine`));
      // A restarted engine finds it there at once: nothing is installed again.
      const before = asked.length;
      provider.engine.kill("test");
      await provider.preload("stories", undefined, new AbortController().signal);
      assert.equal(asked.length, before);
    } finally {
      await provider.close();
    }
  });

  it("fails with an error that says what to run when the registry does not have it, without building from source", async () => {
    serving = false;
    const { dataDir, logs, provider } = await storiesProvider();
    try {
      const failure = async () => {
        try {
          await provider.preload("stories", undefined, new AbortController().signal);
        } catch (err) {
          return err;
        }
        assert.fail("the engine started without a binary");
      };
      const err = await failure();
      assert.ok(err instanceof GatewayError, String(err));
      assert.equal(err.code, "unavailable");
      assert.equal(err.retryable, false);
      assert.equal(
        err.message,
        `The local engine has no llama.cpp binary for ${process.platform}-${process.arch}, and installing ${name}@${VERSION} from the npm registry failed (exit code 1). Reinstall tandem without --omit=optional, or run \`tandem gpu install cpu\` once the npm registry is reachable.`,
      );
      assert.ok(!err.message.includes(dataDir), "no machine path in a client-facing error");
      assert.ok(asked.includes(`/${name}`));
      // The next request gets the same answer at once instead of running npm again.
      const before = asked.length;
      const again = await failure();
      assert.equal((again as GatewayError).message, err.message);
      assert.equal(asked.length, before);
      assert.equal(provider.engineState().running, false);
      // No build from source was tried: no local build folder appeared, no cmake or clone in the log.
      assert.equal(existsSync(LOCAL_BUILDS), hadLocalBuilds);
      assert.doesNotMatch(logs.join("\n"), /cmake|clon|build(ing)? from source|compil/i);
      assert.deepEqual(await readdir(join(engineDir(dataDir), "node_modules")).catch(() => []), []);
    } finally {
      await provider.close();
      serving = true;
    }
  });
  it("gives a client the install's failure as a 503 in its own dialect, saying what to run", async () => {
    serving = false;
    const tandem = await startTandem({
      providers: {
        local: { kind: "llamacpp", threads: 1, models: { stories: { path: STORIES, contextSize: 256 } } },
      },
    });
    try {
      const res = await fetch(`${tandem.url}/v1/chat/completions`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ model: "local/stories", messages: [{ role: "user", content: "Once" }], max_tokens: 3 }),
      });
      const body = (await res.json()) as { error?: { message?: string; type?: string } };
      assert.equal(res.status, 503, JSON.stringify(body));
      assert.match(body.error?.message ?? "", /installing @node-llama-cpp\/\S+ from the npm registry failed/);
      assert.match(body.error?.message ?? "", /run `tandem gpu install cpu`/);
      assert.ok(!(body.error?.message ?? "").includes(tandem.dataDir), "no machine path in a client-facing error");
    } finally {
      await tandem.close();
      serving = true;
    }
  });

  it("stops npm when the engine is shut down during the install, instead of waiting for the registry", {
    timeout: 60_000,
  }, async () => {
    serving = "never";
    const { logs, provider } = await storiesProvider();
    try {
      const loading = provider.preload("stories", undefined, new AbortController().signal).then(
        () => undefined,
        (err: unknown) => err,
      );
      while (!logs.some((l) => l.includes("installing"))) await new Promise((r) => setTimeout(r, 50));
      // npm waits for a registry that never answers (its own timeout is minutes); closing stops it.
      await provider.close();
      const err = await loading;
      assert.ok(err instanceof GatewayError, String(err));
      assert.match(err.message, /shut down/);
    } finally {
      serving = true;
    }
  });
});
