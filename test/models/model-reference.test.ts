import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  chooseGgufFile,
  DEFAULT_MODEL_ALIAS,
  findModelAlias,
  type HubFile,
  MODEL_ALIASES,
  parseModelReference,
  quantTagOf,
  resolveHubConnection,
  TransferRate,
} from "../../src/models/index.js";

describe("model aliases", () => {
  it("resolve to a repo and a Q4_K_M GGUF file, and the default is qwen2.5-0.5b", () => {
    assert.equal(DEFAULT_MODEL_ALIAS, "qwen2.5-0.5b");
    assert.deepEqual(findModelAlias("qwen2.5-0.5b"), {
      alias: "qwen2.5-0.5b",
      repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
      file: "qwen2.5-0.5b-instruct-q4_k_m.gguf",
      description: "Qwen2.5 0.5B Instruct, the smallest useful chat model",
    });
    assert.equal(findModelAlias("LLAMA3.2-1B")?.repo, "bartowski/Llama-3.2-1B-Instruct-GGUF");
    for (const name of ["qwen2.5-1.5b", "llama3.2-1b", "llama3.2-3b", "smollm2-360m", "smollm2-1.7b"]) {
      const alias = findModelAlias(name);
      assert.ok(alias, name);
      assert.match(alias.repo, /^[\w.-]+\/[\w.-]+-GGUF$/);
      assert.equal(quantTagOf(alias.file), "Q4_K_M", alias.file);
    }
    assert.equal(new Set(MODEL_ALIASES.map((a) => a.alias)).size, MODEL_ALIASES.length);
    assert.equal(findModelAlias("gpt-5"), undefined);
  });
});

describe("parseModelReference", () => {
  const cases: [string, string | undefined, unknown][] = [
    ["qwen2.5-0.5b", undefined, { kind: "alias", alias: "qwen2.5-0.5b" }],
    ["qwen2.5-0.5b:latest", undefined, { kind: "alias", alias: "qwen2.5-0.5b" }],
    ["qwen2.5:0.5b", undefined, { kind: "alias", alias: "qwen2.5-0.5b" }],
    ["smollm2:360m", undefined, { kind: "alias", alias: "smollm2-360m" }],
    ["bartowski/Llama-3.2-1B-Instruct-GGUF", undefined, { kind: "hub", repo: "bartowski/Llama-3.2-1B-Instruct-GGUF" }],
    [
      "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M",
      undefined,
      { kind: "hub", repo: "bartowski/Llama-3.2-1B-Instruct-GGUF", quant: "Q4_K_M" },
    ],
    [
      "huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF:IQ4_XS",
      undefined,
      { kind: "hub", repo: "bartowski/Llama-3.2-1B-Instruct-GGUF", quant: "IQ4_XS" },
    ],
    ["bartowski/Llama-3.2-1B-Instruct-GGUF:latest", undefined, { kind: "hub", repo: "bartowski/Llama-3.2-1B-Instruct-GGUF" }],
    ["Qwen/Qwen2.5-0.5B-Instruct-GGUF:q8_0", undefined, { kind: "hub", repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF", quant: "q8_0" }],
    [
      "Qwen/Qwen2.5-0.5B-Instruct-GGUF qwen2.5-0.5b-instruct-q8_0.gguf",
      undefined,
      { kind: "hub", repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF", file: "qwen2.5-0.5b-instruct-q8_0.gguf" },
    ],
    [
      "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
      "qwen2.5-0.5b-instruct-q8_0.gguf",
      { kind: "hub", repo: "Qwen/Qwen2.5-0.5B-Instruct-GGUF", file: "qwen2.5-0.5b-instruct-q8_0.gguf" },
    ],
    ["owner/repo/sub/dir/model.gguf", undefined, { kind: "hub", repo: "owner/repo", file: "sub/dir/model.gguf" }],
    [
      "https://huggingface.co/owner/repo/resolve/main/model.gguf",
      undefined,
      { kind: "hub", repo: "owner/repo", file: "model.gguf" },
    ],
    [
      "https://huggingface.co/owner/repo/blob/main/q/model.gguf",
      undefined,
      { kind: "hub", repo: "owner/repo", file: "q/model.gguf" },
    ],
  ];
  for (const [input, file, expected] of cases) {
    it(`parses ${JSON.stringify(input)}${file ? ` + ${file}` : ""}`, () => {
      const parsed = parseModelReference(input, file);
      assert.deepEqual(parsed.kind === "alias" ? { kind: "alias", alias: parsed.alias.alias } : parsed, expected);
    });
  }

  it("rejects what it cannot read, saying why", () => {
    assert.throws(
      () => parseModelReference("nosuch"),
      /unknown model 'nosuch': use an alias \(qwen2\.5-0\.5b, qwen2\.5-1\.5b, llama3\.2-1b/,
    );
    assert.throws(() => parseModelReference(""), /expected an alias, a repo, or 'repo file'/);
    assert.throws(() => parseModelReference("a b c"), /expected an alias, a repo, or 'repo file'/);
    assert.throws(() => parseModelReference("owner/repo a.gguf", "b.gguf"), /two files named/);
    assert.throws(() => parseModelReference("owner/repo:Q4_K_M", "b.gguf"), /name a file or a quant tag/);
    assert.throws(() => parseModelReference("qwen2.5-0.5b", "b.gguf"), /not a repo/);
    assert.throws(() => parseModelReference("owner/../repo"), /not a Hugging Face repo id/);
    assert.throws(() => parseModelReference("owner/repo/../../x.gguf"), /not a file path inside a repo/);
  });

  it("refuses a file on this machine or another site's URL, saying what a pull takes and how to serve a local GGUF", () => {
    for (const local of [
      "/work/shared/models/stories260K.gguf",
      "./stories260K.gguf",
      "../repo",
      "~/models/x.gguf",
      "file:///tmp/x.gguf",
      "C:\\models\\x.gguf",
      "stories260K.gguf",
    ]) {
      assert.throws(
        () => parseModelReference(local),
        (err: Error) =>
          err.message.startsWith(`'${local}' is a file on this machine: pulling downloads from Hugging Face`) &&
          /copy or link it into the models folder \(<dataDir>\/models\/<name>\.gguf/.test(err.message) &&
          /POST \/api\/blobs .*POST \/api\/create/.test(err.message),
        local,
      );
    }
    assert.throws(
      () => parseModelReference("https://example.com/x.gguf"),
      /'https:\/\/example\.com\/x\.gguf' is not on the Hugging Face hub: pulling downloads from Hugging Face/,
    );
    // The hub's own URLs are still taken.
    assert.equal(parseModelReference("https://hf.co/owner/repo:Q8_0").kind, "hub");
  });
});

describe("chooseGgufFile", () => {
  const files = (...specs: [string, number?][]): HubFile[] => specs.map(([path, size]) => ({ path, size }));

  it("prefers Q4_K_M, else the smallest; skips vision projectors and split parts", () => {
    const repo = "o/r";
    assert.deepEqual(chooseGgufFile(repo, files(["README.md"], ["m-Q8_0.gguf", 9], ["m-Q4_K_M.gguf", 5], ["m-Q2_K.gguf", 3])), {
      file: { path: "m-Q4_K_M.gguf", size: 5 },
      reason: "Q4_K_M, the usual size/quality balance",
    });
    assert.equal(
      chooseGgufFile(repo, files(["m-Q8_0.gguf", 9], ["m-Q3_K_L.gguf", 4], ["mmproj-m-f16.gguf", 1])).file.path,
      "m-Q3_K_L.gguf",
    );
    assert.equal(chooseGgufFile(repo, files(["only.gguf"], ["mmproj.gguf"])).reason, "the only GGUF in the repo");
    assert.equal(chooseGgufFile(repo, files(["big-Q4_K_M-00001-of-00002.gguf", 1], ["m-Q6_K.gguf", 8])).file.path, "m-Q6_K.gguf");
    assert.throws(
      () => chooseGgufFile(repo, files(["a-Q8_0.gguf"], ["b-Q6_K.gguf"])),
      /o\/r has several GGUF files \(a-Q8_0\.gguf, b-Q6_K\.gguf\); name one/,
    );
    assert.throws(
      () => chooseGgufFile(repo, files(["config.json"], ["model.safetensors"])),
      /o\/r has no GGUF file \(files: config\.json, model\.safetensors\)/,
    );
    assert.throws(() => chooseGgufFile(repo, files(["x-00001-of-00002.gguf"])), /only incomplete split GGUF models/);
  });

  it("picks a complete split model as one choice with every part, by quant tag too", () => {
    const repo = "o/r";
    const listing = files(
      ["x-Q8_0-00002-of-00002.gguf", 4],
      ["x-Q8_0-00001-of-00002.gguf", 5],
      ["x-Q4_K_M-00001-of-00003.gguf", 1],
      ["y-Q6_K.gguf", 3],
    );
    const chosen = chooseGgufFile(repo, listing, "Q8_0");
    assert.deepEqual(chosen.file, { path: "x-Q8_0-00001-of-00002.gguf", size: 9 });
    assert.deepEqual(
      chosen.parts?.map((p) => p.path),
      ["x-Q8_0-00001-of-00002.gguf", "x-Q8_0-00002-of-00002.gguf"],
    );
    assert.match(chosen.reason, /in 2 parts/);
    // The incomplete Q4_K_M set is not offered.
    assert.throws(() => chooseGgufFile(repo, listing, "Q4_K_M"), /no GGUF matching 'Q4_K_M'/);
  });

  it("matches a quant tag case-insensitively, an exact tag winning over a longer one", () => {
    const repo = "o/r";
    const listing = files(["m-Q4_K.gguf"], ["m-Q4_K_M.gguf"], ["m-Q4_K_S.gguf"], ["m-IQ4_XS.gguf"], ["sub/m-q8_0.gguf"]);
    assert.equal(chooseGgufFile(repo, listing, "q4_k_m").file.path, "m-Q4_K_M.gguf");
    assert.equal(chooseGgufFile(repo, listing, "Q4_K").file.path, "m-Q4_K.gguf");
    assert.equal(chooseGgufFile(repo, listing, "Q8_0").file.path, "sub/m-q8_0.gguf");
    assert.equal(chooseGgufFile(repo, listing, "iq4_xs").reason, "its name matches 'iq4_xs'");
    assert.throws(() => chooseGgufFile(repo, listing, "Q5_K_M"), /o\/r has no GGUF matching 'Q5_K_M' \(GGUF files: /);
    assert.throws(
      () => chooseGgufFile(repo, files(["a-Q4_K_M.gguf"], ["b-Q4_K_M.gguf"]), "Q4_K_M"),
      /matches several GGUF files/,
    );
  });

  it("reads quant tags from file names", () => {
    assert.equal(quantTagOf("Llama-3.2-1B-Instruct-Q4_K_M.gguf"), "Q4_K_M");
    assert.equal(quantTagOf("qwen2.5-0.5b-instruct-q8_0.gguf"), "Q8_0");
    assert.equal(quantTagOf("SmolLM2-360M-Instruct.Q4_K_M.gguf"), "Q4_K_M");
    assert.equal(quantTagOf("model-f16.gguf"), "F16");
    assert.equal(quantTagOf("model-IQ3_XXS.gguf"), "IQ3_XXS");
    assert.equal(quantTagOf("stories260K.gguf"), undefined);
  });
});

describe("hub connection", () => {
  it("takes the endpoint and token from options, else HF_ENDPOINT / HF_TOKEN, else the public hub", () => {
    assert.deepEqual(resolveHubConnection({ env: {} }), { endpoint: "https://huggingface.co", token: undefined });
    assert.deepEqual(resolveHubConnection({ env: { HF_ENDPOINT: "https://hf-mirror.com/", HF_TOKEN: "hf_x" } }), {
      endpoint: "https://hf-mirror.com",
      token: "hf_x",
    });
    assert.deepEqual(resolveHubConnection({ env: { HUGGING_FACE_HUB_TOKEN: "hf_legacy" } }).token, "hf_legacy");
    assert.deepEqual(resolveHubConnection({ endpoint: "http://127.0.0.1:9", token: "t", env: { HF_TOKEN: "other" } }), {
      endpoint: "http://127.0.0.1:9",
      token: "t",
    });
    assert.throws(() => resolveHubConnection({ env: { HF_ENDPOINT: "ftp://x" } }), /is not http\(s\) \(check HF_ENDPOINT\)/);
    assert.throws(() => resolveHubConnection({ env: { HF_ENDPOINT: "not a url" } }), /is not a URL/);
  });
});

describe("TransferRate", () => {
  it("smooths the speed and estimates the time left", () => {
    const rate = new TransferRate({ halfLifeMs: 1000, minIntervalMs: 100 });
    assert.equal(rate.sample(0, 0), 0);
    assert.equal(rate.etaSeconds(1000), undefined);
    assert.equal(rate.sample(1000, 1000), 1000);
    assert.equal(rate.sample(1010, 1050), 1000, "samples closer than minIntervalMs are merged");
    // A burst at 3000 B/s for one half-life moves the average half-way.
    assert.equal(rate.sample(4000, 2000), 2000);
    assert.equal(rate.etaSeconds(10_000), 5);
  });
});
