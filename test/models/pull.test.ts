import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, beforeEach, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { GatewayError } from "../../src/core/index.js";
import { ollamaPullStatus } from "../../src/dialects/ollama/index.js";
import { type DownloadProgress, type PullEvent, pull, pullModel } from "../../src/models/index.js";
import { type FakeHfHub, startFakeHfHub } from "../support/fake-hf-hub.js";
import { buildLlamaLikeGguf } from "./gguf-builder.js";

const MODELS = fileURLToPath(new URL("../../../shared/models/", import.meta.url));
const STORIES = readFileSync(join(MODELS, "stories260K.gguf"));
const TINY_RANDOM = readFileSync(join(MODELS, "llama-2-tiny-random.gguf"));
const Q4_K_S = buildLlamaLikeGguf({ fileType: 14, chatTemplate: "{{ messages }}" });
const REPO = "test/Tiny-GGUF";
const FILE = "tiny-Q4_K_M.gguf";
const TOKEN = "hf_good_token";

let hub: FakeHfHub;

before(async () => {
  hub = await startFakeHfHub({
    tokens: [TOKEN, "hf_other_token"],
    repos: [
      {
        id: REPO,
        files: [
          { path: FILE, content: STORIES },
          { path: "tiny-Q8_0.gguf", content: TINY_RANDOM },
          { path: "tiny-Q4_K_S.gguf", content: Q4_K_S },
          { path: "mmproj-tiny-f16.gguf", content: Q4_K_S },
          { path: "README.md", content: Buffer.from("# Tiny\n") },
        ],
      },
      { id: "Qwen/Qwen2.5-0.5B-Instruct-GGUF", files: [{ path: "qwen2.5-0.5b-instruct-q4_k_m.gguf", content: STORIES }] },
      { id: "test/Gated-GGUF", gated: true, grantedTokens: [TOKEN], files: [{ path: "gated.gguf", content: TINY_RANDOM }] },
      { id: "test/Private-GGUF", private: true, grantedTokens: [TOKEN], files: [{ path: "private.gguf", content: TINY_RANDOM }] },
      {
        id: "test/NotGguf",
        files: [
          { path: "weights.bin", content: Buffer.from("x"), lfs: true },
          { path: "bad.gguf", content: Buffer.from("<html>not a model</html>") },
        ],
      },
    ],
  });
});

after(() => hub.close());

beforeEach(() => {
  for (const key of Object.keys(hub.faults) as (keyof typeof hub.faults)[]) delete hub.faults[key];
  hub.requests.length = 0;
});

function dataDir(): string {
  return mkdtempSync(join(tmpdir(), "tandem-pull-"));
}

/** Options for a quick, quiet pull against the fake. */
function opts(dir: string, extra: Partial<Parameters<typeof pull>[2]> = {}): Parameters<typeof pull>[2] {
  return { dataDir: dir, endpoint: hub.url, env: {}, retryDelayMs: 5, progressIntervalMs: 0, ...extra };
}

function cdnRequests() {
  return hub.requests.filter((r) => r.server === "cdn");
}

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof GatewayError, `expected a GatewayError, got ${String(err)}`);
    return err;
  }
  assert.fail("expected the pull to fail");
}

describe("pull from a Hugging Face hub", () => {
  it("downloads a named file through the hub's redirect to its CDN, verifies the sha256 and installs it atomically", async () => {
    const dir = dataDir();
    const events: PullEvent[] = [];
    const progress: DownloadProgress[] = [];
    const result = await pull(REPO, FILE, opts(dir, { onEvent: (e) => events.push(e), onProgress: (p) => progress.push(p) }));

    const path = join(dir, "models", "tiny-Q4_K_M.gguf");
    assert.equal(result.path, path);
    assert.equal(result.name, "tiny-Q4_K_M");
    assert.equal(result.size, STORIES.length);
    assert.equal(result.sha256, hub.sha256(STORIES));
    assert.equal(result.verified, true);
    assert.equal(result.alreadyInstalled, false);
    assert.equal(result.resumedFrom, 0);
    assert.equal(result.downloadedBytes, STORIES.length);
    assert.ok(readFileSync(path).equals(STORIES));
    assert.equal(existsSync(`${path}.partial`), false);
    assert.equal(existsSync(`${path}.partial.json`), false);

    const [resolve, cdn, ...rest] = hub.requests;
    assert.equal(rest.length, 0);
    assert.equal(resolve?.server, "hub");
    assert.equal(resolve?.path, `/${REPO}/resolve/main/${FILE}`);
    assert.equal(resolve?.status, 302);
    assert.equal(cdn?.server, "cdn");
    assert.equal(cdn?.status, 200);
    assert.equal(cdn?.bytesSent, STORIES.length);

    assert.deepEqual(
      [...new Set(events.map((e) => e.type))],
      ["resolving", "resolved", "progress", "verifying", "installing", "done"],
    );
    const last = progress.at(-1);
    assert.equal(last?.totalBytes, STORIES.length);
    assert.equal(last?.doneBytes, STORIES.length);
    assert.equal(last?.sha256, hub.sha256(STORIES));
    assert.ok(progress.every((p) => p.bytesPerSecond >= 0 && p.doneBytes <= STORIES.length));
  });

  it("sends HF_TOKEN to the hub but never to the CDN, and reads HF_ENDPOINT / HF_TOKEN from the environment", async () => {
    const dir = dataDir();
    const result = await pull("test/Private-GGUF", "private.gguf", {
      dataDir: dir,
      env: { HF_ENDPOINT: hub.url, HF_TOKEN: TOKEN },
      retryDelayMs: 5,
    });
    assert.equal(result.verified, true);
    const [resolve, cdn] = hub.requests;
    assert.equal(resolve?.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(cdn?.server, "cdn");
    assert.equal(cdn?.headers.authorization, undefined);
  });

  it("picks Q4_K_M when no file is named, a quant tag's file when one is, and says why", async () => {
    const dir = dataDir();
    const chosen = await pull(REPO, undefined, opts(dir));
    assert.equal(chosen.file, FILE);
    assert.match(chosen.reason, /Q4_K_M/);
    assert.equal(hub.requests[0]?.path, `/api/models/${REPO}?blobs=true`);

    const q8 = await pull(REPO, undefined, opts(dir, { quant: "q8_0" }));
    assert.equal(q8.file, "tiny-Q8_0.gguf");
    assert.equal(q8.name, "tiny-Q8_0");
    assert.ok(readFileSync(q8.path).equals(TINY_RANDOM));

    const ambiguous = await rejection(pull(REPO, undefined, opts(dir, { quant: "Q4_K" })));
    assert.match(ambiguous.message, /'Q4_K' matches several GGUF files \(tiny-Q4_K_M\.gguf, tiny-Q4_K_S\.gguf\)/);
    const none = await rejection(pull(REPO, undefined, opts(dir, { quant: "Q2_K" })));
    assert.equal(none.code, "not_found");
    assert.match(none.message, /no GGUF matching 'Q2_K' \(GGUF files: tiny-Q4_K_M\.gguf, tiny-Q4_K_S\.gguf, tiny-Q8_0\.gguf\)/);
  });

  it("resumes an interrupted download with Range, fetching only the missing bytes", async () => {
    const dir = dataDir();
    hub.faults.dropAfterBytes = 300_000;
    const first = await rejection(pull(REPO, FILE, opts(dir, { retries: 0 })));
    assert.equal(first.code, "unavailable");
    const partial = join(dir, "models", `${FILE}.partial`);
    const kept = statSync(partial).size;
    assert.ok(kept > 0 && kept <= 300_000, `kept ${kept} bytes`);
    assert.match(
      first.message,
      new RegExp(`interrupted: .*; ${kept} of ${STORIES.length} bytes are kept in .*\\.partial: pull again to resume`),
    );

    hub.requests.length = 0;
    const second = await pull(REPO, FILE, opts(dir));
    const [cdn, ...more] = cdnRequests();
    assert.equal(more.length, 0);
    assert.equal(cdn?.headers.range, `bytes=${kept}-`);
    assert.equal(cdn?.status, 206);
    assert.equal(cdn?.bytesSent, STORIES.length - kept);
    assert.equal(second.resumedFrom, kept);
    assert.equal(second.downloadedBytes, STORIES.length - kept);
    assert.equal(second.verified, true);
    assert.ok(readFileSync(second.path).equals(STORIES));
  });

  it("retries a dropped connection by itself, resuming where it stopped", async () => {
    const dir = dataDir();
    hub.faults.dropAfterBytes = 200_000;
    hub.faults.dropTimes = 2;
    const result = await pull(REPO, FILE, opts(dir));
    const cdn = cdnRequests();
    assert.equal(cdn.length, 3);
    assert.equal(cdn[0]?.headers.range, undefined);
    assert.match(String(cdn[1]?.headers.range), /^bytes=\d+-$/);
    assert.equal(
      cdn.reduce((n, r) => n + r.bytesSent, 0),
      STORIES.length,
      "no byte is fetched twice",
    );
    assert.ok(readFileSync(result.path).equals(STORIES));
  });

  it("deletes the download and says so when the sha256 does not match", async () => {
    const dir = dataDir();
    hub.faults.wrongChecksum = true;
    const err = await rejection(pull(REPO, FILE, opts(dir)));
    assert.equal(err.code, "upstream_error");
    assert.match(
      err.message,
      /sha256 mismatch for tiny-Q4_K_M\.gguf from test\/Tiny-GGUF: expected [0-9a-f]{64}, got [0-9a-f]{64}; the download was deleted/,
    );
    const base = join(dir, "models", FILE);
    assert.equal(existsSync(base), false);
    assert.equal(existsSync(`${base}.partial`), false);
    assert.equal(existsSync(`${base}.partial.json`), false);
  });

  it("starts over when the server ignores Range and sends the whole file", async () => {
    const dir = dataDir();
    hub.faults.dropAfterBytes = 100_000;
    await rejection(pull(REPO, FILE, opts(dir, { retries: 0 })));
    hub.faults.ignoreRange = true;
    hub.requests.length = 0;
    const result = await pull(REPO, FILE, opts(dir));
    const [cdn] = cdnRequests();
    assert.match(String(cdn?.headers.range), /^bytes=\d+-$/);
    assert.equal(cdn?.status, 200);
    assert.equal(cdn?.bytesSent, STORIES.length);
    assert.equal(result.verified, true);
    assert.ok(readFileSync(result.path).equals(STORIES));
  });

  it("leaves the partial file when aborted, and a later pull resumes it", async () => {
    const dir = dataDir();
    hub.faults.stallAfterBytes = 128 * 1024;
    const controller = new AbortController();
    const err = await rejection(
      pull(
        REPO,
        FILE,
        opts(dir, {
          signal: controller.signal,
          onProgress: (p) => {
            if (p.doneBytes >= 128 * 1024) controller.abort();
          },
        }),
      ),
    );
    assert.equal(err.code, "canceled");
    const partial = join(dir, "models", `${FILE}.partial`);
    const kept = statSync(partial).size;
    assert.equal(kept, 128 * 1024);
    assert.match(err.message, /canceled; 131072 of 1185376 bytes are kept in .*tiny-Q4_K_M\.gguf\.partial: pull again to resume/);

    delete hub.faults.stallAfterBytes;
    hub.requests.length = 0;
    const result = await pull(REPO, FILE, opts(dir));
    assert.equal(result.resumedFrom, kept);
    assert.equal(cdnRequests()[0]?.headers.range, `bytes=${kept}-`);
    assert.ok(readFileSync(result.path).equals(STORIES));
  });

  it("refuses a second concurrent pull of the same model", async () => {
    const dir = dataDir();
    hub.faults.stallAfterBytes = 64 * 1024;
    const controller = new AbortController();
    let started: () => void = () => {};
    const running = new Promise<void>((resolve) => {
      started = resolve;
    });
    const first = pull(REPO, FILE, opts(dir, { signal: controller.signal, onProgress: (p) => p.doneBytes > 0 && started() }));
    await running;
    const second = await rejection(pull(REPO, FILE, opts(dir)));
    assert.equal(second.status, 409);
    assert.match(second.message, /tiny-Q4_K_M is already being pulled/);
    controller.abort();
    assert.equal((await rejection(first)).code, "canceled");
  });

  it("does not download a model that is installed already, unless forced", async () => {
    const dir = dataDir();
    await pull(REPO, FILE, opts(dir));
    hub.requests.length = 0;
    const again = await pull(REPO, FILE, opts(dir));
    assert.equal(again.alreadyInstalled, true);
    assert.equal(hub.requests.length, 0);
    const forced = await pull(REPO, FILE, opts(dir, { force: true }));
    assert.equal(forced.alreadyInstalled, false);
    assert.equal(cdnRequests().length, 1);
  });

  it("turns the hub's 401, 403 and 404 into messages that say what to do", async () => {
    const dir = dataDir();
    const missingRepo = await rejection(pull("nobody/nothing", "x.gguf", opts(dir)));
    assert.equal(missingRepo.status, 401);
    assert.match(missingRepo.message, /^repo nobody\/nothing not found or gated: set HF_TOKEN if it is private or gated$/);

    const withToken = await rejection(pull("nobody/nothing", "x.gguf", opts(dir, { token: TOKEN })));
    assert.equal(withToken.status, 404);
    assert.match(withToken.message, /not found or gated: HF_TOKEN was sent: check that its account can read this repo/);

    const missingFile = await rejection(pull(REPO, "missing.gguf", opts(dir)));
    assert.equal(missingFile.code, "not_found");
    assert.equal(missingFile.message, "test/Tiny-GGUF has no file 'missing.gguf'");

    const gated = await rejection(pull("test/Gated-GGUF", "gated.gguf", opts(dir)));
    assert.equal(gated.status, 401);
    assert.match(
      gated.message,
      /test\/Gated-GGUF is a gated repo: set HF_TOKEN to a token of an account that accepted its conditions/,
    );
    const notGranted = await rejection(pull("test/Gated-GGUF", "gated.gguf", opts(dir, { token: "hf_other_token" })));
    assert.equal(notGranted.status, 403);
    assert.match(notGranted.message, /gated repo: accept its conditions on http:\/\/127\.0\.0\.1:\d+\/test\/Gated-GGUF/);
    const granted = await pull("test/Gated-GGUF", "gated.gguf", opts(dir, { token: TOKEN }));
    assert.equal(granted.verified, true);

    const badToken = await rejection(pull(REPO, FILE, opts(dir, { token: "hf_wrong" })));
    assert.equal(badToken.code, "authentication");
    assert.match(badToken.message, /the hub rejected HF_TOKEN \(Invalid credentials in Authorization header\)/);

    const listing = await rejection(pull("nobody/nothing", undefined, opts(dir)));
    assert.match(listing.message, /repo nobody\/nothing not found or gated: set HF_TOKEN/);

    hub.faults.resolveStatus = 500;
    const serverError = await rejection(pull(REPO, FILE, opts(dir, { retries: 1 })));
    assert.equal(serverError.message, "download of tiny-Q4_K_M.gguf failed: the hub answered 500: Internal Error");
    assert.equal(existsSync(join(dir, "models", "tiny-Q4_K_M.gguf.partial.json")), false, "no note is left without bytes");
    assert.equal(hub.requests.filter((r) => r.status === 500).length, 2, "a 5xx is retried");
  });

  it("refuses files that are not GGUF, and a download that is not a usable GGUF", async () => {
    const dir = dataDir();
    const notGguf = await rejection(pull("test/NotGguf", "weights.bin", opts(dir)));
    assert.match(notGguf.message, /'weights\.bin' is not a GGUF file/);
    const bad = await rejection(pull("test/NotGguf", "bad.gguf", opts(dir)));
    assert.match(
      bad.message,
      /bad\.gguf from test\/NotGguf is not a usable GGUF \(.*not a GGUF file.*\); the download was deleted/,
    );
    assert.equal(existsSync(join(dir, "models", "bad.gguf.partial")), false);
    const badRepo = await rejection(pull("../etc", "x.gguf", opts(dir)));
    assert.match(badRepo.message, /'\.\.\/etc' is not a Hugging Face repo id/);
    const badFile = await rejection(pull(REPO, "../../x.gguf", opts(dir)));
    assert.match(badFile.message, /is not a file path inside a repo/);
  });

  it("discards a partial file left by a different file before resuming", async () => {
    const dir = dataDir();
    hub.faults.dropAfterBytes = 100_000;
    await rejection(pull(REPO, FILE, opts(dir, { retries: 0 })));
    // The same installed name, another file: the bytes on disk are not a prefix of it.
    hub.requests.length = 0;
    const result = await pull(REPO, "tiny-Q8_0.gguf", opts(dir, { name: "tiny-Q4_K_M" }));
    assert.equal(result.resumedFrom, 0);
    assert.equal(cdnRequests()[0]?.headers.range, undefined);
    assert.ok(readFileSync(result.path).equals(TINY_RANDOM));
  });
});

describe("pullModel (aliases, Ollama's hf.co syntax) and Ollama's pull stream", () => {
  it("pulls an alias under the alias's name, with the events Ollama's /api/pull stream needs", async () => {
    const dir = dataDir();
    const events: PullEvent[] = [];
    const result = await pullModel("qwen2.5-0.5b", opts(dir, { onEvent: (e) => events.push(e) }));
    assert.equal(result.name, "qwen2.5-0.5b");
    assert.equal(result.path, join(dir, "models", "qwen2.5-0.5b.gguf"));
    assert.equal(result.repo, "Qwen/Qwen2.5-0.5B-Instruct-GGUF");
    assert.equal(result.file, "qwen2.5-0.5b-instruct-q4_k_m.gguf");
    assert.match(result.reason, /alias/);

    const lines = events.map(ollamaPullStatus).filter((l) => l !== undefined);
    const sha = hub.sha256(STORIES);
    assert.deepEqual(lines[0], { status: "pulling manifest" });
    const pulling = lines.filter((l) => l.status.startsWith("pulling ") && l.status !== "pulling manifest");
    assert.ok(pulling.length > 0);
    for (const l of pulling) {
      assert.equal(l.status, `pulling ${sha.slice(0, 12)}`);
      assert.equal(l.digest, `sha256:${sha}`);
      assert.equal(l.total, STORIES.length);
      assert.ok(typeof l.completed === "number");
    }
    assert.deepEqual(Object.keys(pulling[0] ?? {}), ["status", "digest", "total", "completed"]);
    assert.equal(pulling.at(-1)?.completed, STORIES.length);
    assert.deepEqual(lines.slice(-3), [
      { status: "verifying sha256 digest" },
      { status: "writing manifest" },
      { status: "success" },
    ]);
  });

  it("accepts hf.co/{repo}:{quant}, {repo}:{quant}, '{repo} {file}' and Ollama-style alias tags", async () => {
    const dir = dataDir();
    assert.equal((await pullModel(`hf.co/${REPO}:Q8_0`, opts(dir))).file, "tiny-Q8_0.gguf");
    assert.equal((await pullModel(`${REPO}:q4_k_s`, opts(dir))).file, "tiny-Q4_K_S.gguf");
    assert.equal((await pullModel(`${REPO} ${FILE}`, opts(dir))).name, "tiny-Q4_K_M");
    assert.equal((await pullModel("qwen2.5:0.5b", opts(dir))).name, "qwen2.5-0.5b");
    const unknown = await rejection(pullModel("nosuchmodel", opts(dir)));
    assert.equal(unknown.code, "not_found");
    assert.match(unknown.message, /unknown model 'nosuchmodel': use an alias \(qwen2\.5-0\.5b, .*\) or a Hugging Face repo/);
  });
});

describe("a partial file's note", () => {
  it("is written before any byte and removed on success", async () => {
    const dir = dataDir();
    hub.faults.dropAfterBytes = 50_000;
    await rejection(pull(REPO, FILE, opts(dir, { retries: 0 })));
    const note = JSON.parse(readFileSync(join(dir, "models", `${FILE}.partial.json`), "utf8"));
    assert.deepEqual(note, { repo: REPO, file: FILE, sha256: hub.sha256(STORIES), size: STORIES.length });
    writeFileSync(join(dir, "unrelated"), "");
    const result = await pull(REPO, FILE, opts(dir));
    assert.equal(existsSync(`${result.path}.partial.json`), false);
  });
});
