import { type ChildProcess, fork } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { backoffDelayMs, type EngineState, GatewayError, type StreamEvent } from "../../core/index.js";
import { installBinaryPackages } from "./binary-install.js";
import { abortable, canceledError } from "./cancellation.js";
import type {
  ChildMessage,
  EngineBackend,
  EngineGpu,
  EngineMemory,
  EngineOptions,
  ParentMessage,
  PingResult,
} from "./engine-protocol.js";
import { cpuBinaryPackage } from "./gpu-packages.js";

export type { EngineState } from "../../core/index.js";

/** Distributive Omit, so each request kind keeps its own fields. */
type Request = ParentMessage extends infer M ? (M extends { id: number } ? Omit<M, "id"> : never) : never;

interface Pending {
  op: ParentMessage["op"];
  resolve: (value: unknown) => void;
  reject: (err: GatewayError) => void;
  onEvent: ((event: StreamEvent) => void) | undefined;
}

export interface EngineProcessOptions extends EngineOptions {
  /** How long the child may take to start (load the native binding). Default 30000. */
  startTimeoutMs?: number;
  /**
   * How long a canceled request may take to stop, and the child to answer a liveness check while it
   * loads a model, before it is taken for hung and killed. Default 2000.
   */
  cancelGraceMs?: number;
  /**
   * How long a model load may go without progress (a load step done, a percent of its weights
   * loaded) before the child is taken for hung and killed, though it still answers: a native load
   * step that never returns. Default 120000.
   */
  loadStallMs?: number;
  /** Where the child's own log lines (llama.cpp warnings) go. Default: stderr, prefixed. */
  onLog?: (line: string) => void;
  /** Told when the child dies, with why and the file it was loading then, if any. */
  onExit?: (info: EngineExit) => void;
}

/**
 * Requests with no cancel and no time limit of their own: a load of big weights may rightly take a
 * minute. While one runs the child must keep answering liveness checks, which a slow load does (its
 * native work runs off the child's event loop) and a frozen child (stopped, or stuck in a native call
 * on its event loop) does not.
 */
const LOAD_OPS: ReadonlySet<ParentMessage["op"]> = new Set(["load", "fit", "unload"]);

/** A child found no prebuilt llama.cpp binary for this platform and exited. */
class MissingBinary extends Error {
  constructor(
    readonly version: string,
    readonly detail: string,
  ) {
    super(`no prebuilt llama.cpp binary (${detail})`);
  }
}

/** Whether this Linux runs on glibc (Node's diagnostic report names its version; musl has none). */
function hasGlibc(): boolean {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return typeof report?.header?.glibcVersionRuntime === "string";
}

/** How long a dead child's IPC channel is given to deliver what it sent before its exit is handled. */
const EXIT_DRAIN_MS = 500;
/** How long a failed install of the missing binary is not tried again (each request would run npm). */
const INSTALL_RETRY_MS = 60_000;

export interface EngineExit {
  reason: string;
  /** The model file the child was loading when it died (a native abort on a bad file). */
  loadingPath: string | undefined;
  /** Whether tandem killed it (hung, closing) rather than it dying by itself. */
  killed: boolean;
}

/** Signals a process raises on itself when native code fails (abort, bad memory access, bad arithmetic). */
const CRASH_SIGNALS = new Set(["SIGABRT", "SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGTRAP", "SIGSYS"]);

/** Whether a child died of its own failure rather than being killed from outside (SIGKILL, SIGTERM: an operator, the OOM killer). */
function diedOfItself(code: number | null, signal: NodeJS.Signals | null): boolean {
  return signal ? CRASH_SIGNALS.has(signal) : code !== 0;
}

const RESTART_BASE_MS = 500;
const RESTART_MAX_MS = 30_000;
/** A child that lived this long resets the restart backoff. */
const STABLE_MS = 60_000;

/**
 * One supervised engine child process. Started on first use, restarted on the next use after it
 * dies (with a growing delay when it keeps dying), killed when it hangs: a canceled generation that
 * does not stop in time, or a child that stops answering liveness checks while it loads a model or
 * after another canceled request. Requests in flight when it dies fail with a retryable error.
 */
export class EngineProcess {
  #child: ChildProcess | undefined;
  #starting: Promise<ChildProcess> | undefined;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  #loadingPath: string | undefined;
  /** The file the engine last said it was loading, for the status while a load runs. */
  #lastLoad: { path: string; progress?: number; since: string } | undefined;
  #startedAt = 0;
  #crashes = 0;
  #notBefore = 0;
  #closed = false;
  #restarts = 0;
  #lastExit: string | undefined;
  #engine: string | undefined;
  #backend: EngineBackend | undefined;
  #memory: EngineMemory | undefined;
  /** The backend children start with: the configured one until a child on it fails to start, then the CPU. */
  #gpu: EngineGpu;
  /** Why the engine gave up on the configured GPU backend, once it has. */
  #gpuGaveUp: string | undefined;
  /** Stops an install of a missing binary when the engine is shut down. */
  readonly #closing = new AbortController();
  /** The last failed install of a missing binary, repeated to callers until it may be tried again. */
  #installFailed: { at: number; error: GatewayError } | undefined;

  constructor(private readonly options: EngineProcessOptions) {
    this.#gpu = options.gpu;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  state(): EngineState {
    return {
      running: this.running,
      pid: this.pid,
      engine: this.#engine,
      restarts: this.#restarts,
      lastExit: this.#lastExit,
      backend: this.#backend,
      memory: this.running ? this.#memory : undefined,
      ...(this.loading && this.#lastLoad && { loading: this.#lastLoad }),
    };
  }

  /** Sends a request and resolves with its result; `onEvent` receives a chat's stream events. */
  async call(request: Request, signal?: AbortSignal, onEvent?: (event: StreamEvent) => void): Promise<unknown> {
    const child = await this.#ensureChild(signal);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const pending: Pending = { op: request.op, resolve, reject, onEvent };
      this.#pending.set(id, pending);
      const onAbort = () => this.#cancel(id);
      signal?.addEventListener("abort", onAbort, { once: true });
      const done = () => signal?.removeEventListener("abort", onAbort);
      pending.resolve = (v) => {
        done();
        resolve(v);
      };
      pending.reject = (e) => {
        done();
        reject(e);
      };
      child.send({ ...request, id } as ParentMessage);
      if (LOAD_OPS.has(request.op)) this.#watchLoad(child);
    });
  }

  /** The liveness check in flight, if any: its id, and its timer. */
  #aliveCheck: { id: number; timer: NodeJS.Timeout } | undefined;

  /**
   * Asks the child whether it is alive: it answers from its event loop at once, however busy its
   * native work (a load, a generation queued behind one) is. No answer within the grace means a frozen
   * child (stopped, or stuck in a native call on its event loop), which is killed: everything on it
   * fails retryably (the router fails the requests over), and the next request starts a new child.
   */
  #checkAlive(child: ChildProcess, during: string): void {
    if (this.#aliveCheck || this.#child !== child) return;
    const grace = this.#cancelGraceMs();
    const check = {
      id: this.#nextId++,
      timer: setTimeout(
        () =>
          // After this turn's I/O: an answer that came while this process itself was too busy to read it counts.
          setImmediate(() => {
            if (this.#aliveCheck !== check) return;
            this.#aliveCheck = undefined;
            if (this.#child === child) this.kill(`no answer to a liveness check within ${grace} ms ${during}: frozen`);
          }),
        grace,
      ),
    };
    check.timer.unref();
    this.#aliveCheck = check;
    child.send({ op: "alive", id: check.id } satisfies ParentMessage);
  }

  /** Checks liveness every grace period while load requests run on the child. */
  #loadWatch: NodeJS.Timeout | undefined;

  /** When the last load request ended (ms since the epoch), for the hang check of a canceled generation. */
  #loadEndedAt = 0;

  /** When the loads running last made progress (started, reported a percent, or one ended). */
  #loadProgressAt = 0;

  #loadRunning(): boolean {
    for (const p of this.#pending.values()) if (LOAD_OPS.has(p.op)) return true;
    return false;
  }

  /**
   * Loads, fits and unloads have no cancel and no time limit (a big model may rightly take a minute
   * to load), so while one runs the child must keep answering liveness checks, and the loads must
   * keep making progress now and then (`loadStallMs`). A request waiting for the load that gives up
   * (its deadline, its client) fails over at once either way; this keeps a frozen or stuck load from
   * wedging the model for later requests and for callers with no deadline (a warm-up).
   */
  #watchLoad(child: ChildProcess): void {
    if (this.#loadWatch) return;
    this.#loadProgressAt = Date.now();
    this.#loadWatch = setInterval(() => {
      if (this.#child !== child || !this.#loadRunning()) {
        this.#stopLoadWatch();
        return;
      }
      const stallMs = this.options.loadStallMs ?? 120_000;
      if (Date.now() - this.#loadProgressAt > stallMs) {
        this.kill(`a model load made no progress for ${stallMs} ms (hung)`);
        return;
      }
      this.#checkAlive(child, "while it loaded a model");
    }, this.#cancelGraceMs());
    this.#loadWatch.unref();
  }

  #stopLoadWatch(): void {
    clearInterval(this.#loadWatch);
    this.#loadWatch = undefined;
  }

  /** Whether a load (or a fit, an unload) is under way on the child: it holds the child's thread pool. */
  get loading(): boolean {
    return this.#child !== undefined && this.#loadRunning();
  }

  /**
   * Resolves once the child answers from its event loop, as it does at once however long a load
   * holds its thread pool (a ping waits for the load). Nothing when no child runs.
   */
  async alive(signal?: AbortSignal): Promise<void> {
    if (!this.#child) return;
    await this.call({ op: "alive" }, signal);
  }

  /** Pings the child if it runs; undefined when it does not (a stopped engine is not a sick one). */
  async ping(signal?: AbortSignal): Promise<PingResult | undefined> {
    if (!this.#child) return undefined;
    const result = (await this.call({ op: "ping" }, signal)) as PingResult;
    this.#memory = result.memory;
    return result;
  }

  #cancel(id: number): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    const child = this.#child;
    // The caller has gone: it is told at once, and the child's late answer is ignored.
    this.#pending.delete(id);
    if (LOAD_OPS.has(pending.op)) this.#loadEndedAt = this.#loadProgressAt = Date.now();
    pending.reject(canceledError("the local engine"));
    if (!child) return;
    if (pending.op !== "chat") {
      // Nothing else can be stopped in the child, so its answer may rightly come late (a status ping
      // waits for a model being loaded): only a child that no longer answers at all is hung.
      this.#checkAlive(child, `after a canceled ${pending.op}`);
      return;
    }
    child.send({ op: "cancel", id } satisfies ParentMessage);
    const canceledAt = Date.now();
    const grace = this.#cancelGraceMs();
    const judge = () => {
      if (!this.#orphans.has(id) || this.#child !== child) return;
      // The generation's native steps share the child's one libuv thread with model loads: while a
      // load holds it, a generation cannot stop, so its grace counts from when it could have.
      const left = this.#loadRunning() ? grace : Math.max(canceledAt, this.#loadEndedAt) + grace - Date.now();
      if (left > 0) {
        const timer = setTimeout(judge, left);
        timer.unref();
        this.#orphans.set(id, timer);
        return;
      }
      // Still unconfirmed: the child did not react to the cancel, so it is hung (a stopped child, or a
      // native step that never returns). After this turn's I/O, so a confirmation that came while this
      // process itself was too busy to read it counts.
      setImmediate(() => {
        if (this.#orphans.has(id) && this.#child === child)
          this.kill(`a canceled request did not stop within ${grace} ms (hung)`);
      });
    };
    const timer = setTimeout(judge, grace);
    timer.unref();
    this.#orphans.set(id, timer);
  }

  /** Canceled requests whose stop the child has not confirmed yet, with their hung-detection timers. */
  readonly #orphans = new Map<number, NodeJS.Timeout>();

  #cancelGraceMs(): number {
    return this.options.cancelGraceMs ?? 2000;
  }

  /** A line of the engine's own (its stderr, an install's progress): to `onLog`, else to stderr. */
  #log(line: string): void {
    if (this.options.onLog) this.options.onLog(line);
    else process.stderr.write(`[local engine] ${line}\n`);
  }

  async #ensureChild(signal?: AbortSignal): Promise<ChildProcess> {
    if (this.#closed) throw new GatewayError("unavailable", "The local engine is shut down.", { retryable: false });
    if (this.#child) return this.#child;
    const wait = this.#notBefore - Date.now();
    if (wait > 0 && !this.#starting) {
      throw new GatewayError(
        "unavailable",
        `The local engine crashed ${this.#crashes} times in a row; it restarts in ${wait} ms.`,
        {
          retryAfterMs: wait,
        },
      );
    }
    this.#starting ??= this.#startWithBinary().finally(() => {
      this.#starting = undefined;
    });
    if (!signal) return this.#starting;
    return await abortable(this.#starting, signal, () => canceledError("the local engine", " while it started"));
  }

  /**
   * Starts a child; when node-llama-cpp finds no prebuilt binary to load (its CPU build is an optional
   * dependency, which `npm install --omit=optional` leaves out), installs the CPU build into
   * `binariesDir` (as `tandem gpu install cpu` does) and starts again. Never builds llama.cpp from
   * source (the child asks node-llama-cpp for prebuilt binaries only), never waits on npm forever.
   */
  async #startWithBinary(): Promise<ChildProcess> {
    try {
      return await this.#spawnOrFallBack();
    } catch (err) {
      if (!(err instanceof MissingBinary)) throw err;
      await this.#installMissingBinary(err);
      try {
        return await this.#spawnOrFallBack();
      } catch (again) {
        if (!(again instanceof MissingBinary)) throw again;
        throw new GatewayError(
          "unavailable",
          `The local engine has no usable llama.cpp binary for ${process.platform}-${process.arch}: its CPU build was installed but node-llama-cpp still finds none it can load (${again.detail}).`,
          { retryable: false },
        );
      }
    }
  }

  async #installMissingBinary(missing: MissingBinary): Promise<void> {
    const name = cpuBinaryPackage(process.platform, process.arch);
    const dir = this.options.binariesDir;
    const fix = "Reinstall tandem without --omit=optional, or run `tandem gpu install cpu` once the npm registry is reachable.";
    if (!name || !dir) {
      throw new GatewayError(
        "unavailable",
        `The local engine has no prebuilt llama.cpp binary for ${process.platform}-${process.arch}${name ? "" : " (node-llama-cpp publishes none for it)"}. ${name ? fix : ""}`.trim(),
        { retryable: false },
      );
    }
    if (process.platform === "linux" && !hasGlibc()) {
      // node-llama-cpp's Linux builds need glibc (and it does not use them without it).
      throw new GatewayError(
        "unavailable",
        "The local engine has no llama.cpp binary for this system: node-llama-cpp's prebuilt Linux builds need glibc, and this one has another C library (musl, as on Alpine). Run tandem on a glibc-based system or image for local models.",
        { retryable: false },
      );
    }
    if (this.#installFailed && Date.now() - this.#installFailed.at < INSTALL_RETRY_MS) throw this.#installFailed.error;
    const spec = `${name}@${missing.version}`;
    this.#log(
      `node-llama-cpp found no prebuilt llama.cpp binary (tandem installed with --omit=optional?): installing ${spec} into ${dir} from the npm registry`,
    );
    const result = await installBinaryPackages(dir, [spec], (line) => this.#log(`npm: ${line}`), {
      signal: this.#closing.signal,
    });
    if (this.#closed) throw new GatewayError("unavailable", "The local engine is shut down.", { retryable: false });
    if (!result.ok) {
      const error = new GatewayError(
        "unavailable",
        `The local engine has no llama.cpp binary for ${process.platform}-${process.arch}, and installing ${spec} from the npm registry failed (${result.detail}). ${fix}`,
        { retryable: false },
      );
      this.#installFailed = { at: Date.now(), error };
      this.#log(error.message);
      throw error;
    }
    this.#installFailed = undefined;
    this.#log(`installed ${spec}; starting the engine`);
  }

  /**
   * Starts a child on the configured backend; when a GPU backend's child dies before it is ready (a
   * native binary that crashes on load: node-llama-cpp tests each binary in a process of its own
   * first, so this is the rare case that slips past), the engine starts again on the CPU and keeps
   * to it, saying why, instead of going down.
   */
  async #spawnOrFallBack(): Promise<ChildProcess> {
    const gpu = this.#gpu;
    try {
      return await this.#spawn(gpu);
    } catch (err) {
      if (
        gpu === false ||
        this.#closed ||
        !(err instanceof GatewayError) ||
        !/failed to start|did not start in time/.test(err.message)
      )
        throw err;
      this.#gpu = false;
      this.#gpuGaveUp = `the engine on ${gpu === "auto" ? "the best GPU backend" : gpu} ${err.message.replace(/^The local engine /, "")}`;
      this.#crashes = 0;
      this.#notBefore = 0;
      this.#log(`${this.#gpuGaveUp}; starting it on the CPU`);
      return await this.#spawn(false);
    }
  }

  #spawn(gpu: EngineGpu): Promise<ChildProcess> {
    const here = fileURLToPath(import.meta.url);
    const ts = here.endsWith(".ts");
    const entry = fileURLToPath(new URL(`./worker/engine-worker.${ts ? "ts" : "js"}`, import.meta.url));
    const execArgv = ts ? ["--import", import.meta.resolve("tsx")] : [];
    const engineOptions: EngineOptions = { gpu, binariesDir: this.options.binariesDir };
    const child = fork(entry, [JSON.stringify(engineOptions)], {
      execArgv,
      // One libuv thread: after a batch is decoded, node-llama-cpp samples every sequence's next token
      // at once on libuv threads, and llama.cpp reorders the batch's logits rows lazily on first
      // access without a lock, so two samples at once could read each other's rows (a sequence then
      // continues with another's token: seen about once per 1,000 answers with 4 parallel sequences).
      // llama.cpp computes on its own threads (`threads`); this only queues the engine's native calls,
      // at the cost of a model load holding up generation on another model while it runs.
      // GGML_NO_BACKTRACE: on a native abort, ggml would otherwise attach gdb (where it is installed)
      // to print a backtrace, which stops the engine for seconds: the liveness check then takes the
      // crash for a freeze, and retries a model that will only crash it again.
      env: { ...process.env, UV_THREADPOOL_SIZE: "1", GGML_NO_BACKTRACE: "1" },
      serialization: "advanced",
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    this.#loadingPath = undefined;
    if (child.stderr) createInterface({ input: child.stderr }).on("line", (line) => line.trim() && this.#log(line));

    return new Promise((resolve, reject) => {
      const startTimeout = setTimeout(() => {
        child.kill("SIGKILL");
        reject(new GatewayError("unavailable", "The local engine did not start in time."));
      }, this.options.startTimeoutMs ?? 30_000);
      child.on("message", (message: ChildMessage) => {
        if (message.op === "no-binary") {
          // It exits by itself; its exit is neither a crash nor a failed start.
          clearTimeout(startTimeout);
          this.#killed.add(child);
          reject(new MissingBinary(message.version, message.message));
          return;
        }
        if (message.op === "ready") {
          clearTimeout(startTimeout);
          this.#child = child;
          this.#engine = message.engine;
          this.#backend = this.#gpuGaveUp
            ? { ...message.backend, requested: this.options.gpu, fallback: `${this.#gpuGaveUp}; running on the CPU` }
            : message.backend;
          this.#startedAt = Date.now();
          resolve(child);
          return;
        }
        this.#onMessage(message);
      });
      child.on("error", (err) => this.#log(`engine process error: ${err.message}`));
      child.on("exit", (code, sig) => {
        clearTimeout(startTimeout);
        const reason = sig ? `signal ${sig}` : `exit code ${code}`;
        const settle = () => {
          if (this.#child === child) {
            this.#onExit(reason, false, diedOfItself(code, sig));
          } else if (!this.#killed.delete(child)) {
            reject(new GatewayError("unavailable", `The local engine failed to start (${reason}).`));
            this.#noteCrash();
          }
        };
        // Node may report the exit before it has read what the child sent just before it died (its
        // docs: stdio "might still be open"); on a busy machine the `loading` message that names a
        // file which crashed llama.cpp came after the exit, and the file was not blamed. The channel
        // ends once it is read to its end: handle the death then (or after a bound, should it not).
        if (!child.connected) return settle();
        const bound = setTimeout(settle, EXIT_DRAIN_MS);
        child.once("disconnect", () => {
          clearTimeout(bound);
          settle();
        });
      });
    });
  }

  /** Children killed by tandem whose exit has not been seen yet. */
  readonly #killed = new Set<ChildProcess>();

  #onMessage(message: ChildMessage): void {
    if (message.op === "loading") {
      this.#loadingPath = message.path;
      this.#loadProgressAt = Date.now();
      const since = this.#lastLoad?.path === message.path && message.progress !== undefined ? this.#lastLoad.since : undefined;
      this.#lastLoad = {
        path: message.path,
        ...(message.progress !== undefined && { progress: message.progress }),
        since: since ?? new Date().toISOString(),
      };
      return;
    }
    if (message.op === "ready" || message.op === "no-binary") return;
    if (message.id === this.#aliveCheck?.id) {
      clearTimeout(this.#aliveCheck.timer);
      this.#aliveCheck = undefined;
      return;
    }
    const orphan = this.#orphans.get(message.id);
    if (orphan && message.op !== "events") {
      clearTimeout(orphan);
      this.#orphans.delete(message.id);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    if (message.op === "events") {
      for (const event of message.events) pending.onEvent?.(event);
      return;
    }
    if (["load", "fit", "chat", "embed", "count"].includes(pending.op)) this.#loadingPath = undefined;
    this.#pending.delete(message.id);
    if (LOAD_OPS.has(pending.op)) this.#loadEndedAt = this.#loadProgressAt = Date.now();
    // An engine that has answered a chat is sound again: the next crash starts the backoff afresh.
    if (message.op === "result" && pending.op === "chat") this.#crashes = 0;
    if (message.op === "result") pending.resolve(message.value);
    else
      pending.reject(
        new GatewayError(message.code, message.message, {
          retryable: message.retryable,
          ...(message.param !== undefined && { param: message.param }),
          ...(message.reason !== undefined && { reason: message.reason }),
        }),
      );
  }

  /**
   * The current child is gone: everything in flight on it fails (retryably) and the next call starts
   * a new one. `selfInflicted`: it crashed by itself (an abort or a fault in llama.cpp), as opposed to
   * being killed from outside, so a file it was loading then is to blame.
   */
  #onExit(reason: string, killed: boolean, selfInflicted = false): void {
    const loadingPath = killed || !selfInflicted ? undefined : this.#loadingPath;
    this.#child = undefined;
    this.#loadingPath = undefined;
    this.#lastExit = `${killed ? "killed: " : ""}${reason}`;
    this.#stopLoadWatch();
    clearTimeout(this.#aliveCheck?.timer);
    this.#aliveCheck = undefined;
    for (const timer of this.#orphans.values()) clearTimeout(timer);
    this.#orphans.clear();
    if (!this.#closed) {
      this.#restarts++;
      // A file that crashed the engine while loading is refused from now on, so it cannot make a
      // crash loop; only other deaths make restarts wait longer.
      if (!killed && loadingPath === undefined) this.#noteCrash();
    }
    const failures = [...this.#pending.values()];
    this.#pending.clear();
    const message = killed
      ? `The local engine was restarted (${reason}).`
      : `The local engine stopped (${reason})${loadingPath ? ` while loading ${loadingPath}` : ""}.`;
    for (const p of failures) {
      // The request that was loading a file that killed the engine would only kill it again.
      const poison = loadingPath !== undefined && (p.op === "load" || p.op === "fit");
      const why = poison ? `${message} The file crashed llama.cpp; it is refused until it changes.` : message;
      p.reject(new GatewayError("unavailable", why, { retryable: !poison }));
    }
    this.options.onExit?.({ reason, loadingPath, killed });
  }

  #noteCrash(): void {
    const stable = this.#startedAt > 0 && Date.now() - this.#startedAt > STABLE_MS;
    this.#crashes = stable ? 1 : this.#crashes + 1;
    // The first crash restarts at once; the second waits the base delay, and each one after twice as long.
    const delay = this.#crashes <= 1 ? 0 : backoffDelayMs(this.#crashes - 2, { baseMs: RESTART_BASE_MS, maxMs: RESTART_MAX_MS });
    this.#notBefore = Date.now() + delay;
  }

  /** Kills the child at once (hung, or a test) and fails what runs on it; the next call starts a new one. */
  kill(reason: string): void {
    const child = this.#child;
    if (!child) return;
    this.#killed.add(child);
    (this.options.onLog ?? (() => {}))(`killing the engine: ${reason}`);
    child.kill("SIGKILL");
    this.#onExit(reason, true);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#closing.abort();
    const child = this.#child ?? (await this.#starting?.catch(() => undefined));
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.disconnect();
    const timer = setTimeout(() => child.kill("SIGKILL"), 2000);
    await exited;
    clearTimeout(timer);
  }
}
