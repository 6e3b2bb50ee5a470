/**
 * A fastify app with only the Anthropic dialect, over a stub Gateway that answers with scripted
 * canonical events, so dialect tests drive the real HTTP path with the official SDK.
 */

import Fastify, { type FastifyInstance } from "fastify";
import type { ChatStream, Gateway, ModelEntry, ResponseMeta } from "../../../src/core/index.js";
import { type ChatRequest, GatewayError, type StreamEvent } from "../../../src/core/index.js";
import { anthropicDialect } from "../../../src/dialects/anthropic/index.js";
import { MemoryStateStore } from "../../../src/harness/state/memory-state-store.js";
import { mountDialects } from "../../../src/server/mount-dialects.js";
import { noLocalEngine } from "../../support/no-local-engine.js";

export interface ChatScript {
  /** Thrown by gateway.chat before any event (the HTTP status path). */
  fail?: GatewayError;
  events?: StreamEvent[];
  /** Thrown after the events (the in-band error path). */
  failAfter?: GatewayError;
}

export interface StubApp {
  url: string;
  app: FastifyInstance;
  /** Every canonical request the dialect handed to the gateway. */
  chats: ChatRequest[];
  counts: ChatRequest[];
  script(next: ChatScript): void;
  close(): Promise<void>;
}

export const META: ResponseMeta = { route: undefined, target: "claude/claude-test", attempts: 1, degraded: undefined };

export async function startStubApp(): Promise<StubApp> {
  const chats: ChatRequest[] = [];
  const counts: ChatRequest[] = [];
  let current: ChatScript = { events: [] };

  const gateway: Gateway = {
    async chat(request): Promise<ChatStream> {
      chats.push(request);
      const script = current;
      if (script.fail) throw script.fail;
      async function* events(): AsyncGenerator<StreamEvent> {
        for (const event of script.events ?? []) yield event;
        if (script.failAfter) throw script.failAfter;
      }
      return { meta: META, events: events() };
    },
    async embed() {
      throw new GatewayError("invalid_request", "no embeddings here");
    },
    async models(): Promise<ModelEntry[]> {
      return [];
    },
    async model(name) {
      throw new GatewayError("not_found", `no model ${name}`);
    },
    ...noLocalEngine,
    async countTokens(request) {
      counts.push(request);
      if (current.fail) throw current.fail;
      return { meta: META, inputTokens: 42 };
    },
  };

  const app = Fastify();
  app.setErrorHandler((err, _req, reply) => {
    const e = GatewayError.from(err);
    const r = anthropicDialect.renderError(e);
    reply.code(r.status).send(r.body);
  });
  mountDialects(app, [anthropicDialect], gateway, { state: new MemoryStateStore() });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  if (typeof address !== "object" || !address) throw new Error("no address");
  return {
    url: `http://127.0.0.1:${address.port}`,
    app,
    chats,
    counts,
    script(next) {
      current = next;
    },
    close: () => app.close(),
  };
}
