/**
 * The front door's policies on their own (which Host and Origin values pass), the config fields and
 * variables that set them, and server.allowedHosts / server.cors.origins on a real server.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { connect } from "node:net";
import { networkInterfaces, tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { loadConfig } from "../../src/config/index.js";
import { HostPolicy } from "../../src/server/host-check.js";
import { OriginPolicy } from "../../src/server/origin-policy.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

describe("HostPolicy", () => {
  const loopbackOnly = new HostPolicy({ bindHost: "127.0.0.1", allowedHosts: [] });

  it("answers loopback names and addresses, with or without a port", () => {
    for (const host of [
      "localhost",
      "localhost:1337",
      "LOCALHOST:1337",
      "localhost.:1337",
      "app.localhost:1337",
      "127.0.0.1",
      "127.0.0.1:1337",
      "127.1.2.3:80",
      "[::1]",
      "[::1]:1337",
      "[0:0:0:0:0:0:0:1]:1337",
      "[::ffff:127.0.0.1]:1337",
      "[::ffff:7f00:1]:1337",
      "0.0.0.0:1337",
      "[::]:1337",
    ]) {
      assert.equal(loopbackOnly.allows(host), true, host);
    }
  });

  it("refuses every other name, including ones that merely look local", () => {
    for (const host of [
      "attacker.example",
      "attacker.example:1337",
      "127.0.0.1.nip.io:1337",
      "localhost.attacker.example",
      "localhostx:1337",
      "128.0.0.1:1337",
      "192.168.1.20:1337",
      "[::2]:1337",
      "[::1",
      "a:b:c",
      "localhost:port",
    ]) {
      assert.equal(loopbackOnly.allows(host), false, host);
    }
  });

  it("answers a request without a Host header (HTTP/1.0 tools; browsers always send one)", () => {
    assert.equal(loopbackOnly.allows(undefined), true);
  });

  it("answers the bound address, and the machine's own addresses when bound to all of them", () => {
    assert.equal(new HostPolicy({ bindHost: "10.1.2.3", allowedHosts: [] }).allows("10.1.2.3:1337"), true);
    assert.equal(new HostPolicy({ bindHost: "10.1.2.3", allowedHosts: [] }).allows("10.1.2.4:1337"), false);
    const own = Object.values(networkInterfaces())
      .flatMap((list) => list ?? [])
      .find((info) => info.family === "IPv4" && !info.internal)?.address;
    const everywhere = new HostPolicy({ bindHost: "0.0.0.0", allowedHosts: [] });
    if (own) {
      assert.equal(everywhere.allows(`${own}:1337`), true, own);
      assert.equal(loopbackOnly.allows(`${own}:1337`), false, `${own} when bound to loopback only`);
    }
    assert.equal(everywhere.allows("attacker.example:1337"), false);
  });

  it("answers server.allowedHosts entries: any port without one, that port with one, *. for subdomains", () => {
    const policy = new HostPolicy({
      bindHost: "127.0.0.1",
      allowedHosts: ["tandem.lan", "exact.example:8080", "*.proxy.example", "[fd00::5]"],
    });
    for (const host of [
      "tandem.lan",
      "tandem.lan:443",
      "TANDEM.LAN:1",
      "exact.example:8080",
      "a.proxy.example",
      "a.b.proxy.example:9",
      "[fd00::5]:1337",
    ]) {
      assert.equal(policy.allows(host), true, host);
    }
    for (const host of ["tandem.lan.evil.example", "exact.example", "exact.example:8081", "proxy.example", "evilproxy.example"]) {
      assert.equal(policy.allows(host), false, host);
    }
    assert.equal(new HostPolicy({ bindHost: "127.0.0.1", allowedHosts: ["*"] }).allows("anything.example"), true);
  });
});

describe("OriginPolicy", () => {
  const none = new OriginPolicy([]);

  it("allows pages served from this machine, over http or https, on any port", () => {
    for (const origin of [
      "http://localhost",
      "http://localhost:5173",
      "https://localhost:8443",
      "http://app.localhost:3000",
      "http://127.0.0.1:8080",
      "http://127.9.9.9",
      "http://[::1]:3000",
      "http://0.0.0.0:3000",
    ]) {
      assert.equal(none.allows(origin, "127.0.0.1:1337"), true, origin);
    }
  });

  it("refuses other origins, opaque ones (null) and non-web schemes unless listed", () => {
    for (const origin of [
      "https://evil.example",
      "http://localhost.evil.example",
      "http://127.0.0.1.nip.io:1337",
      "null",
      "chrome-extension://abcdefgh",
      "file://",
      "ftp://localhost",
    ]) {
      assert.equal(none.allows(origin, "127.0.0.1:1337"), false, origin);
    }
  });

  it("allows a page on the same host as the request (tandem's own pages, also behind a proxy)", () => {
    assert.equal(none.allows("https://tandem.lan", "tandem.lan"), true);
    assert.equal(none.allows("https://tandem.lan", "other.lan"), false);
  });

  it("allows listed origins: exact, with * wildcards, a lone * for any, and null only when listed", () => {
    const policy = new OriginPolicy(["https://app.example.com/", "chrome-extension://*", "https://*.example.org", "app://*"]);
    for (const origin of ["https://app.example.com", "chrome-extension://abcdefgh", "https://a.example.org", "app://-"]) {
      assert.equal(policy.allows(origin, "127.0.0.1:1337"), true, origin);
    }
    for (const origin of [
      "http://app.example.com",
      "https://app.example.com.evil.example",
      "https://example.org",
      "https://evil.example",
      "null",
    ]) {
      assert.equal(policy.allows(origin, "127.0.0.1:1337"), false, origin);
    }
    const any = new OriginPolicy(["*"]);
    assert.equal(any.allows("https://whatever.example", "127.0.0.1:1337"), true);
    assert.equal(any.allows("null", "127.0.0.1:1337"), false, "null needs listing even with *");
    assert.equal(new OriginPolicy(["null"]).allows("null", "127.0.0.1:1337"), true);
  });
});

describe("config", () => {
  it("reads server.allowedHosts and server.cors.origins; TANDEM_ALLOWED_HOSTS and TANDEM_ORIGINS replace them", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-config-"));
    writeFileSync(
      join(dir, "tandem.config.yaml"),
      "server: { allowedHosts: [tandem.lan], cors: { origins: ['chrome-extension://*'] } }\nproviders: {}\n",
    );
    const env = { HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg"), XDG_DATA_HOME: join(dir, "data") };
    const fromFile = await loadConfig({ cwd: dir, env });
    assert.deepEqual(fromFile.config.server.allowedHosts, ["tandem.lan"]);
    assert.deepEqual(fromFile.config.server.cors.origins, ["chrome-extension://*"]);
    const fromEnv = await loadConfig({
      cwd: dir,
      env: { ...env, TANDEM_ALLOWED_HOSTS: " a.lan, *.b.lan ,", TANDEM_ORIGINS: '"app://*,https://x.example"' },
    });
    assert.deepEqual(fromEnv.config.server.allowedHosts, ["a.lan", "*.b.lan"]);
    assert.deepEqual(fromEnv.config.server.cors.origins, ["app://*", "https://x.example"]);
  });

  it("defaults to no extra hosts and no extra origins", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tandem-config-"));
    writeFileSync(join(dir, "tandem.config.yaml"), "providers: {}\n");
    const { config } = await loadConfig({ cwd: dir, env: { HOME: dir, XDG_CONFIG_HOME: join(dir, "cfg") } });
    assert.deepEqual(config.server.allowedHosts, []);
    assert.deepEqual(config.server.cors.origins, []);
  });
});

/** A GET with the Host and headers given, as a browser or proxy would send them. */
function get(
  url: string,
  path: string,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${path}`, { headers, setHost: !("host" in headers) }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => {
        body += d;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

describe("server.allowedHosts on a real server", () => {
  let upstream: FakeOpenAIUpstream;
  let tandem: RunningTandem;

  before(async () => {
    upstream = await startFakeOpenAI({ models: ["gpt-4o-mini"] });
    tandem = await startTandem({
      server: { allowedHosts: ["tandem.lan", "*.proxy.example"] },
      providers: { up: { kind: "openai", baseUrl: upstream.url } },
    });
  });

  after(async () => {
    await tandem?.close();
    await upstream?.close();
  });

  it("answers the names a reverse proxy forwards, and refuses others", async () => {
    for (const host of ["tandem.lan", "tandem.lan:8443", "gw.proxy.example"]) {
      const res = await get(tandem.url, "/v1/status", { host });
      assert.equal(res.status, 200, `${host}: ${res.body}`);
      assert.ok(JSON.parse(res.body).targets, host);
    }
    const refused = await get(tandem.url, "/v1/status", { host: "proxy.example" });
    assert.equal(refused.status, 403, refused.body);
  });

  it("answers an HTTP/1.0 request without a Host header, and refuses one with a foreign Host", async () => {
    const raw = (text: string) => rawExchange(tandem.url, text);
    assert.match(await raw("GET /v1/status HTTP/1.0\r\n\r\n"), /^HTTP\/1\.[01] 200/);
    assert.match(await raw("GET /v1/status HTTP/1.0\r\nHost: attacker.example\r\n\r\n"), /^HTTP\/1\.[01] 403/);
  });

  it("judges an absolute-form target's authority as it judges Host", async () => {
    const raw = (text: string) => rawExchange(tandem.url, text);
    const foreign = await raw("GET http://attacker.example/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    assert.match(foreign, /^HTTP\/1\.1 403/);
    assert.match(foreign, /Host 'attacker\.example' is not allowed/);
    const listed = await raw("GET http://tandem.lan/v1/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    assert.match(listed, /^HTTP\/1\.1 200/);
  });

  it("answers CONNECT with a 405 in the dialect's shape, not a closed connection", async () => {
    const answer = await rawExchange(tandem.url, "CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n");
    assert.match(answer, /^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    const body = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)) as { error: { message: string; type: string } };
    assert.equal(body.error.type, "invalid_request_error");
    assert.match(body.error.message, /not a proxy/);
  });

  it("lets the proxied name's own pages read answers (same host), not other sites", async () => {
    const same = await get(tandem.url, "/v1/models", { host: "tandem.lan", origin: "https://tandem.lan" });
    assert.equal(same.status, 200, same.body);
    assert.equal(same.headers["access-control-allow-origin"], "https://tandem.lan");
    const other = await get(tandem.url, "/v1/models", { host: "tandem.lan", origin: "https://gw.proxy.example" });
    assert.equal(other.status, 403, other.body);
    assert.equal(other.headers["access-control-allow-origin"], undefined);
  });
});

/** Sends `text` on a fresh connection to the server at `url` and returns everything it answers until it closes. */
function rawExchange(url: string, text: string): Promise<string> {
  const port = Number(new URL(url).port);
  return new Promise<string>((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => socket.end(text));
    let answer = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      answer += d;
    });
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}
