import { access, readFile } from "node:fs/promises";
import { availableParallelism } from "node:os";
import type {
  ChatWrapper,
  Llama,
  LlamaContext,
  LlamaContextSequence,
  LlamaEmbeddingContext,
  LlamaModel,
  Token,
} from "node-llama-cpp";
import { resolveChatWrapper } from "node-llama-cpp";
import { GatewayError } from "../../../core/index.js";
import { instanceKey, type LoadedModelInfo, type ModelSpec, windowCap } from "../engine-protocol.js";
import { embeddingFootprint, type Footprint, loadedFootprint } from "./memory-fit.js";

/** One model in memory: weights, a context with one sequence per parallel request, and a lazy embedding context. */
export class LoadedModel {
  readonly #free: LlamaContextSequence[] = [];
  #embedding: Promise<LlamaEmbeddingContext> | undefined;
  /**
   * The model's chat wrapper, resolved once at load. Resolving it (node-llama-cpp's "auto": rendering
   * test conversations through the model's Jinja template to find a matching wrapper) is synchronous
   * and takes hundreds of milliseconds, over a second on a busy machine; done per request (each
   * LlamaChat, each ping's info) it held the engine's event loop so long that the cancels queued
   * behind it went unconfirmed past the hang grace, and a working engine was killed as hung.
   * Chat wrappers keep no per-conversation state, so one serves every request.
   */
  readonly chatWrapper: ChatWrapper;

  constructor(
    readonly spec: ModelSpec,
    readonly model: LlamaModel,
    readonly context: LlamaContext,
    /** CPU threads its contexts run with. */
    readonly threads: number,
    /** The weights' and chat context's memory, estimated once at load. */
    readonly footprint: Footprint,
  ) {
    this.chatWrapper = resolveChatWrapper(model);
  }

  /** What the embedding context adds, once it exists. */
  #embeddingFootprint: Footprint = { ramBytes: 0, vramBytes: 0 };

  readonly #waiting: ((seq: LlamaContextSequence) => void)[] = [];

  /**
   * A sequence for one request. The parent never runs more requests than `parallel` at once, but it
   * frees a canceled request's slot before the generation here has stopped, so a new request may wait
   * a moment for that sequence. With more than one to choose from, the request gets the one whose
   * evaluated tokens serve it best (see #bestFree), so a follow-up turn of a conversation finds its
   * prompt already evaluated, and an unrelated request takes an idle sequence rather than another
   * conversation's. `prompt` gives the tokens the request will evaluate, asked only when there is a choice.
   */
  acquire(prompt?: () => readonly Token[]): Promise<LlamaContextSequence> {
    const seq = this.#bestFree(prompt);
    if (seq) return Promise.resolve(seq);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /**
   * The free sequence that serves a prompt best, as llama-server picks a slot by prompt similarity
   * and falls back to the least recently used one. A held sequence is worth the prompt tokens it
   * already holds (not evaluated again) less the tokens it holds beyond them (another turn's or
   * conversation's, lost when it is overwritten): the one worth most, when it keeps more than it loses
   * (a follow-up turn goes back to its conversation). Else, for a request that shares only a few
   * template tokens with what is held, a new, empty sequence while the context has some left, or the
   * least recently used, so that an unrelated request never overwrites the conversation just served.
   * Without a prompt: the most recently used.
   */
  #bestFree(prompt: (() => readonly Token[]) | undefined): LlamaContextSequence | undefined {
    const fresh = this.context.sequencesLeft > 0;
    if (this.#free.length === 0) return fresh ? this.context.getSequence() : undefined;
    if (prompt === undefined || (this.#free.length === 1 && !fresh)) return this.#free.pop();
    let tokens: readonly Token[];
    try {
      tokens = prompt();
    } catch {
      // A prompt that cannot be tokenized fails on its own once generated; any sequence does.
      return this.#free.pop();
    }
    // #free is in the order the sequences were released: the least recently used first.
    let best = -1;
    let bestWorth = 0;
    for (let i = this.#free.length - 1; i >= 0; i--) {
      const held = (this.#free[i] as LlamaContextSequence).contextTokens;
      const kept = sharedPrefix(held, tokens);
      const worth = kept - (held.length - kept);
      if (worth > bestWorth) {
        best = i;
        bestWorth = worth;
      }
    }
    if (best >= 0) return this.#free.splice(best, 1)[0];
    return fresh ? this.context.getSequence() : this.#free.shift();
  }

  release(seq: LlamaContextSequence): void {
    if (seq.disposed) return;
    const next = this.#waiting.shift();
    if (next) next(seq);
    else this.#free.push(seq);
  }

  /** Tokens one embedding input may have: the window a generation would load with (llama.cpp loads no model without a trained context). */
  get embeddingContextSize(): number {
    return windowCap(this.spec.contextSize, this.model.trainContextSize);
  }

  embeddingContext(): Promise<LlamaEmbeddingContext> {
    if (!this.#embedding) {
      const contextSize = this.embeddingContextSize;
      this.#embedding = this.model.createEmbeddingContext({ contextSize, threads: this.threads });
      this.#embedding.then(
        async () => {
          this.#embeddingFootprint = await embeddingFootprint(this.model, contextSize);
        },
        () => undefined,
      );
    }
    return this.#embedding;
  }

  info(): LoadedModelInfo {
    return {
      name: this.spec.name,
      path: this.spec.path,
      modelBytes: this.model.size,
      contextSize: this.context.contextSize,
      trainContextSize: this.model.trainContextSize,
      embeddingSize: this.model.embeddingVectorSize,
      parallel: this.context.totalSequences,
      chatWrapper: this.chatWrapper.wrapperName,
      architecture: this.model.fileInfo.metadata.general?.architecture ?? "unknown",
      hasChatTemplate: this.model.fileInfo.metadata.tokenizer?.chat_template !== undefined,
      gpuLayers: this.model.gpuLayers,
      totalLayers: this.model.fileInsights.totalLayers,
      threads: this.threads,
      ramBytes: this.footprint.ramBytes + this.#embeddingFootprint.ramBytes,
      vramBytes: this.footprint.vramBytes + this.#embeddingFootprint.vramBytes,
    };
  }

  async dispose(): Promise<void> {
    const embedding = await this.#embedding?.catch(() => undefined);
    await embedding?.dispose();
    await this.context.dispose();
    await this.model.dispose();
  }
}

/**
 * The models this engine process has loaded, by instanceKey (a replaced model's old load and its new
 * one are held side by side until the parent unloads the old). A spec that changed reloads the model.
 */
export class ModelHost {
  readonly #models = new Map<string, Promise<LoadedModel>>();

  constructor(
    readonly llama: Llama,
    /** Told when a load starts, and as its weights load (each percent). */
    private readonly onLoading: (path: string, progress?: number) => void,
  ) {}

  async get(spec: ModelSpec): Promise<LoadedModel> {
    const key = instanceKey(spec);
    const current = this.#models.get(key);
    if (current) {
      const loaded = await current;
      if (sameSpec(loaded.spec, spec)) return loaded;
      await this.unload(key);
    }
    const loading = this.#load(spec);
    this.#models.set(key, loading);
    loading.catch(() => this.#models.delete(key));
    return loading;
  }

  async #load(spec: ModelSpec): Promise<LoadedModel> {
    this.onLoading(spec.path);
    await testLoadGate();
    let model: LlamaModel;
    let percent = -1;
    try {
      // node-llama-cpp's memory safety checks stay on: "auto" offloads the layers that fit in free VRAM.
      model = await this.llama.loadModel({
        modelPath: spec.path,
        gpuLayers: spec.gpuLayers,
        ignoreMemorySafetyChecks: false,
        onLoadProgress: (progress) => {
          if (Math.floor(progress * 100) === percent) return;
          percent = Math.floor(progress * 100);
          this.onLoading(spec.path, progress);
        },
      });
    } catch (err) {
      throw new GatewayError(
        "unavailable",
        `local/${spec.name} could not be loaded from ${spec.path}: ${(err as Error).message}`,
        {
          retryable: false,
        },
      );
    }
    const threads = spec.threads ?? defaultThreads(this.llama);
    try {
      const context = await model.createContext({
        // A configured (or saved) window capped at the trained context; none: the largest that fits up to the cap.
        contextSize:
          spec.contextSize === undefined
            ? { max: windowCap(undefined, model.trainContextSize) }
            : windowCap(spec.contextSize, model.trainContextSize),
        sequences: spec.parallel,
        threads,
      });
      return new LoadedModel(spec, model, context, threads, await loadedFootprint(model, context));
    } catch (err) {
      await model.dispose();
      throw new GatewayError("unavailable", `local/${spec.name}: no room for its context: ${(err as Error).message}`, {
        retryable: false,
      });
    }
  }

  async unload(key: string): Promise<boolean> {
    const entry = this.#models.get(key);
    if (!entry) return false;
    this.#models.delete(key);
    const loaded = await entry.catch(() => undefined);
    await loaded?.dispose();
    return loaded !== undefined;
  }

  async infos(): Promise<LoadedModelInfo[]> {
    const settled = await Promise.allSettled(this.#models.values());
    return settled.flatMap((s) => (s.status === "fulfilled" ? [s.value.info()] : []));
  }
}

/**
 * Tests only: with TANDEM_TEST_LOAD_GATE naming a FIFO that exists, every load waits here until the
 * test writes to it. Opening and reading a FIFO holds the engine's one libuv thread, as node-llama-cpp's
 * load of real weights does, so a test can freeze or stall the engine in the middle of a load (a tiny
 * model loads in milliseconds). A path that does not exist lets loads through.
 */
async function testLoadGate(): Promise<void> {
  const gate = process.env.TANDEM_TEST_LOAD_GATE;
  if (!gate) return;
  const there = await access(gate).then(
    () => true,
    () => false,
  );
  if (!there) return;
  process.stderr.write(`test load gate: waiting on ${gate}\n`);
  await readFile(gate).catch(() => undefined);
}

function sameSpec(a: ModelSpec, b: ModelSpec): boolean {
  return (
    a.path === b.path &&
    a.contextSize === b.contextSize &&
    a.parallel === b.parallel &&
    a.threads === b.threads &&
    a.gpuLayers === b.gpuLayers
  );
}

/**
 * Threads when the config sets none: llama.cpp's own default, the cores useful for math (physical
 * cores, without hyperthread siblings or efficiency cores: `cpu_get_num_math`, as Ollama picks its
 * performance cores), never more than the CPUs this process may run on (an affinity mask, a
 * container's cpuset).
 */
export function defaultThreads(llama: Llama): number {
  return Math.max(1, Math.min(llama.cpuMathCores, availableParallelism()));
}

/** How many tokens two token lists share from their start. */
export function sharedPrefix(a: readonly Token[], b: readonly Token[]): number {
  const end = Math.min(a.length, b.length);
  let i = 0;
  while (i < end && a[i] === b[i]) i++;
  return i;
}
