/**
 * A Gateway that answers from a script of canonical events, and a fastify app that mounts the OpenAI
 * dialect over it the way the server does, so the official SDK can be pointed at it.
 */

import type { AddressInfo } from "node:net";
import Fastify from "fastify";
import type { ChatStream, Gateway, ModelEntry, RequestContext, ResponseMeta } from "../../../src/core/index.js";
import {
  type ChatRequest,
  type EmbedRequest,
  type EmbedResult,
  GatewayError,
  type StreamEvent,
} from "../../../src/core/index.js";
import type { StateStore } from "../../../src/core/state.js";
import { openaiDialect } from "../../../src/dialects/openai/index.js";
import { MemoryStateStore } from "../../../src/harness/state/memory-state-store.js";
import { mountDialects } from "../../../src/server/mount-dialects.js";
import { noLocalEngine } from "../../support/no-local-engine.js";

/** A canonical event, or an instruction to fail the stream at that point. */
export type ScriptedEvent = StreamEvent | { type: "throw"; error: GatewayError };

export const TARGET = "fake/model-1";

export class StubGateway implements Gateway {
  readonly chatRequests: ChatRequest[] = [];
  readonly embedRequests: EmbedRequest[] = [];
  readonly contexts: RequestContext[] = [];
  meta: ResponseMeta = { route: undefined, target: TARGET, attempts: 1, degraded: undefined };
  chatScript: (request: ChatRequest) => ScriptedEvent[] | GatewayError = () => textEvents("Hello there!");
  embedScript: (request: EmbedRequest) => EmbedResult | GatewayError = (request) => ({
    embeddings: request.input.map((_, i) => [0.1 * (i + 1), -0.25, 1 / 3]),
    usage: { inputTokens: 7 },
  });
  entries: ModelEntry[] = [
    { name: TARGET, kind: "target", provider: "fake", providerKind: "openai", upstreamModel: "model-1", created: 1700000000 },
    { name: "auto", kind: "route", tiers: [[TARGET]] },
  ];

  async chat(request: ChatRequest, context: RequestContext): Promise<ChatStream> {
    this.chatRequests.push(request);
    this.contexts.push(context);
    const script = this.chatScript(request);
    if (script instanceof GatewayError) throw script;
    async function* events(): AsyncGenerator<StreamEvent> {
      for (const event of script as ScriptedEvent[]) {
        if (event.type === "throw") throw event.error;
        yield event;
      }
    }
    return { meta: this.meta, events: events() };
  }

  async embed(request: EmbedRequest, context: RequestContext): Promise<{ meta: ResponseMeta; result: EmbedResult }> {
    this.embedRequests.push(request);
    this.contexts.push(context);
    const result = this.embedScript(request);
    if (result instanceof GatewayError) throw result;
    return { meta: this.meta, result };
  }

  async models(): Promise<ModelEntry[]> {
    return this.entries;
  }

  async model(name: string): Promise<ModelEntry> {
    const entry = this.entries.find((e) => e.name === name);
    if (!entry) throw new GatewayError("not_found", `The model '${name}' does not exist`);
    return entry;
  }

  pull = noLocalEngine.pull;
  loadedModels = noLocalEngine.loadedModels;
  keepAlive = noLocalEngine.keepAlive;
  modelLibrary = noLocalEngine.modelLibrary;

  async countTokens(): Promise<{ meta: ResponseMeta; inputTokens: number }> {
    return { meta: this.meta, inputTokens: 0 };
  }
}

export function textEvents(text: string, usage = { inputTokens: 11, outputTokens: 4 }): ScriptedEvent[] {
  const pieces = text.match(/.{1,4}/gs) ?? [];
  return [
    { type: "start", id: "up-1", model: "model-1" },
    ...pieces.map((piece): StreamEvent => ({ type: "text-delta", text: piece })),
    { type: "usage", usage },
    { type: "finish", reason: "stop", raw: "stop" },
  ];
}

export interface DialectApp {
  url: string;
  gateway: StubGateway;
  state: StateStore;
  close(): Promise<void>;
}

export async function startDialectApp(
  gateway = new StubGateway(),
  state: StateStore = new MemoryStateStore(),
): Promise<DialectApp> {
  const app = Fastify();
  app.setErrorHandler((err, _req, reply) => {
    const e = GatewayError.from(err);
    const r = openaiDialect.renderError(e);
    reply
      .code(r.status)
      .headers(r.headers ?? {})
      .send(r.body);
  });
  mountDialects(app, [openaiDialect], gateway, { state });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, gateway, state, close: () => app.close() };
}

/** The `data:` payloads of an SSE body, in order. */
export function ssePayloads(body: string): string[] {
  return body
    .split("\n\n")
    .filter((frame) => frame.trim() !== "")
    .map((frame) => {
      assert(frame.startsWith("data: "), `not a data frame: ${frame}`);
      return frame.slice("data: ".length);
    });
}

function assert(condition: boolean, message: string): asserts condition {
  if (!condition) throw new Error(message);
}
