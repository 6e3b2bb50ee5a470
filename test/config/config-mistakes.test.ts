import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, type LoadOptions, loadConfig } from "../../src/config/index.js";
import { nearestKey } from "../../src/config/unknown-key.js";

/*
 * The mistakes an operator makes in a config file or the environment, and what tandem tells them:
 * the file (or the variable) to fix, the path of the field, and what was expected.
 */

function dirWith(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "tandem-config-"));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

const noEnv = (dir: string): NodeJS.ProcessEnv => ({
  HOME: dir,
  XDG_CONFIG_HOME: join(dir, "cfg"),
  XDG_DATA_HOME: join(dir, "data"),
});

/** The message loading `yaml` (as ./tandem.config.yaml) fails with; fails the test when it loads. */
async function refusal(yaml: string, options: Omit<LoadOptions, "cwd"> = {}): Promise<string> {
  const dir = dirWith({ "tandem.config.yaml": yaml });
  try {
    await loadConfig({ cwd: dir, skipOllamaProbe: true, ...options, env: { ...noEnv(dir), ...options.env } });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${err}`);
    return err.message.replace(dir, "<dir>");
  }
  assert.fail("the config loaded");
}

const OPENAI = "{ kind: openai, baseUrl: http://127.0.0.1:1/v1, apiKeys: [env:OPENAI_API_KEY], models: [m] }";

describe("config: unknown keys", () => {
  it("refuses a misspelt provider field instead of falling back to the default base URL", async () => {
    // The worst case: `baseURL` left baseUrl at https://api.openai.com/v1, where the key and prompts went.
    assert.equal(
      await refusal("providers:\n  x: { kind: openai, baseURL: http://127.0.0.1:1/v1, apiKeys: [env:K] }\n"),
      "<dir>/tandem.config.yaml: providers.x.baseURL: unknown key; did you mean baseUrl?",
    );
    assert.match(
      await refusal("providers:\n  x: { kind: openai, apikeys: [env:K] }\n"),
      /providers\.x\.apikeys: unknown key; did you mean apiKeys\?$/,
    );
  });

  it("refuses unknown keys at every level: the top, server, store, routes, models, MCP servers, privacy", async () => {
    const cases: [string, RegExp][] = [
      ["helth: { probeIntervalMs: 0 }\n", /: helth: unknown key; did you mean health\?$/],
      ["server: { prot: 1234 }\n", /: server\.prot: unknown key; did you mean port\?$/],
      ["server: { cors: { origin: [x] } }\n", /: server\.cors\.origin: unknown key; did you mean origins\?$/],
      ["store: { enabeld: false }\n", /: store\.enabeld: unknown key; did you mean enabled\?$/],
      ["log: { lvl: debug }\n", /: log\.lvl: unknown key; did you mean level\?$/],
      [
        `providers: { x: ${OPENAI} }\nroutes:\n  auto: { teirs: [x/m] }\n`,
        /: routes\.auto\.teirs: unknown key; did you mean tiers\?$/,
      ],
      [
        `providers: { x: ${OPENAI} }\nroutes:\n  auto: { tiers: [x/m], timeouts: { firstTokenMS: 5 } }\n`,
        /: routes\.auto\.timeouts\.firstTokenMS: unknown key; did you mean firstTokenMs\?$/,
      ],
      [
        "providers:\n  x: { kind: openai, models: { m: { contextWindows: 8 } } }\n",
        /: providers\.x\.models\.m\.contextWindows: unknown key; did you mean contextWindow\?$/,
      ],
      [
        "providers:\n  local: { kind: llamacpp, models: { q: { path: q.gguf, contextsize: 8 } } }\n",
        /: providers\.local\.models\.q\.contextsize: unknown key; did you mean contextSize\?$/,
      ],
      ["mcp:\n  servers:\n    x: { command: a, arg: [b] }\n", /: mcp\.servers\.x\.arg: unknown key; did you mean args\?$/],
      [
        "mcp:\n  servers:\n    x: { command: a, sandbox: { netwrok: true } }\n",
        /: mcp\.servers\.x\.sandbox\.netwrok: unknown key; did you mean network\?$/,
      ],
      [
        "privacy: { patterns: [{ name: a, regexp: b }] }\n",
        /: privacy\.patterns\[0\]\.regexp: unknown key; did you mean regex\?$/,
      ],
    ];
    for (const [yaml, expected] of cases) assert.match(await refusal(yaml), expected, yaml);
  });

  it("names what the object takes when no known key is near", async () => {
    assert.match(await refusal("log: { colour: true }\n"), /: log\.colour: unknown key \(expected one of: level\)$/);
  });

  it("reports the unknown key before the required field it left missing", async () => {
    assert.match(
      await refusal(`providers: { x: ${OPENAI} }\nroutes:\n  auto: { tier: [x/m] }\n`),
      /: routes\.auto\.tier: unknown key; did you mean tiers\?$/,
    );
  });

  it("keeps free-form maps free: headers, an MCP server's env and headers, model maps", async () => {
    const dir = dirWith({
      "tandem.config.yaml": `
providers:
  x: { kind: openai, baseUrl: http://127.0.0.1:1/v1, headers: { HTTP-Referer: https://a.example, X-Title: a }, models: { any-alias: { id: m } } }
  local: { kind: llamacpp, models: { whatever-name: { path: q.gguf } } }
mcp:
  servers:
    remote: { url: https://mcp.example/mcp, headers: { Authorization: "Bearer \${env:T}", X-Anything: y } }
    stdio: { command: a, env: { ANY_NAME: v, OTHER: w } }
`,
    });
    const { config } = await loadConfig({ cwd: dir, env: noEnv(dir), skipOllamaProbe: true });
    assert.deepEqual(config.providers.x?.kind === "openai" && config.providers.x.headers, {
      "HTTP-Referer": "https://a.example",
      "X-Title": "a",
    });
  });

  it("suggests the nearest key only when it is near", () => {
    assert.equal(nearestKey("baseURL", ["kind", "baseUrl", "apiKeys"]), "baseUrl");
    assert.equal(nearestKey("prot", ["host", "port", "apiKeys"]), "port");
    assert.equal(nearestKey("enabeld", ["enabled", "logContent"]), "enabled");
    assert.equal(nearestKey("colour", ["level"]), undefined);
  });
});

describe("config: the variable or flag that set a field", () => {
  it("names TANDEM_LOG_LEVEL, not the file's log.level", async () => {
    assert.match(
      await refusal("{}\n", { env: { TANDEM_LOG_LEVEL: "verbose" } }),
      /^TANDEM_LOG_LEVEL: .*expected one of .*"info"/,
    );
  });

  it("validates TANDEM_HOST, --host and the file's server.host as a host, naming where it came from", async () => {
    assert.equal(
      await refusal("{}\n", { env: { TANDEM_HOST: "not a host!" } }),
      "TANDEM_HOST: expected an IP address (IPv6 without brackets) or a host name, got 'not a host!'",
    );
    assert.match(await refusal("{}\n", { host: "http://x" }), /^--host: expected an IP address/);
    assert.match(await refusal("server: { host: 'a b' }\n"), /tandem\.config\.yaml: server\.host: expected an IP address/);
    for (const host of ["0.0.0.0", "::", "::1", "localhost", "gpu-box.lan", "10.1.2.3"]) {
      const dir = dirWith({});
      const { config } = await loadConfig({ cwd: dir, env: { ...noEnv(dir), TANDEM_HOST: host }, skipOllamaProbe: true });
      assert.equal(config.server.host, host);
    }
  });

  it("says which variable set which field (setBy), for the errors that come after loading", async () => {
    const dir = dirWith({});
    const { setBy } = await loadConfig({
      cwd: dir,
      env: { ...noEnv(dir), TANDEM_ORIGINS: "https://a.example", TANDEM_HOST: "127.0.0.2" },
      skipOllamaProbe: true,
    });
    assert.deepEqual(setBy, { "server.host": "TANDEM_HOST", "server.cors.origins": "TANDEM_ORIGINS" });
  });
});

describe("config: the file is validated whole, whatever overrides it", () => {
  it("refuses the file's bad server.port under --port and TANDEM_PORT too", async () => {
    for (const options of [{ port: 0 }, { env: { TANDEM_PORT: "0" } }, {}]) {
      assert.match(
        await refusal("server: { port: abc }\n", options),
        /tandem\.config\.yaml: server\.port: .*expected number/,
        JSON.stringify(options),
      );
      assert.match(await refusal("server: { port: 70000 }\n", options), /tandem\.config\.yaml: server\.port: /);
    }
  });

  it("refuses the file's bad log.level and host even when a variable overrides them", async () => {
    assert.match(
      await refusal("log: { level: verbose }\n", { env: { TANDEM_LOG_LEVEL: "info" } }),
      /tandem\.config\.yaml: log\.level: /,
    );
    assert.match(await refusal("server: { host: 'a b' }\n", { host: "127.0.0.1" }), /tandem\.config\.yaml: server\.host: /);
  });
});

describe("config: base URLs and names", () => {
  it("refuses an anthropic baseUrl ending in /v1: the kind takes the origin", async () => {
    assert.match(
      await refusal("providers:\n  c: { kind: anthropic, baseUrl: 'http://127.0.0.1:1/v1', apiKeys: [env:K] }\n"),
      /providers\.c\.baseUrl: the anthropic kind takes the origin, without \/v1 .*tandem adds \/v1\/messages$/,
    );
    assert.match(
      await refusal("providers:\n  c: { kind: anthropic, baseUrl: 'https://proxy.example/v1/' }\n"),
      /providers\.c\.baseUrl: the anthropic kind takes the origin/,
    );
  });

  it("refuses an ollama baseUrl ending in /api: the kind takes the origin", async () => {
    assert.match(
      await refusal("providers:\n  o: { kind: ollama, baseUrl: 'http://127.0.0.1:11434/api' }\n"),
      /providers\.o\.baseUrl: the ollama kind takes the origin, without \/api/,
    );
  });

  it("still takes an origin, or a path prefix, for both kinds; and says only 'Invalid URL' for text that is none", async () => {
    const dir = dirWith({
      "tandem.config.yaml": `
providers:
  c: { kind: anthropic, baseUrl: https://gateway.example/anthropic }
  d: { kind: anthropic, baseUrl: http://127.0.0.1:9000 }
  o: { kind: ollama, baseUrl: http://127.0.0.1:11434/ }
`,
    });
    await loadConfig({ cwd: dir, env: noEnv(dir), skipOllamaProbe: true });
    assert.match(
      await refusal("providers:\n  c: { kind: anthropic, baseUrl: 'not a url' }\n"),
      /providers\.c\.baseUrl: Invalid URL$/,
    );
    // An MCP server's url, checked for its protocol, once failed with a bare "Invalid URL" naming neither file nor field.
    assert.match(
      await refusal("mcp:\n  servers:\n    x: { url: 'not a url' }\n"),
      /tandem\.config\.yaml: mcp\.servers\.x\.url: Invalid URL$/,
    );
  });

  it("refuses a baseUrl that is no http or https URL, for every kind: its requests could only fail", async () => {
    // These passed zod's url() and then failed every request to the provider as a 500 "Internal error".
    const cases: [string, RegExp][] = [
      ["f: { kind: openai, baseUrl: 'ftp://127.0.0.1:1/v1' }", /providers\.f\.baseUrl: expected an http or https URL$/],
      ["g: { kind: anthropic, baseUrl: 'file:///etc' }", /providers\.g\.baseUrl: expected an http or https URL$/],
      ["h: { kind: ollama, baseUrl: 'ws://127.0.0.1:1' }", /providers\.h\.baseUrl: expected an http or https URL$/],
    ];
    for (const [provider, expected] of cases) assert.match(await refusal(`providers:\n  ${provider}\n`), expected);
  });

  it("says why a provider or route name may not contain '/'", async () => {
    assert.match(
      await refusal(`providers:\n  my/prov: ${OPENAI}\n`),
      /providers\.my\/prov: a provider name may not contain '\/': a target is named '<provider>\/<model>'/,
    );
    assert.match(
      await refusal(`providers: { x: ${OPENAI} }\nroutes:\n  openai/gpt-4o-mini: { tiers: [x/m] }\n`),
      /routes\.openai\/gpt-4o-mini: a route name may not contain '\/': a model name with '\/' is read as a target/,
    );
    assert.match(await refusal(`providers:\n  "a b": ${OPENAI}\n`), /providers\.a b: expected a provider name of letters/);
  });
});

describe("config: a relative dataDir", () => {
  it("is the config file's directory's, wherever tandem is started", async () => {
    const dir = dirWith({ "conf/tandem.yaml": "dataDir: state\n" });
    const elsewhere = dirWith({});
    const { config } = await loadConfig({ cwd: elsewhere, env: noEnv(dir), configPath: join(dir, "conf/tandem.yaml") });
    assert.equal(config.dataDir, join(dir, "conf", "state"));
  });

  it("is the current directory's when it comes from TANDEM_DATA_DIR", async () => {
    const dir = dirWith({ "conf/tandem.yaml": "dataDir: state\n" });
    const cwd = dirWith({});
    const env = { ...noEnv(dir), TANDEM_DATA_DIR: "mine" };
    const { config } = await loadConfig({ cwd, env, configPath: join(dir, "conf/tandem.yaml") });
    assert.equal(config.dataDir, join(cwd, "mine"));
  });
});

describe("config: time settings a timer cannot wait", () => {
  // Node's timers fire after 1 ms for a delay above 2^31-1 ms: 3000000000 (about 35 days, "no
  // limit") made every request time out, or hedge, at once (bb-router-depth bug 6).
  it("refuses any time setting beyond 2^31-1 ms, naming the field", async () => {
    const route = (extra: string) => `providers:\n  a: ${OPENAI}\nroutes:\n  r: { tiers: [a/m], ${extra} }\n`;
    const cases: [string, RegExp][] = [
      [route("timeouts: { totalMs: 3000000000 }"), /: routes\.r\.timeouts\.totalMs: expected at most 2147483647 ms/],
      [route("timeouts: { firstTokenMs: 3000000000 }"), /: routes\.r\.timeouts\.firstTokenMs: expected at most 2147483647 ms/],
      [route("timeouts: { idleMs: 3000000000 }"), /: routes\.r\.timeouts\.idleMs: expected at most/],
      [route("timeouts: { connectMs: 3000000000 }"), /: routes\.r\.timeouts\.connectMs: expected at most/],
      [route("timeouts: { throughputWindowMs: 3000000000 }"), /: routes\.r\.timeouts\.throughputWindowMs: expected at most/],
      [route("hedge: { afterMs: 3000000000 }"), /: routes\.r\.hedge\.afterMs: expected at most/],
      [route("retry: { maxMs: 3000000000 }"), /: routes\.r\.retry\.maxMs: expected at most/],
      ["health: { probeIntervalMs: 3000000000 }\n", /: health\.probeIntervalMs: expected at most/],
      ["server: { shutdownGraceMs: 3000000000 }\n", /: server\.shutdownGraceMs: expected at most/],
    ];
    for (const [yaml, expected] of cases) assert.match(await refusal(yaml), expected, yaml);
  });

  it("takes the longest delay a timer can wait", async () => {
    const dir = dirWith({
      "tandem.config.yaml": `providers:\n  a: ${OPENAI}\nroutes:\n  r: { tiers: [a/m], timeouts: { totalMs: 2147483647 }, hedge: { afterMs: 2147483647 } }\n`,
    });
    const { config } = await loadConfig({ cwd: dir, skipOllamaProbe: true, env: noEnv(dir) });
    assert.equal(config.routes.r?.timeouts.totalMs, 2147483647);
  });
});
