import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, discoverConfig, loadConfig, ollamaOrigin } from "../../src/config/index.js";

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "tandem-config-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const noEnv = (dir: string): NodeJS.ProcessEnv => ({
  HOME: dir,
  XDG_CONFIG_HOME: join(dir, "cfg"),
  XDG_DATA_HOME: join(dir, "data"),
});

describe("loadConfig", () => {
  it("reads ./tandem.config.yaml with the DESIGN.md shape and fills defaults", async () => {
    const dir = dirWith({
      "tandem.config.yaml": `
server: { port: 4000 }
providers:
  openai: { kind: openai, apiKeys: [env:OPENAI_API_KEY], models: [gpt-4o-mini] }
  claude: { kind: anthropic, apiKeys: [keychain:anthropic] }
  ollama: { kind: ollama }
routes:
  auto:
    tiers: [openai/gpt-4o-mini, claude/claude-sonnet-4-5]
    onExhausted: notice
  private: { tiers: [[ollama/llama3.2, ollama/qwen]], privacy: local-only }
`,
    });
    const { config, file } = await loadConfig({ cwd: dir, env: noEnv(dir) });
    assert.equal(file, join(dir, "tandem.config.yaml"));
    assert.equal(config.server.host, "127.0.0.1");
    assert.equal(config.server.port, 4000);
    assert.equal(config.dataDir, join(dir, "data", "tandem"));
    assert.deepEqual(config.providers.openai?.kind === "openai" && config.providers.openai.models, { "gpt-4o-mini": {} });
    assert.equal(config.providers.claude?.kind === "anthropic" && config.providers.claude.baseUrl, "https://api.anthropic.com");
    assert.deepEqual(config.routes.auto?.tiers, [["openai/gpt-4o-mini"], ["claude/claude-sonnet-4-5"]]);
    assert.equal(config.routes.auto?.onExhausted, "notice");
    assert.equal(config.routes.auto?.retry.attempts, 2);
    assert.deepEqual(config.routes.private?.tiers, [["ollama/llama3.2", "ollama/qwen"]]);
  });

  it("lets TANDEM_* variables and flags override the file, flags winning", async () => {
    const dir = dirWith({ "tandem.config.json": JSON.stringify({ server: { host: "127.0.0.1", port: 4000 } }) });
    const env = { ...noEnv(dir), TANDEM_PORT: "5000", TANDEM_HOST: "127.0.0.2", TANDEM_DATA_DIR: join(dir, "d") };
    const fromEnv = await loadConfig({ cwd: dir, env });
    assert.equal(fromEnv.config.server.port, 5000);
    assert.equal(fromEnv.config.server.host, "127.0.0.2");
    assert.equal(fromEnv.config.dataDir, join(dir, "d"));
    const fromFlag = await loadConfig({ cwd: dir, env, port: 6000 });
    assert.equal(fromFlag.config.server.port, 6000);
  });

  it("prefers --config over TANDEM_CONFIG over ./tandem.config.yaml", async () => {
    const dir = dirWith({
      "a.yaml": "server: { port: 1001 }",
      "b.yaml": "server: { port: 1002 }",
      "tandem.config.yaml": "server: { port: 1003 }",
    });
    const env = { ...noEnv(dir), TANDEM_CONFIG: join(dir, "b.yaml") };
    assert.equal((await loadConfig({ cwd: dir, env, configPath: "a.yaml" })).config.server.port, 1001);
    assert.equal((await loadConfig({ cwd: dir, env })).config.server.port, 1002);
    assert.equal((await loadConfig({ cwd: dir, env: noEnv(dir) })).config.server.port, 1003);
  });

  it("names the file, the field path and what was expected for a bad field", async () => {
    const dir = dirWith({ "tandem.config.yaml": "providers:\n  openai: { kind: openai, apiKeys: [sk-literal-key] }\n" });
    await assert.rejects(loadConfig({ cwd: dir, env: noEnv(dir) }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /tandem\.config\.yaml/);
      assert.match(err.message, /providers\.openai\.apiKeys\[0\]/);
      assert.match(err.message, /env:NAME/);
      return true;
    });
  });

  it("rejects a route whose tier names an unknown provider, and leaves an unlisted model for the route to skip", async () => {
    const dir = dirWith({
      "x.yaml": "providers:\n  openai: { kind: openai, models: [gpt-4o-mini] }\nroutes:\n  auto: { tiers: [nope/m] }\n",
      "y.yaml": "providers:\n  openai: { kind: openai, models: [gpt-4o-mini] }\nroutes:\n  auto: { tiers: [openai/gpt-5] }\n",
    });
    await assert.rejects(
      loadConfig({ cwd: dir, env: noEnv(dir), configPath: "x.yaml" }),
      /routes\.auto\.tiers\[0\].*unknown provider 'nope'/,
    );
    // The README: such a target is skipped on every request, and the banner says so.
    const { config } = await loadConfig({ cwd: dir, env: noEnv(dir), configPath: "y.yaml" });
    assert.deepEqual(config.routes.auto?.tiers, [["openai/gpt-5"]]);
  });

  it("takes a target without the :latest its provider lists, as a request takes it", async () => {
    const base = "providers:\n  oll: { kind: ollama, baseUrl: http://127.0.0.1:9, models: [llama3.2:latest, qwen3] }\n";
    const dir = dirWith({
      "ok.yaml": `${base}routes:\n  r: { tiers: [oll/llama3.2, oll/qwen3:latest], summarizer: oll/llama3.2 }\n`,
      "bad.yaml": `${base}routes:\n  r: { tiers: [oll/qwen3], summarizer: oll/llama3.1 }\n`,
    });
    const load = (file: string) => loadConfig({ cwd: dir, env: noEnv(dir), configPath: file });
    assert.equal((await load("ok.yaml")).config.routes.r?.summarizer, "oll/llama3.2");
    await assert.rejects(load("bad.yaml"), /routes\.r\.summarizer.*no model 'llama3\.1'/);
  });

  it("checks a route's summarizer at load: a configured route, or a target a tier could name", async () => {
    const base =
      "providers:\n  openai: { kind: openai, models: [gpt-4o-mini] }\nroutes:\n  small: { tiers: [openai/gpt-4o-mini] }\n";
    const dir = dirWith({
      "route.yaml": `${base}  auto: { tiers: [openai/gpt-4o-mini], summarizer: small }\n`,
      "target.yaml": `${base}  auto: { tiers: [openai/gpt-4o-mini], summarizer: openai/gpt-4o-mini }\n`,
      "no-route.yaml": `${base}  auto: { tiers: [openai/gpt-4o-mini], summarizer: tiny }\n`,
      "no-model.yaml": `${base}  auto: { tiers: [openai/gpt-4o-mini], summarizer: openai/gpt-5 }\n`,
      "no-provider.yaml": `${base}  auto: { tiers: [openai/gpt-4o-mini], summarizer: local/qwen }\n`,
    });
    const load = (file: string) => loadConfig({ cwd: dir, env: noEnv(dir), configPath: file });
    assert.equal((await load("route.yaml")).config.routes.auto?.summarizer, "small");
    assert.equal((await load("target.yaml")).config.routes.auto?.summarizer, "openai/gpt-4o-mini");
    await assert.rejects(
      load("no-route.yaml"),
      /routes\.auto\.summarizer.*a route \(configured: small, auto\) or a target 'provider\/model', got 'tiny'/,
    );
    await assert.rejects(load("no-model.yaml"), /routes\.auto\.summarizer.*no model 'gpt-5'/);
    await assert.rejects(load("no-provider.yaml"), /routes\.auto\.summarizer.*unknown provider 'local'/);
  });

  it("checks a route's tools at load: each names a server under mcp.servers", async () => {
    const base =
      "providers:\n  openai: { kind: openai, models: [gpt-4o-mini] }\nmcp:\n  servers:\n    files: { command: node }\nroutes:\n";
    const dir = dirWith({
      "ok.yaml": `${base}  auto: { tiers: [openai/gpt-4o-mini], tools: ["mcp:files"] }\n`,
      "unknown.yaml": `${base}  auto: { tiers: [openai/gpt-4o-mini], tools: ["mcp:web"] }\n`,
      "shape.yaml": `${base}  auto: { tiers: [openai/gpt-4o-mini], tools: [files] }\n`,
    });
    const load = (file: string) => loadConfig({ cwd: dir, env: noEnv(dir), configPath: file });
    assert.deepEqual((await load("ok.yaml")).config.routes.auto?.tools, ["mcp:files"]);
    await assert.rejects(load("unknown.yaml"), /routes\.auto\.tools\[0\].*configured: files.*got 'mcp:web'/);
    await assert.rejects(
      load("shape.yaml"),
      /routes\.auto\.tools\.0.*expected 'mcp:<server>'|routes\.auto\.tools\[0\].*expected 'mcp:<server>'/,
    );
  });

  it("reads memory: a route's `memory: on` and its settings, and checks the embedding model at load", async () => {
    const base = "providers:\n  openai: { kind: openai, models: [gpt-4o-mini, text-embedding-3-small] }\n";
    const dir = dirWith({
      "ok.yaml": `${base}memory: { embeddings: openai/text-embedding-3-small }\nroutes:\n  a: { tiers: [openai/gpt-4o-mini], memory: on }\n  b: { tiers: [openai/gpt-4o-mini], memory: { recall: 2, tools: false } }\n  c: { tiers: [openai/gpt-4o-mini], memory: off }\n`,
      "bad-model.yaml": `${base}memory: { embeddings: openai/nope }\n`,
      "bad-route.yaml": `${base}routes:\n  a: { tiers: [openai/gpt-4o-mini], memory: { recall: 0 } }\n`,
      "reserved.yaml": `${base}mcp: { servers: { tandem-memory: { command: node } } }\n`,
    });
    const load = (file: string) => loadConfig({ cwd: dir, env: noEnv(dir), configPath: file });
    const { config } = await load("ok.yaml");
    assert.deepEqual(config.routes.a?.memory, {});
    assert.deepEqual(config.routes.b?.memory, { recall: 2, tools: false });
    assert.equal(config.routes.c?.memory, undefined);
    assert.deepEqual(config.memory, { embeddings: "openai/text-embedding-3-small", recall: 5, minScore: 0.2, maxChars: 4000 });
    await assert.rejects(load("bad-model.yaml"), /memory\.embeddings.*no model 'nope'/);
    await assert.rejects(load("bad-route.yaml"), /routes\.a\.memory/);
    await assert.rejects(load("reserved.yaml"), /tandem-memory.*tandem's own memory tools/);
  });

  it("reads vectorStores: its defaults, its bounds, and checks its embedding model at load", async () => {
    const base = "providers:\n  openai: { kind: openai, models: [gpt-4o-mini, text-embedding-3-small] }\n";
    const dir = dirWith({
      "default.yaml": base,
      "ok.yaml": `${base}vectorStores: { embeddings: openai/text-embedding-3-small, maxFiles: 10 }\n`,
      "bad-model.yaml": `${base}vectorStores: { embeddings: openai/nope }\n`,
      "bad-bound.yaml": `${base}vectorStores: { maxQueryChars: 0 }\n`,
      "unknown.yaml": `${base}vectorStores: { maxFile: 3 }\n`,
    });
    const load = (file: string) => loadConfig({ cwd: dir, env: noEnv(dir), configPath: file });
    assert.deepEqual((await load("default.yaml")).config.vectorStores, {
      maxFiles: 1000,
      maxChunksPerFile: 2000,
      maxQueryChars: 4096,
    });
    assert.deepEqual((await load("ok.yaml")).config.vectorStores, {
      embeddings: "openai/text-embedding-3-small",
      maxFiles: 10,
      maxChunksPerFile: 2000,
      maxQueryChars: 4096,
    });
    await assert.rejects(load("bad-model.yaml"), /vectorStores\.embeddings.*no model 'nope'/);
    await assert.rejects(load("bad-bound.yaml"), /vectorStores\.maxQueryChars/);
    await assert.rejects(load("unknown.yaml"), /vectorStores/);
  });

  it("reports unparseable YAML, a missing --config file and a bad port clearly", async () => {
    const dir = dirWith({ "bad.yaml": "server: { port: [" });
    await assert.rejects(loadConfig({ cwd: dir, env: noEnv(dir), configPath: "bad.yaml" }), /bad\.yaml: not valid YAML or JSON/);
    await assert.rejects(
      loadConfig({ cwd: dir, env: noEnv(dir), configPath: "missing.yaml" }),
      /missing\.yaml: config file not found/,
    );
    await assert.rejects(loadConfig({ cwd: dir, env: { ...noEnv(dir), TANDEM_PORT: "http" } }), /TANDEM_PORT: expected a port/);
  });

  it("starts with no file: providers from standard env keys and a route auto over them", async () => {
    const dir = dirWith({});
    const empty = await loadConfig({ cwd: dir, env: noEnv(dir), skipOllamaProbe: true });
    assert.equal(empty.file, undefined);
    assert.deepEqual(Object.keys(empty.config.providers), ["local"], "the embedded engine, with no models yet");
    assert.deepEqual(empty.config.routes, {});
    const env = { ...noEnv(dir), OPENAI_API_KEY: "sk-test", ANTHROPIC_API_KEY: "ak-test" };
    const { config } = await loadConfig({ cwd: dir, env, skipOllamaProbe: true });
    assert.deepEqual(Object.keys(config.providers).sort(), ["claude", "local", "openai"]);
    assert.deepEqual(config.routes.auto?.tiers, [["openai/gpt-4o-mini"], ["claude/claude-haiku-4-5"]]);
  });

  it("puts a discovered Ollama first in auto (local first)", () => {
    const input = discoverConfig({
      env: { OPENAI_API_KEY: "x" },
      ollamaAt: "http://127.0.0.1:11434",
      ollamaModels: ["llama3.2:latest"],
    });
    assert.deepEqual(input.routes?.auto?.tiers, ["ollama/llama3.2:latest", "openai/gpt-4o-mini"]);
    assert.equal(ollamaOrigin({ OLLAMA_HOST: "0.0.0.0" }), "http://0.0.0.0:11434");
    assert.equal(ollamaOrigin({ OLLAMA_HOST: "https://ollama.example:8443" }), "https://ollama.example:8443");
  });

  it("with no file, serves the data dir's GGUF models through the embedded engine, first in auto", async () => {
    const dir = dirWith({});
    const models = join(dir, "data", "tandem", "models");
    mkdirSync(models, { recursive: true });
    writeFileSync(join(models, "a-model.gguf"), "");
    writeFileSync(join(models, "qwen2.5-0.5b.gguf"), "");
    writeFileSync(join(models, "half.gguf.partial"), "");
    const env = { ...noEnv(dir), OPENAI_API_KEY: "sk-test" };
    const { config } = await loadConfig({ cwd: dir, env, skipOllamaProbe: true });
    assert.equal(config.providers.local?.kind, "llamacpp");
    assert.deepEqual(
      config.routes.auto?.tiers,
      [["local/qwen2.5-0.5b"], ["openai/gpt-4o-mini"]],
      "the default alias is preferred",
    );
  });
});
