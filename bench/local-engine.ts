/**
 * Local-engine figures for `npm run bench`: tokens/s and time to first token through tandem (HTTP,
 * OpenAI streaming, engine in its child process) against node-llama-cpp called directly on the same
 * model and threads, interleaved run by run; and how long a hung local model takes to be detected
 * and its stream continued on the next tier.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { BENCH_PROMPT, benchPrompt } from "./local-prompt.js";

export interface LocalRun {
  ttftMs: number;
  tokensPerSecond: number;
  tokens: number;
}

const NON_EMPTY_CONTENT = /"content":"[^"]/;

let promptNumber = 0;
/** A prompt no engine has seen yet in this bench (see benchPrompt). */
export function freshPrompt(): string {
  return benchPrompt(++promptNumber);
}

/** One streamed request through tandem: time to the first content chunk and tokens/s after it. */
export async function throughTandem(url: string, model: string, maxTokens: number, prompt = freshPrompt()): Promise<LocalRun> {
  const t0 = performance.now();
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model,
      messages: [{ role: "user", content: prompt }],
      max_tokens: maxTokens,
      temperature: 0,
      stream: true,
      stream_options: { include_usage: true },
    }),
  });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
  // Kept light on purpose: on 2 cores a client that parses every chunk takes CPU from the engine.
  let first = 0;
  let last = 0;
  let tokens = 0;
  let tail = "";
  const decoder = new TextDecoder();
  for await (const piece of res.body) {
    const text = decoder.decode(piece, { stream: true });
    // A piece may carry the opening role chunk (empty content) and the first token together: any
    // non-empty content in it counts, or time to first token would be one token late.
    if (NON_EMPTY_CONTENT.test(text)) {
      last = performance.now();
      if (!first) first = last;
    }
    tail = (tail + text).slice(-2000);
  }
  const usage = /"completion_tokens":(\d+)/.exec(tail);
  tokens = usage ? Number(usage[1]) : Number.NaN;
  return { ttftMs: first - t0, tokensPerSecond: (tokens - 1) / ((last - first) / 1000), tokens };
}

/**
 * node-llama-cpp directly (bench/local-direct.ts), in its own process as tandem's engine is, kept
 * running so its runs can alternate with tandem's one by one. Every wait is bounded.
 */
export class DirectEngine {
  readonly #child: ChildProcess;
  readonly #lines: AsyncIterator<string>;
  readonly #timeoutMs: number;
  #stderr = "";

  private constructor(child: ChildProcess, timeoutMs: number) {
    this.#child = child;
    this.#timeoutMs = timeoutMs;
    this.#lines = createInterface({ input: child.stdout as NodeJS.ReadableStream })[Symbol.asyncIterator]();
    child.stderr?.on("data", (d) => {
      this.#stderr = (this.#stderr + d).slice(-2000);
    });
  }

  /** Starts the process and waits until it has loaded the model and warmed up. */
  static async start(
    tsxImport: string,
    script: string,
    modelPath: string,
    maxTokens: number,
    timeoutMs = 120_000,
    /** Threads (0: llama.cpp's default) and which of tandem's layers to include (see local-direct.ts). */
    extra: { threads?: number; mode?: "direct" | "worker" | "provider" } = {},
  ): Promise<DirectEngine> {
    const args = [script, modelPath, String(maxTokens), String(extra.threads ?? 1), extra.mode ?? "direct"];
    const child = spawn(process.execPath, ["--import", tsxImport, ...args], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    const engine = new DirectEngine(child, timeoutMs);
    await engine.#next();
    return engine;
  }

  /** One request on a fresh chat; answers as throughTandem does. */
  async run(prompt = freshPrompt()): Promise<LocalRun> {
    this.#child.stdin?.write(`${JSON.stringify(prompt)}\n`);
    return JSON.parse(await this.#next()) as LocalRun;
  }

  close(): void {
    this.#child.stdin?.end();
    const timer = setTimeout(() => this.#child.kill("SIGKILL"), 5000);
    timer.unref();
    this.#child.once("exit", () => clearTimeout(timer));
  }

  async #next(): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`node-llama-cpp directly: no answer in ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      const line = await Promise.race([this.#lines.next(), timeout]);
      if (line.done) throw new Error(`node-llama-cpp directly exited: ${this.#stderr.slice(-300)}`);
      return line.value;
    } catch (err) {
      this.#child.kill("SIGKILL");
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * `runs` requests through tandem and as many directly, alternating one by one (and which of the two
 * goes first), so a burst of load elsewhere on the machine hits both alike.
 */
export async function compareLocal(
  url: string,
  model: string,
  direct: DirectEngine,
  maxTokens: number,
  runs: number,
): Promise<{ tandem: LocalRun[]; direct: LocalRun[] }> {
  const tandem: LocalRun[] = [];
  const directRuns: LocalRun[] = [];
  for (let i = 0; i < runs; i++) {
    if (i % 2 === 0) tandem.push(await throughTandem(url, model, maxTokens));
    directRuns.push(await direct.run());
    if (i % 2 === 1) tandem.push(await throughTandem(url, model, maxTokens));
  }
  return { tandem, direct: directRuns };
}

/**
 * A stream on a route [local, cloud] whose local engine is frozen (SIGSTOP) after some tokens: the
 * time from the freeze to the first token from the next tier. The route's idle limit decides how
 * soon the silence counts as a hang; the rest is tandem's switch.
 */
export async function hungModelGap(
  url: string,
  route: string,
  enginePid: () => Promise<number>,
  afterTokens = 30,
): Promise<number> {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model: route,
      messages: [{ role: "user", content: BENCH_PROMPT }],
      max_tokens: 100_000,
      stream: true,
    }),
  });
  if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
  let seen = 0;
  let frozenAt = 0;
  let switched = false;
  let gap = Number.NaN;
  let pid = 0;
  let buffer = "";
  const decoder = new TextDecoder();
  for await (const piece of res.body) {
    buffer += decoder.decode(piece, { stream: true });
    const frames = buffer.split("\n\n");
    buffer = frames.pop() ?? "";
    for (const frame of frames) {
      // Tokens already on their way when the engine froze still arrive; the switch comment marks the seam.
      if (frame.startsWith(":")) {
        if (frozenAt) switched = true;
        continue;
      }
      if (!frame.startsWith("data: {")) continue;
      const content = (JSON.parse(frame.slice(6)) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta?.content;
      if (!content) continue;
      if (switched && Number.isNaN(gap)) gap = performance.now() - frozenAt;
      if (++seen === afterTokens) {
        pid = await enginePid();
        process.kill(pid, "SIGSTOP");
        frozenAt = performance.now();
      }
    }
  }
  if (pid) {
    try {
      process.kill(pid, "SIGCONT");
    } catch {
      // Already killed by tandem's watchdog, as it should be.
    }
  }
  return gap;
}
