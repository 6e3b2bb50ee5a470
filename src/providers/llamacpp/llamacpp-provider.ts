import { statSync } from "node:fs";
import { rm, stat } from "node:fs/promises";
import type {
  ChatProvider,
  ChatRequest,
  EmbeddingProvider,
  LoadedModelStatus,
  LocalEngine,
  ModelFile,
  ModelInfo,
} from "../../core/index.js";
import {
  type EmbedResult,
  EventChannel,
  GatewayError,
  openAISettings,
  type ProviderChatRequest,
  type ProviderEmbedRequest,
  type StreamEvent,
  shortenEmbedding,
  unitLength,
  unreadFiles,
  unsentLogprobs,
  unsentOllamaEmbedFields,
} from "../../core/index.js";
import {
  type CreateModelRequest,
  copyModel,
  createModel,
  forgetPulledNames,
  hasBlob,
  installedModelPath,
  installedNameOf,
  isInModelsDir,
  libraryModelName,
  type ModelSettings,
  modelBytesOnDisk,
  type PullEvent,
  type PullResult,
  pullModel,
  putBlob,
  readGgufInfo,
  readModelSettings,
  readPulledNames,
  removeModel,
  removeModelSettings,
  settingsPath,
} from "../../models/index.js";
import { applyModelDefaults } from "./apply-model-defaults.js";
import { abortable, canceledError } from "./cancellation.js";
import { type EngineExit, EngineProcess, type EngineState } from "./engine-process.js";
import {
  type EmbedReply,
  type EngineGpu,
  type GpuLayers,
  instanceKey,
  type LoadedModelInfo,
  type MemoryNeeds,
  type ModelSpec,
  windowCap,
} from "./engine-protocol.js";
import { engineDir } from "./gpu-packages.js";
import { evictUntilFits, type FitCheck, type ResidentModel } from "./lru-eviction.js";
import {
  checkModelFile,
  configuredNameRefusal,
  judgeFit,
  type LocalModelEntry,
  localModelEntries,
  localModelEntry,
  type MemoryFit,
  otherNamesOfFile,
} from "./model-files.js";
import { schemaLimitRefusal } from "./schema-limits.js";
import { type SlotLoad, SlotQueue } from "./slot-queue.js";
import { textOnlyRefusal } from "./text-only.js";
import { forcedTools } from "./worker/forced-tool-call.js";

export type { LoadedModelStatus } from "../../core/index.js";

export interface LlamaCppProviderOptions {
  id: string;
  dataDir: string;
  models: Record<string, LocalModelEntry>;
  /** CPU threads each model runs with, unless its entry sets its own. Default: llama.cpp's choice, the cores useful for math (see defaultThreads). */
  threads?: number;
  /** Default "auto": the best backend node-llama-cpp finds a working binary for, else the CPU. */
  gpu?: EngineGpu;
  /** Layers on the GPU for models that set none. Default "auto" (fitted to free VRAM). */
  gpuLayers?: GpuLayers;
  parallel?: number;
  maxQueue?: number;
  keepAliveMs?: number;
  /**
   * A generation that sends nothing for this long, or a model load that makes no progress for this
   * long, is taken for hung: the engine is killed and restarted. Default 120000.
   */
  hangTimeoutMs?: number;
  onLog?: (line: string) => void;
  /** Where HF_ENDPOINT and HF_TOKEN are read for pulls. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /**
   * Whether a model about to load fits beside those loaded; while it does not, the least recently
   * used idle model is unloaded first. Default: its file and an allowance fit in free memory.
   */
  fits?: FitCheck;
}

/** One load of a model (by instanceKey): a replaced model's old load is held beside its new one until its requests are done. */
interface Loaded {
  info: LoadedModelInfo;
  /** Its spec's generation: an older one than the model's current is a replaced or deleted model's. */
  generation: number;
  expiresAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
  /** When a request last finished with it, for least-recently-used eviction. */
  lastUsedMs: number;
  /** An unload was asked while requests used it (or the model was replaced): it unloads as soon as they are done. */
  unloadWhenIdle?: boolean;
  /** Resolves once it is unloaded (or the engine is gone): a load waiting for its memory. */
  gone: Promise<void>;
  /** Its file as it was when loaded (see #dropStale); undefined when it could not be read. */
  file: FileIdentity | undefined;
  markGone: () => void;
}

/**
 * The embedded engine: llama.cpp (node-llama-cpp) in a supervised child process. Models load on
 * first use, serve `parallel` requests at once with a bounded fair queue behind them, and unload
 * after `keepAliveMs` unused. A generation that goes silent for `hangTimeoutMs`, or does not stop
 * when canceled, gets the engine killed and restarted, as does an engine that stops answering
 * liveness checks while it loads a model (see EngineProcess); a file that crashed the engine while
 * loading is refused until it changes.
 */
export class LlamaCppProvider implements ChatProvider, EmbeddingProvider, LocalEngine {
  readonly kind = "llamacpp" as const;
  /**
   * The engine reads text only (no multimodal projector is loaded). It continues a raw prompt without
   * the chat template, and fills in the middle with a model's FIM tokens (a model without them
   * refuses a suffix with a 400). It reads a raw prompt's token ids as its model's own, and reports
   * the prompt's own token logprobs (echo with logprobs). It runs a model with the window a request
   * asks for (Ollama's num_ctx; see #claim).
   */
  readonly capabilities = {
    vision: false,
    rawPrompts: true,
    infill: true,
    promptLogprobs: true,
    tokenPrompts: true,
    requestedWindow: true,
    endsAnswerAtWindow: true,
  };
  readonly id: string;
  readonly #engine: EngineProcess;
  /** The slot queues, loads held and loads under way, each by instanceKey (one load of one model). */
  readonly #queues = new Map<string, SlotQueue>();
  readonly #loaded = new Map<string, Loaded>();
  readonly #loading = new Map<string, Promise<LoadedModelInfo>>();
  /** Each model's current generation (0 when absent): one more each time it is replaced or deleted. */
  readonly #generations = new Map<string, number>();
  /** Files that crashed the engine while it loaded them, with their mtime then. */
  readonly #poisoned = new Map<string, { reason: string; mtimeMs: number }>();
  readonly #threads: number | undefined;
  /** Saved model settings (`<name>.json`), read once; tandem writes them, so it clears them too. */
  readonly #settings = new Map<string, Promise<ModelSettings | undefined>>();
  /**
   * The window (ModelSpec.contextSize) each model's current generation runs with, claimed by its
   * first request; `asked` when that came from a request's num_ctx rather than the model's own.
   */
  readonly #windows = new Map<string, { generation: number; window: number | undefined; asked: boolean }>();

  constructor(private readonly options: LlamaCppProviderOptions) {
    this.id = options.id;
    this.#threads = options.threads;
    this.#engine = new EngineProcess({
      gpu: options.gpu ?? "auto",
      binariesDir: engineDir(options.dataDir),
      loadStallMs: options.hangTimeoutMs,
      onLog: options.onLog,
      onExit: (exit) => this.#onEngineExit(exit),
    });
  }

  /** The engine process, for status and tests. */
  get engine(): EngineProcess {
    return this.#engine;
  }

  /**
   * OpenAI's cloud settings (prompt_cache_key...) mean nothing to the engine. It applies the presence
   * and frequency penalties as llama.cpp does (generate-chat.ts penaltiesOf). It reports token logprobs with the answer's text,
   * except for a forced tool call, whose answer is a call generated under a grammar, not text.
   */
  unsent(request: ChatRequest): string[] {
    const logprobs = forcedTools(request) ? unsentLogprobs(request) : [];
    return [...openAISettings(request), ...logprobs, ...unreadFiles(request, () => false)];
  }

  async *chat(original: ProviderChatRequest, signal: AbortSignal): AsyncIterable<StreamEvent> {
    const own = await this.#spec(original.upstreamModel);
    const asked = original.contextSize === undefined ? undefined : await this.#trainedCap(own, original.contextSize);
    const spec = this.#claim(own, { window: asked ?? own.contextSize, asked: asked !== undefined });
    const request = applyModelDefaults(original, await this.#settingsOf(spec.name));
    const target = this.#target(spec.name);
    // Before a slot is taken and the model loaded: they would be spent only to refuse the request.
    const refusal = textOnlyRefusal(request.messages, target) ?? schemaLimitRefusal(request, target);
    if (refusal) throw refusal;
    const release = await this.#queue(spec).acquire(signal);
    const inner = new AbortController();
    const onOuterAbort = () => inner.abort();
    signal.addEventListener("abort", onOuterAbort, { once: true });
    let hung = false;
    let watchdog: NodeJS.Timeout | undefined;
    const hangMs = this.options.hangTimeoutMs ?? 120_000;
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        hung = true;
        this.#engine.kill(`${target} sent nothing for ${hangMs} ms`);
        inner.abort();
      }, hangMs);
    };
    const channel = new EventChannel<StreamEvent>();
    let settled = false;
    try {
      // The time this request waited for its model's load, if it was not loaded: the start event says it.
      const loadStarted = this.#held(spec) ? undefined : performance.now();
      await this.#ensureLoaded(spec, inner.signal);
      const loadMs = loadStarted === undefined ? undefined : performance.now() - loadStarted;
      arm();
      this.#engine
        // A function cannot cross the IPC channel (structured clone); nothing leaves the machine here anyway.
        .call(
          { op: "chat", model: spec, request: { ...request, beforeUpstreamBody: undefined, onUnsent: undefined } },
          inner.signal,
          (event) => {
            arm();
            channel.push(loadMs !== undefined && event.type === "start" ? { ...event, loadMs } : event);
          },
        )
        .then(
          () => channel.end(),
          (err) => channel.fail(err),
        )
        .finally(() => {
          settled = true;
        });
      for await (const event of channel) yield event;
    } catch (err) {
      if (hung) {
        throw new GatewayError("timeout", `${target} sent nothing for ${hangMs} ms; the local engine was restarted.`, { target });
      }
      if (signal.aborted) throw canceledError(target);
      throw withTarget(err, target);
    } finally {
      clearTimeout(watchdog);
      signal.removeEventListener("abort", onOuterAbort);
      // The reader left early (the router took another answer): stop the generation.
      if (!settled) inner.abort();
      release();
      this.#touch(spec, request.keepAliveMs);
    }
  }

  async embed(request: ProviderEmbedRequest, signal: AbortSignal): Promise<EmbedResult> {
    const spec = this.#claim(await this.#spec(request.upstreamModel));
    const target = this.#target(spec.name);
    const release = await this.#queue(spec).acquire(signal);
    try {
      await this.#ensureLoaded(spec, signal);
      const reply = (await this.#engine.call(
        { op: "embed", model: spec, input: request.input, ...(request.truncate === true && { truncate: true }) },
        signal,
      )) as EmbedReply;
      // The engine's vectors are the model's own pooled ones: scaled to unit length unless asked raw
      // (EmbedRequest.raw), then cut to `dimensions`, as OpenAI and Ollama do.
      const embeddings = reply.embeddings.map((vector) => [
        ...shortenEmbedding(request.raw === true ? vector : unitLength(vector), request.dimensions),
      ]);
      // The engine keeps models loaded, for keep_alive; it runs embeddings with the model's own settings.
      const unsent = unsentOllamaEmbedFields(request, true);
      return { embeddings, usage: { inputTokens: reply.inputTokens }, ...(unsent.length > 0 && { unsent }) };
    } catch (err) {
      throw withTarget(err, target);
    } finally {
      release();
      this.#touch(spec, request.keepAliveMs);
    }
  }

  /** Downloads a model from Hugging Face into `<dataDir>/models` (see src/models). */
  pull(reference: string, onEvent: (event: PullEvent) => void, signal: AbortSignal): Promise<PullResult> {
    return pullModel(reference, {
      dataDir: this.options.dataDir,
      env: this.options.env,
      signal,
      onEvent,
      claimName: (name, destination) => this.#claimName(name, destination),
    });
  }

  /** The tokens a chat request's prompt comes to on the model: its own tokenizer and chat template. */
  async countTokens(model: string, request: ChatRequest, signal: AbortSignal): Promise<number> {
    const own = await this.#spec(model);
    // A schema the engine refuses is refused here too, before the model is loaded to count it: the
    // router counts a conversation to fit it to the window before the chat, and a tool schema past
    // the limits would otherwise be heard as an overflow of the window rather than as itself.
    const refusal = schemaLimitRefusal(request, this.#target(own.name));
    if (refusal) throw refusal;
    // A request that asks for a window (Ollama's num_ctx), counted before it is answered (its
    // conversation fitted), loads the model with that window, as its answer will: not twice.
    const asked = request.contextSize === undefined ? undefined : await this.#trainedCap(own, request.contextSize);
    const spec = this.#claim(own, asked === undefined ? undefined : { window: asked, asked: true });
    await this.#ensureLoaded(spec, signal);
    // Only what the prompt is made of crosses the IPC channel (a request may hold functions). A raw
    // prompt is counted as the engine evaluates it, without the chat template its message would get.
    const { messages, tools, toolChoice, completion } = request;
    const raw = completion && {
      prompt: completion.prompt,
      ...(completion.suffix !== undefined && { suffix: completion.suffix }),
      ...(completion.tokens !== undefined && { tokens: completion.tokens }),
      ...(completion.tokensThen !== undefined && { tokensThen: completion.tokensThen }),
    };
    const counted: ProviderChatRequest = {
      model,
      upstreamModel: model,
      stream: false,
      messages,
      tools,
      toolChoice,
      ...(raw && { completion: raw }),
    };
    const count = (await this.#engine.call({ op: "count", model: spec, request: counted }, signal)) as number;
    this.#touch(spec, undefined);
    return count;
  }

  /**
   * The models, the context window each will run with (configured, else its own capped at 8192) and
   * the context it was trained on (a request's num_ctx is capped at it), and when each was last made: its file's time, or its saved settings' when later (a model created
   * or copied from another is a hard link of that one's file, with settings written as it was made).
   */
  async listModels(): Promise<ModelInfo[]> {
    this.#dropStale();
    const entries = await localModelEntries(this.options.dataDir, this.options.models);
    const models = await Promise.all(
      [...entries].map(async ([id, entry]) => {
        const gguf = await readGgufInfo(entry.path, { maxArrayItems: 0 }).catch(() => undefined);
        const trained = gguf?.contextLength;
        // The window a load holds, unless a request's num_ctx chose it: a request that asks none gets the model's own.
        const claimed = this.#windows.get(id);
        const held = claimed?.asked === true ? undefined : this.#loaded.get(this.#currentKey(id))?.info.contextSize;
        // Else the window the engine loads it with (a configured one capped at the trained context).
        const contextWindow = held ?? windowCap(entry.contextSize, trained);
        const file: ModelFile | undefined = gguf && {
          bytes: gguf.fileSize,
          ...(gguf.architecture && { architecture: gguf.architecture }),
          ...(gguf.quantization && { quantization: gguf.quantization }),
          thinks: gguf.thinks,
        };
        const created = await modifiedSeconds([entry.path, settingsPath(this.options.dataDir, id)]);
        const info: ModelInfo = {
          id,
          contextWindow,
          // So the router fits a conversation to the window a request's num_ctx gets (see #trainedCap).
          ...(trained ? { trainedContext: trained } : {}),
          ownedBy: "local",
          ...(created !== undefined && { created }),
          ...(file && { file }),
        };
        return info;
      }),
    );
    return [...models, ...(await this.#pulledNameModels(models))];
  }

  /**
   * The names models were pulled by (`qwen2.5:0.5b`, `hf.co/owner/repo:Q8_0`; see pulledModelName),
   * each listed as its installed model is, as Ollama lists a model by the name it was pulled by. A
   * name a model is installed under wins; a name whose model is gone is not listed.
   */
  async #pulledNameModels(models: ModelInfo[]): Promise<ModelInfo[]> {
    const byId = new Map(models.map((m) => [m.id, m]));
    const out: ModelInfo[] = [];
    for (const [pulled, installed] of await readPulledNames(this.options.dataDir)) {
      const model = byId.get(installed);
      if (model === undefined || byId.has(pulled) || byId.has(pulled.slice(0, -LATEST.length))) continue;
      out.push({ ...model, id: pulled });
    }
    return out;
  }

  /**
   * Pings the engine when it runs; otherwise checks that at least one model file is there. While a
   * model loads (a big one may rightly take a minute) the ping would wait for it, so the probe asks
   * only that the engine answers from its event loop: the load's own progress is watched by the
   * engine (a frozen or stalled load restarts it), and a loading engine is not an unhealthy one.
   */
  async probe(signal: AbortSignal): Promise<void> {
    if (this.#engine.loading) {
      await this.#engine.alive(signal);
      return;
    }
    if (this.#engine.running) {
      await this.#engine.ping(signal);
      return;
    }
    const entries = await localModelEntries(this.options.dataDir, this.options.models);
    for (const entry of entries.values()) {
      if (
        await stat(entry.path).then(
          (s) => s.isFile(),
          () => false,
        )
      )
        return;
    }
    throw new GatewayError("unavailable", `${this.id} has no model files (run \`tandem models pull\`).`, { retryable: false });
  }

  /** How busy a model is, for routing around a saturated engine. */
  load(model: string): SlotLoad | undefined {
    return this.#queues.get(this.#currentKey(model))?.load();
  }

  /** Loads a model now and keeps it for `keepAliveMs` (Ollama's empty request with keep_alive). */
  async preload(model: string, keepAliveMs: number | undefined, signal: AbortSignal): Promise<void> {
    const spec = this.#claim(await this.#spec(model));
    if (keepAliveMs === 0) {
      await this.unload(spec.name);
      return;
    }
    await this.#ensureLoaded(spec, signal);
    this.#touch(spec, keepAliveMs);
  }

  /**
   * Unloads a model now, or, while requests use it (running or queued), once they are done: as
   * Ollama does, an unload does not fail the answers in progress (the engine disposed of the model
   * under them: "Object is disposed").
   */
  unload(name: string): Promise<void> {
    return this.#unloadInstance(this.#currentKey(name));
  }

  /** Unloads one load of a model (its instanceKey) now, or once the requests on it are done (see unload). */
  async #unloadInstance(key: string): Promise<void> {
    const loaded = this.#loaded.get(key);
    if (!loaded) return;
    clearTimeout(loaded.timer);
    if (this.#inUse(key)) {
      loaded.unloadWhenIdle = true;
      loaded.expiresAt = Date.now();
      loaded.timer = undefined;
      return;
    }
    this.#loaded.delete(key);
    // A replaced model's old load takes its (idle) queue with it; new requests have their own.
    if (key !== this.#currentKey(loaded.info.name)) this.#queues.delete(key);
    if (this.#engine.running) await this.#engine.call({ op: "unload", key }).catch(() => undefined);
    loaded.markGone();
  }

  /**
   * A model's file or settings were replaced, or it was deleted: new requests get a new load of it
   * (its next generation), or a 404 once it is gone, at once, while the requests already on the old
   * load (running, or waiting for one of its slots) finish on it; it unloads once they are done. As
   * Ollama's scheduler does, a model marked for reload or unload takes no new requests.
   */
  async #replaced(name: string): Promise<void> {
    const key = this.#currentKey(name);
    this.#generations.set(name, this.#generation(name) + 1);
    await this.#unloadInstance(key);
  }

  /** The saved settings of a local model (Ollama's create), for /api/show; undefined when it has none. */
  async modelSettings(model: string): Promise<ModelSettings | undefined> {
    const spec = await this.#spec(model);
    return this.#settingsOf(spec.name);
  }

  /**
   * Deletes a model (Ollama's /api/delete): unloads it, then removes its file and settings. A model
   * the config names with a file outside `<dataDir>/models` is refused: tandem removes only what it
   * installed. So is a model whose file another name still serves (another configured model, or the
   * file's own name in the models folder): as Ollama never removes a blob another model uses, deleting
   * one name must not take the file from the others, and a configured name cannot be removed alone.
   */
  async deleteModel(requested: string): Promise<void> {
    const { name: model, entry } = await this.#entry(requested);
    const configured = this.options.models[model] !== undefined;
    if (configured && !isInModelsDir(this.options.dataDir, entry.path)) {
      throw new GatewayError(
        "invalid_request",
        `${this.#target(model)} is configured with the file ${entry.path}, outside the models folder: tandem deletes only models it installed. Remove it from the config (providers.${this.id}.models.${model}) and delete the file yourself.`,
        { param: "model", target: this.#target(model) },
      );
    }
    const entries = await localModelEntries(this.options.dataDir, this.options.models);
    const sharing = await otherNamesOfFile(entries, model, entry.path);
    if (sharing.length > 0) {
      const inConfig = [model, ...sharing].filter((name) => this.options.models[name] !== undefined);
      const remedy =
        inConfig.length > 0
          ? `Take ${inConfig.map((name) => `providers.${this.id}.models.${name}`).join(" and ")} out of the config first, or delete the file yourself.`
          : "Delete the file yourself if none of them is wanted.";
      throw new GatewayError(
        "invalid_request",
        `${this.#target(model)} is not deleted: its file ${entry.path} is also served as ${sharing.map((name) => this.#target(name)).join(", ")}, which would lose it. ${remedy}`,
        { param: "model", target: this.#target(model) },
      );
    }
    await this.#replaced(model);
    if (configured) await rm(entry.path, { force: true });
    else await removeModel(this.options.dataDir, model);
    await removeModelSettings(this.options.dataDir, model);
    await forgetPulledNames(this.options.dataDir, model);
    this.#settings.delete(model);
  }

  /** Copies a model under a new name in `<dataDir>/models` (Ollama's /api/copy): a hard link where possible. */
  async copyModel(requested: string, destination: string): Promise<string> {
    const { name: source, entry } = await this.#entry(requested);
    const made = libraryModelName(destination);
    if (made !== source) this.#claimName(made, installedModelPath(this.options.dataDir, made));
    const name = await copyModel(this.options.dataDir, { name: source, path: entry.path }, destination);
    this.#settings.delete(name);
    // A model loaded under the destination's name holds the file it replaced.
    if (name !== source) await this.#replaced(name);
    return name;
  }

  /** Ollama's /api/create: a new model from an installed one or an uploaded GGUF blob, with saved defaults. */
  async createModel(request: CreateModelRequest, onStatus: (status: string) => void, signal: AbortSignal): Promise<string> {
    const made = libraryModelName(request.name);
    this.#claimName(made, installedModelPath(this.options.dataDir, made));
    const name = await createModel(
      this.options.dataDir,
      request,
      async (from) => {
        const found = await this.#entry(from).catch(() => undefined);
        return found && { name: found.name, path: found.entry.path };
      },
      onStatus,
      signal,
    );
    this.#settings.delete(name);
    // A loaded model of that name holds the old file and defaults: the next request loads the new one.
    await this.#replaced(name);
    return name;
  }

  /**
   * Refuses to make a model (create, copy, pull) under a name the config gives another file: the
   * configured model would still be served, with the new one's saved settings, and /api/delete
   * could not undo it (it removes only what tandem installed). See configuredNameRefusal.
   */
  #claimName(name: string, destination: string): void {
    const refusal = configuredNameRefusal(this.id, this.options.dataDir, this.options.models, name, destination);
    if (refusal) throw refusal;
  }

  hasBlob(digest: string): Promise<boolean> {
    return hasBlob(this.options.dataDir, digest);
  }

  async putBlob(digest: string, body: AsyncIterable<Uint8Array>, signal: AbortSignal): Promise<void> {
    await putBlob(this.options.dataDir, digest, body, signal);
  }

  /**
   * Whether a model (by name in this provider) would fit in memory if loaded now, by node-llama-cpp's
   * own estimates for its weights and context in free RAM and VRAM (models already loaded count as
   * used). Loads nothing; starts the engine if it is not running.
   */
  async fitsInMemory(model: string, signal?: AbortSignal): Promise<MemoryFit> {
    const spec = this.#claim(await this.#spec(model));
    await checkModelFile(this.#target(spec.name), spec.path);
    return judgeFit((await this.#engine.call({ op: "fit", model: spec }, signal)) as MemoryNeeds);
  }

  engineState(): EngineState {
    return this.#engine.state();
  }

  loadedModels(): LoadedModelStatus[] {
    this.#dropStale();
    return [...this.#loaded].map(([key, { info, expiresAt, unloadWhenIdle, generation }]) => ({
      ...info,
      target: this.#target(info.name),
      expiresAt: expiresAt === undefined ? undefined : new Date(expiresAt).toISOString(),
      ...((unloadWhenIdle || generation !== this.#generation(info.name)) && { unloading: true as const }),
      load: this.#queues.get(key)?.load() ?? {
        slots: info.parallel,
        active: 0,
        queued: 0,
        maxQueue: this.options.maxQueue ?? 16,
      },
    }));
  }

  async close(): Promise<void> {
    this.#forgetLoads();
    await this.#engine.close();
  }

  #target(name: string): string {
    return `${this.id}/${name}`;
  }

  #generation(name: string): number {
    return this.#generations.get(name) ?? 0;
  }

  /** The key of the load new requests for a model get. */
  #currentKey(name: string): string {
    return instanceKey({ name, generation: this.#generation(name) });
  }

  #settingsOf(name: string): Promise<ModelSettings | undefined> {
    let settings = this.#settings.get(name);
    if (!settings) {
      settings = readModelSettings(this.options.dataDir, name);
      this.#settings.set(name, settings);
      // A damaged file is reported on each request until it is fixed, not cached.
      settings.catch(() => this.#settings.delete(name));
    }
    return settings;
  }

  /** The loads held, by instanceKey, for eviction. */
  #resident(): ResidentModel[] {
    return [...this.#loaded].map(([key, { info, lastUsedMs }]) => ({
      name: key,
      lastUsedMs,
      busy: this.#inUse(key),
      bytes: info.modelBytes,
    }));
  }

  /** An installed or configured model by name (`:latest` dropped when only the bare name exists). */
  async #entry(requested: string): Promise<{ name: string; entry: LocalModelEntry }> {
    const entries = await localModelEntries(this.options.dataDir, this.options.models);
    const model = !entries.has(requested) && requested.endsWith(LATEST) ? requested.slice(0, -LATEST.length) : requested;
    const entry = entries.get(model);
    if (entry) return { name: model, entry };
    // A name the model was pulled by (`qwen2.5:0.5b`) means the model it installed.
    const installed = installedNameOf(await readPulledNames(this.options.dataDir), requested);
    const pulled = installed === undefined ? undefined : entries.get(installed);
    if (installed !== undefined && pulled) return { name: installed, entry: pulled };
    const names = [...entries.keys()].map((n) => this.#target(n));
    throw new GatewayError(
      "not_found",
      `model '${this.#target(model)}' not found. ${names.length ? `Local models: ${names.join(", ")}.` : "No local models are installed."}`,
      { param: "model", target: this.#target(model), retryable: false },
    );
  }

  async #spec(requested: string): Promise<ModelSpec> {
    let model = requested;
    let entry = await localModelEntry(this.options.dataDir, this.options.models, model);
    // Ollama's clients add `:latest` to a name without a tag; one model, one name (and one load).
    if (!entry && model.endsWith(LATEST)) {
      model = model.slice(0, -LATEST.length);
      entry = await localModelEntry(this.options.dataDir, this.options.models, model);
    }
    if (!entry) {
      // A name the model was pulled by (`qwen2.5:0.5b`) means the model it installed: one model, one load.
      const installed = installedNameOf(await readPulledNames(this.options.dataDir), requested);
      const pulled =
        installed === undefined ? undefined : await localModelEntry(this.options.dataDir, this.options.models, installed);
      if (installed !== undefined && pulled) {
        model = installed;
        entry = pulled;
      }
    }
    // Its file removed or replaced beside the server since it was loaded: the next load is of what is there now.
    this.#dropStale(model);
    if (!entry) {
      const entries = await localModelEntries(this.options.dataDir, this.options.models);
      const names = [...entries.keys()].map((n) => this.#target(n));
      throw new GatewayError(
        "not_found",
        `The model '${this.#target(model)}' does not exist. ${names.length ? `Local models: ${names.join(", ")}.` : "No local models are installed (run `tandem models pull`)."}`,
        { param: "model", target: this.#target(model), retryable: false },
      );
    }
    const numCtx = (await this.#settingsOf(model))?.parameters?.num_ctx;
    return {
      name: model,
      path: entry.path,
      contextSize: entry.contextSize ?? (typeof numCtx === "number" && numCtx > 0 ? numCtx : undefined),
      parallel: entry.parallel ?? this.options.parallel ?? 2,
      threads: entry.threads ?? this.#threads,
      gpuLayers: entry.gpuLayers ?? this.options.gpuLayers ?? "auto",
      generation: this.#generation(model),
    };
  }

  /**
   * The spec of the load a request runs on. Each generation of a model (see #replaced) runs with one
   * window, claimed by its first request: a chat claims the window it asks for (Ollama's num_ctx,
   * else the model's own: its config's contextSize or saved num_ctx); other work (embeddings,
   * counting, a preload) takes the one the generation has, or claims the model's own. A chat whose
   * window differs from its generation's starts the next generation with it, as Ollama's scheduler
   * reloads a model for a request whose options changed: the requests already on the old load finish
   * on it, uncut, and it unloads once they are done. Synchronous from the check to the claim, so two
   * requests cannot claim one generation with two windows.
   */
  #claim(spec: ModelSpec, wanted?: { window: number | undefined; asked: boolean }): ModelSpec {
    const generation = this.#generation(spec.name);
    const claimed = this.#windows.get(spec.name);
    if (claimed === undefined || claimed.generation !== generation) {
      const window = wanted?.window ?? spec.contextSize;
      this.#windows.set(spec.name, { generation, window, asked: wanted?.asked ?? false });
      return { ...spec, contextSize: window, generation };
    }
    if (wanted === undefined || wanted.window === claimed.window) {
      return { ...spec, contextSize: claimed.window, generation };
    }
    void this.#replaced(spec.name);
    const next = this.#generation(spec.name);
    this.#windows.set(spec.name, { generation: next, window: wanted.window, asked: wanted.asked });
    return { ...spec, contextSize: wanted.window, generation: next };
  }

  /** A window a request asks for, at most the model's trained context (as Ollama caps num_ctx). */
  async #trainedCap(spec: ModelSpec, asked: number): Promise<number> {
    const trained = (await readGgufInfo(spec.path, { maxArrayItems: 0 }).catch(() => undefined))?.contextLength;
    return windowCap(asked, trained);
  }

  #queue(spec: ModelSpec): SlotQueue {
    const key = instanceKey(spec);
    let queue = this.#queues.get(key);
    if (!queue || queue.slots !== spec.parallel) {
      queue = new SlotQueue(this.#target(spec.name), spec.parallel, this.options.maxQueue ?? 16);
      this.#queues.set(key, queue);
    }
    return queue;
  }

  /** The model as the engine holds it, loaded and ready (a request on it waits for no load), if it does. */
  #held(spec: ModelSpec): LoadedModelInfo | undefined {
    const loaded = this.#loaded.get(instanceKey(spec));
    return loaded !== undefined && loaded.info.path === spec.path && this.#engine.running ? loaded.info : undefined;
  }

  async #ensureLoaded(spec: ModelSpec, signal: AbortSignal): Promise<LoadedModelInfo> {
    const held = this.#held(spec);
    if (held) return held;
    const key = instanceKey(spec);
    let loading = this.#loading.get(key);
    if (!loading) {
      loading = this.#load(spec).finally(() => this.#loading.delete(key));
      this.#loading.set(key, loading);
    }
    return await abortable(loading, signal, () => canceledError(this.#target(spec.name)));
  }

  async #load(spec: ModelSpec): Promise<LoadedModelInfo> {
    const target = this.#target(spec.name);
    const poisoned = this.#poisoned.get(spec.path);
    if (poisoned) {
      const mtimeMs = await stat(spec.path).then(
        (s) => s.mtimeMs,
        () => -1,
      );
      if (Number.isNaN(poisoned.mtimeMs) || mtimeMs === poisoned.mtimeMs) {
        throw new GatewayError(
          "unavailable",
          `${target} cannot be loaded: ${spec.path} crashed the engine (${poisoned.reason}).`,
          {
            target,
            retryable: false,
          },
        );
      }
      this.#poisoned.delete(spec.path);
    }
    const bytes = await modelBytesOnDisk(spec.path);
    const gguf = await checkModelFile(target, spec.path);
    // node-llama-cpp's own estimate (weights and context, in free RAM and VRAM, next to the models
    // still loaded) decides both whether an idle model must make room and whether it fits at all.
    const engineFit = async (): Promise<MemoryFit> =>
      judgeFit((await this.#engine.call({ op: "fit", model: spec })) as MemoryNeeds);
    const key = instanceKey(spec);
    const incoming = { name: key, path: spec.path, bytes };
    const fitsBeside: FitCheck = this.options.fits ?? (async () => (await engineFit()).fits);
    await evictUntilFits(
      incoming,
      () => this.#resident(),
      fitsBeside,
      (evicted) => this.#unloadInstance(evicted),
    );
    // A model on its way out (replaced, or unloaded while in use) holds memory it gives back once its
    // answers are done: while this one does not fit beside it, wait for it, as Ollama's scheduler
    // waits for a reload, rather than refuse the load.
    for (
      let leaving = this.#leaving();
      leaving.length > 0 &&
      !(await fitsBeside(
        incoming,
        this.#resident().filter((m) => m.name !== key),
      ));
      leaving = this.#leaving()
    ) {
      await Promise.race(leaving);
    }
    const fit = await engineFit();
    if (!fit.fits)
      throw new GatewayError("unavailable", `${target} cannot be loaded: ${fit.reason}`, { target, retryable: false });
    const file = fileIdentity(spec.path);
    const loaded = (await this.#engine.call({ op: "load", model: spec })) as LoadedModelInfo;
    const info: LoadedModelInfo = { ...loaded, quantization: gguf.quantization ?? "unknown" };
    let markGone = () => {};
    const gone = new Promise<void>((resolve) => {
      markGone = resolve;
    });
    this.#loaded.set(key, {
      info,
      generation: spec.generation,
      expiresAt: undefined,
      timer: undefined,
      lastUsedMs: Date.now(),
      gone,
      markGone,
      file,
    });
    // The memory figures in the status follow the load.
    void this.#engine.ping().catch(() => undefined);
    return info;
  }

  /**
   * Unloads the models (or `only` that one) whose file was removed or replaced on disk since they
   * were loaded, beside the server (`tandem models rm`, a pull with --force, a file deleted by hand),
   * as /api/delete and /api/create do: /api/ps stops listing one at once, new requests get a 404 or
   * the new file, and the requests already on the old load finish on it. A stat of each held
   * model's file, synchronous so that the listing asked for is already right.
   */
  #dropStale(only?: string): void {
    const stale = new Set<string>();
    for (const { info, generation, file } of this.#loaded.values()) {
      if (only !== undefined && info.name !== only) continue;
      if (file === undefined || generation !== this.#generation(info.name)) continue;
      const now = fileIdentity(info.path);
      if (now === undefined || now.ino !== file.ino || now.dev !== file.dev || now.mtimeMs !== file.mtimeMs) stale.add(info.name);
    }
    for (const name of stale) void this.#replaced(name);
  }

  /** The loads that unload once their requests are done: replaced models, unloads asked while in use. */
  #leaving(): Promise<void>[] {
    return [...this.#loaded.values()].filter((l) => l.unloadWhenIdle).map((l) => l.gone);
  }

  /**
   * Restarts the keep-alive clock of a model's load after a request (Ollama's keep_alive wins when
   * given); a load on its way out, or of a replaced model, unloads now if that was its last request.
   */
  #touch(spec: ModelSpec, keepAliveMs: number | undefined): void {
    const key = instanceKey(spec);
    const loaded = this.#loaded.get(key);
    if (!loaded) return;
    clearTimeout(loaded.timer);
    loaded.lastUsedMs = Date.now();
    const replaced = loaded.generation !== this.#generation(spec.name);
    const ms = loaded.unloadWhenIdle || replaced ? 0 : (keepAliveMs ?? this.options.keepAliveMs ?? 900_000);
    if (ms < 0) {
      loaded.expiresAt = undefined;
      loaded.timer = undefined;
      return;
    }
    loaded.expiresAt = Date.now() + ms;
    loaded.timer = setTimeout(() => {
      if (this.#inUse(key)) return; // the request's end re-arms it
      void this.#unloadInstance(key);
    }, ms);
    loaded.timer.unref();
  }

  /** Every load is gone with the engine: their timers stopped, and whoever waits for one's memory told. */
  #forgetLoads(): void {
    for (const loaded of this.#loaded.values()) {
      clearTimeout(loaded.timer);
      loaded.markGone();
    }
    this.#loaded.clear();
  }

  /** Whether requests run on a model's load (its instanceKey) or wait for it. */
  #inUse(key: string): boolean {
    const load = this.#queues.get(key)?.load();
    return load !== undefined && (load.active > 0 || load.queued > 0);
  }

  #onEngineExit(exit: EngineExit): void {
    this.#forgetLoads();
    if (exit.loadingPath && !exit.killed) {
      const path = exit.loadingPath;
      // Refused at once; its mtime (to notice a replaced file) follows.
      const entry = { reason: exit.reason, mtimeMs: Number.NaN };
      this.#poisoned.set(path, entry);
      void stat(path).then(
        (s) => {
          entry.mtimeMs = s.mtimeMs;
        },
        () => undefined,
      );
    }
  }
}

const LATEST = ":latest";

/** Which file a path is, and when it was last written: a file replaced (renamed over) or rewritten is another. */
interface FileIdentity {
  dev: number;
  ino: number;
  mtimeMs: number;
}

/** Undefined when the path is no longer there, or cannot be read. */
function fileIdentity(path: string): FileIdentity | undefined {
  try {
    const s = statSync(path, { throwIfNoEntry: false });
    return s === undefined ? undefined : { dev: s.dev, ino: s.ino, mtimeMs: s.mtimeMs };
  } catch {
    return undefined;
  }
}

/** The latest modification time of the files that exist among `paths`, in Unix seconds; undefined when none does. */
async function modifiedSeconds(paths: string[]): Promise<number | undefined> {
  const times = await Promise.all(
    paths.map((path) =>
      stat(path).then(
        (s) => s.mtimeMs,
        () => undefined,
      ),
    ),
  );
  const known = times.filter((t): t is number => t !== undefined);
  return known.length === 0 ? undefined : Math.floor(Math.max(...known) / 1000);
}

function withTarget(err: unknown, target: string): GatewayError {
  if (err instanceof GatewayError) {
    return err.target
      ? err
      : new GatewayError(err.code, err.message, {
          target,
          retryable: err.retryable,
          retryAfterMs: err.retryAfterMs,
          param: err.param,
          reason: err.reason,
          status: err.status,
        });
  }
  return new GatewayError("upstream_error", `${target}: ${(err as Error)?.message ?? String(err)}`, { target });
}
