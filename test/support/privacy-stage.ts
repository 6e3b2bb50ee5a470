/**
 * The stage of the adversarial privacy tests: a local upstream (`home/m`), a cloud one (`cloud/gpt`)
 * behind a raw byte recorder (every byte it received can be checked), a cloud embeddings upstream
 * that records its inputs (vector stores embed through it), and tandem with its encrypted store and
 * `privacy.default: local-only`, with the routes a test file names. Both upstreams answer plain text
 * until a test scripts them; `reset()` forgets what they received and scripts them so again.
 */
import OpenAI from "openai";
import type { ConfigInput } from "../../src/config/index.js";
import { type ByteRecorder, startByteRecorder } from "./byte-recorder.js";
import { type ConceptEmbeddings, startConceptEmbeddings } from "./fake-concept-embeddings.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "./fake-openai-upstream.js";
import { type RunningTandem, startTandem } from "./tandem.js";

export const LOCAL = "home/m";
export const CLOUD = "cloud/gpt";

/** One attempt and short limits: a refused or failed target shows at once. */
export const FAST = {
  retry: { attempts: 1, baseMs: 0, maxMs: 0 },
  timeouts: { connectMs: 1000, firstTokenMs: 2000, idleMs: 2000, totalMs: 8000 },
};

export interface PrivacyStage {
  home: FakeOpenAIUpstream;
  cloud: FakeOpenAIUpstream;
  cloudRecorder: ByteRecorder;
  embeddings: ConceptEmbeddings;
  tandem: RunningTandem;
  client: OpenAI;
  reset(): void;
  close(): Promise<void>;
}

export async function startPrivacyStage(routes: NonNullable<ConfigInput["routes"]>): Promise<PrivacyStage> {
  const [home, cloud, embeddings] = await Promise.all([
    startFakeOpenAI({ models: ["m"] }),
    startFakeOpenAI({ models: ["gpt"] }),
    startConceptEmbeddings([["boat", "sail", "pier", "harbour"]]),
  ]);
  const cloudRecorder = await startByteRecorder(cloud.url);
  const config: ConfigInput = {
    breaker: { failureThreshold: 1000, cooldownMs: 1000 },
    privacy: { default: "local-only" },
    store: { enabled: true, logContent: false },
    vectorStores: { embeddings: "emb/concepts" },
    providers: {
      home: { kind: "openai", baseUrl: home.url, local: true, models: { m: { id: "m" } } },
      cloud: { kind: "openai", baseUrl: `${cloudRecorder.url}/v1`, local: false, apiKeys: ["env:UP_CLOUD"], models: ["gpt"] },
      emb: { kind: "openai", baseUrl: embeddings.url, local: false, apiKeys: ["env:UP_CLOUD"], models: ["concepts"] },
    },
    routes,
  };
  const tandem = await startTandem(config, { store: true, env: { UP_CLOUD: "sk-upstream-cloud" } });
  const client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 10_000 });
  const reset = () => {
    for (const fake of [home, cloud]) fake.requests.length = 0;
    cloudRecorder.clear();
    embeddings.inputs.length = 0;
    home.script(() => ({ kind: "text", text: "Handled on this machine." }));
    cloud.script(() => ({ kind: "text", text: "Answered by the cloud." }));
  };
  const close = async () => {
    await tandem.close();
    await cloudRecorder.close();
    await Promise.all([home, cloud].map((f) => f.close()));
    await embeddings.close();
  };
  return { home, cloud, cloudRecorder, embeddings, tandem, client, reset, close };
}
