/**
 * The engine child process: node-llama-cpp and every model live here, so a native abort (a bad GGUF,
 * an out-of-memory in llama.cpp) ends this process and never the server. It does what the parent
 * asks over IPC and nothing on its own; when the parent goes away, it exits.
 */
import process from "node:process";
import { getModuleVersion, LlamaLogLevel, NoBinaryFoundError } from "node-llama-cpp";
import { GatewayError, type StreamEvent } from "../../../core/index.js";
import type { ChildMessage, EngineOptions, ParentMessage } from "../engine-protocol.js";
import { useBinaryPackagesFrom } from "./binary-packages-hook.js";
import { emptyInputTokens } from "./empty-input-tokens.js";
import { countChatTokens, generateChat } from "./generate-chat.js";
import { countCompletionTokens, generateCompletion } from "./generate-completion.js";
import { memoryNeeds } from "./memory-fit.js";
import { ModelHost } from "./model-host.js";
import { engineMemory, startLlama } from "./select-backend.js";

function send(message: ChildMessage): void {
  flushEvents();
  if (process.connected) process.send?.(message);
}

/**
 * A chat's events wait for the end of the current turn of the event loop and go as one message.
 * Sending from inside node-llama-cpp's token callback would put the serialization and the pipe write
 * between one token and the next; this way they overlap the next token's evaluation, and tokens
 * that come faster than the parent reads share a message. Anything else sent first flushes them, so
 * order is kept.
 */
let batch: { id: number; events: StreamEvent[] } | undefined;

function sendEvent(id: number, event: StreamEvent): void {
  if (batch && batch.id !== id) flushEvents();
  if (batch) {
    batch.events.push(event);
    return;
  }
  batch = { id, events: [event] };
  setImmediate(flushEvents);
}

function flushEvents(): void {
  if (!batch) return;
  const { id, events } = batch;
  batch = undefined;
  if (process.connected) process.send?.({ op: "events", id, events } satisfies ChildMessage);
}

const options = JSON.parse(process.argv[2] ?? "{}") as EngineOptions;
await useBinaryPackagesFrom(options.binariesDir);
const { llama, backend } = await startLlama(options.gpu ?? "auto", {
  logLevel: LlamaLogLevel.error,
  logger: (level, message) => {
    if (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal) {
      process.stderr.write(`${message.trimEnd()}\n`);
    }
  },
}).catch(async (err: unknown) => {
  if (!(err instanceof NoBinaryFoundError)) throw err;
  // No prebuilt binary at all (startLlama never builds from source): the parent installs one and starts
  // another child. Exit only once the message is out.
  const message: ChildMessage = { op: "no-binary", version: await getModuleVersion(), message: err.message };
  await new Promise<void>((resolve) => (process.connected ? process.send?.(message, () => resolve()) : resolve()));
  process.exit(0);
});
const host = new ModelHost(llama, (path, progress) => send({ op: "loading", path, progress }));
const running = new Map<number, AbortController>();

process.on("disconnect", () => process.exit(0));
process.on("message", (message: ParentMessage) => {
  void handle(message).catch((err: unknown) => fail(message.id, err));
});

async function handle(message: ParentMessage): Promise<void> {
  switch (message.op) {
    case "alive":
      send({ op: "result", id: message.id });
      return;
    case "ping": {
      const [models, memory] = await Promise.all([host.infos(), engineMemory(llama)]);
      send({ op: "result", id: message.id, value: { rssBytes: memory.rssBytes, models, memory } });
      return;
    }
    case "fit":
      // Estimating reads the file's metadata natively: a file that aborts llama.cpp may do it here.
      send({ op: "loading", path: message.model.path });
      send({ op: "result", id: message.id, value: await memoryNeeds(llama, message.model) });
      return;
    case "cancel":
      running.get(message.id)?.abort();
      return;
    case "load": {
      const loaded = await host.get(message.model);
      send({ op: "result", id: message.id, value: loaded.info() });
      return;
    }
    case "unload":
      send({ op: "result", id: message.id, value: await host.unload(message.key) });
      return;
    case "count": {
      const loaded = await host.get(message.model);
      // A raw prompt (legacy completions, Ollama's raw, token ids) is counted as it is evaluated: untemplated.
      const { completion } = message.request;
      const count =
        completion === undefined
          ? countChatTokens(loaded, message.request)
          : countCompletionTokens(loaded, completion, `local/${message.model.name}`);
      send({ op: "result", id: message.id, value: count });
      return;
    }
    case "embed": {
      const loaded = await host.get(message.model);
      const context = await loaded.embeddingContext();
      const embeddings: number[][] = [];
      let inputTokens = 0;
      for (const text of message.input) {
        let tokens = loaded.model.tokenize(text);
        if (tokens.length === 0) {
          // Embedded as Ollama embeds it: the model's own framing tokens (see emptyInputTokens).
          tokens = emptyInputTokens(loaded.model);
          if (tokens.length === 0) {
            throw new GatewayError("invalid_request", `local/${message.model.name} cannot embed an empty input.`, {
              param: "input",
            });
          }
        }
        // The input's own tokens that fit: the embedding context holds fewer than its size, counting
        // the beginning and end tokens the model adds (node-llama-cpp's getEmbeddingFor refuses more).
        const added = context.calculateInputLength(tokens) - tokens.length;
        const fits = loaded.embeddingContextSize - 1 - added;
        // Ollama's truncate: the first tokens that fit, as its EmbedHandler cuts an input.
        if (message.truncate === true && tokens.length > fits) tokens = tokens.slice(0, Math.max(fits, 0));
        if (tokens.length > fits) {
          throw new GatewayError(
            "context_length_exceeded",
            `An input has ${tokens.length} tokens; local/${message.model.name} embeds at most ${fits}.`,
          );
        }
        inputTokens += tokens.length;
        embeddings.push([...(await context.getEmbeddingFor(tokens)).vector]);
      }
      send({ op: "result", id: message.id, value: { embeddings, inputTokens } });
      return;
    }
    case "chat": {
      const controller = new AbortController();
      running.set(message.id, controller);
      try {
        const loaded = await host.get(message.model);
        const request = message.request;
        const emit = (event: StreamEvent) => sendEvent(message.id, event);
        // A raw prompt (and fill-in-the-middle) is continued as text, without the chat template.
        if (request.completion !== undefined)
          await generateCompletion(loaded, { ...request, completion: request.completion }, controller.signal, emit);
        else await generateChat(loaded, request, controller.signal, emit);
        send({ op: "result", id: message.id });
      } finally {
        running.delete(message.id);
      }
      return;
    }
  }
}

function fail(id: number, err: unknown): void {
  if (err instanceof GatewayError) {
    send({
      op: "error",
      id,
      code: err.code,
      message: err.message,
      retryable: err.retryable,
      param: err.param,
      reason: err.reason,
    });
  } else {
    send({ op: "error", id, code: "upstream_error", message: `local engine: ${(err as Error)?.message ?? String(err)}` });
  }
}

send({ op: "ready", pid: process.pid, engine: `llama.cpp ${llama.llamaCppRelease.release} (${backend.gpu})`, backend });
