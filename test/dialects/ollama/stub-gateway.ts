/**
 * A Gateway that answers from a script of canonical events, and a Fastify app that mounts the
 * Ollama dialect over it the way the server does (its error handler renders with the dialect).
 */

import type { AddressInfo } from "node:net";
import Fastify, { type FastifyInstance } from "fastify";
import type { ChatStream, Gateway, ModelEntry, RequestContext, ResponseMeta } from "../../../src/core/index.js";
import {
  type ChatRequest,
  type EmbedRequest,
  type EmbedResult,
  GatewayError,
  type StreamEvent,
  type Usage,
} from "../../../src/core/index.js";
import { ollamaDialect } from "../../../src/dialects/ollama/index.js";
import { MemoryStateStore } from "../../../src/harness/state/memory-state-store.js";
import { mountDialects } from "../../../src/server/mount-dialects.js";
import { noLocalEngine } from "../../support/no-local-engine.js";

/** What the stub answers to one chat: events, optionally followed by an error thrown mid-stream, or an error up front. */
export type StubAnswer = StreamEvent[] | GatewayError | { events: StreamEvent[]; thenThrow: GatewayError };

export class StubGateway implements Gateway {
  readonly chats: ChatRequest[] = [];
  readonly embeds: EmbedRequest[] = [];
  meta: ResponseMeta = { route: undefined, target: "fake/model-1", attempts: 1, degraded: undefined };
  answer: (request: ChatRequest) => StubAnswer = () => textEvents("Hello there, friend!");
  embedResult: (request: EmbedRequest) => EmbedResult = (request) => ({
    embeddings: request.input.map((text) => [text.length, 0.5, -0.25]),
    usage: { inputTokens: request.input.length * 3 },
  });
  entries: ModelEntry[] = [
    {
      name: "fake/model-1",
      kind: "target",
      provider: "fake",
      providerKind: "openai",
      upstreamModel: "model-1",
      contextWindow: 128000,
    },
    {
      name: "fake/nomic-embed-text",
      kind: "target",
      provider: "fake",
      providerKind: "ollama",
      upstreamModel: "nomic-embed-text",
      created: 1730000000,
    },
    { name: "auto", kind: "route", tiers: [["fake/model-1"], ["fake/model-2"]] },
  ];

  async chat(request: ChatRequest, _context: RequestContext): Promise<ChatStream> {
    this.chats.push(request);
    await this.model(request.model);
    const answer = this.answer(request);
    if (answer instanceof GatewayError) throw answer;
    const { events, thenThrow } = Array.isArray(answer) ? { events: answer, thenThrow: undefined } : answer;
    async function* run(): AsyncGenerator<StreamEvent> {
      for (const event of events) {
        await new Promise((resolve) => setImmediate(resolve));
        yield event;
      }
      if (thenThrow) throw thenThrow;
    }
    return { meta: { ...this.meta }, events: run() };
  }

  async embed(request: EmbedRequest, _context: RequestContext): Promise<{ meta: ResponseMeta; result: EmbedResult }> {
    this.embeds.push(request);
    await this.model(request.model);
    return { meta: { ...this.meta }, result: this.embedResult(request) };
  }

  async models(): Promise<ModelEntry[]> {
    return this.entries;
  }

  async model(name: string): Promise<ModelEntry> {
    const entry = this.entries.find((e) => e.name === name);
    if (!entry) {
      throw new GatewayError("not_found", `model '${name}' not found (known: ${this.entries.map((e) => e.name).join(", ")})`);
    }
    return entry;
  }

  pull = noLocalEngine.pull;
  loadedModels = noLocalEngine.loadedModels;
  keepAlive = noLocalEngine.keepAlive;
  modelLibrary = noLocalEngine.modelLibrary;

  async countTokens(_request: ChatRequest, _context: RequestContext): Promise<{ meta: ResponseMeta; inputTokens: number }> {
    return { meta: this.meta, inputTokens: 0 };
  }
}

/** A plain text answer in several deltas, with usage, finishing with `reason`. */
export function textEvents(
  text: string,
  usage: Usage = { inputTokens: 11, outputTokens: 7 },
  reason: "stop" | "length" = "stop",
) {
  const events: StreamEvent[] = [{ type: "start", id: "resp_1", model: "model-1" }];
  for (let i = 0; i < text.length; i += 5) events.push({ type: "text-delta", text: text.slice(i, i + 5) });
  events.push({ type: "usage", usage }, { type: "finish", reason });
  return events;
}

export interface StubApp {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function startStubApp(gateway: Gateway): Promise<StubApp> {
  const app = Fastify();
  app.setErrorHandler((err, _request, reply) => {
    const error = GatewayError.from(err);
    const rendered = ollamaDialect.renderError(error);
    reply.code(rendered.status).send(rendered.body);
  });
  mountDialects(app, [ollamaDialect], gateway, { state: new MemoryStateStore() });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const { port } = app.server.address() as AddressInfo;
  return { app, url: `http://127.0.0.1:${port}`, close: () => app.close() };
}
