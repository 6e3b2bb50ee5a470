import type { ChatStream, Gateway, KeptAlive, ModelEntry, RequestContext, ResponseMeta } from "./gateway.js";
import type { LoadedModel, ModelLibrary } from "./model-library.js";
import type { NativeRequest } from "./native.js";
import type { PullEvent, PullResult } from "./pull-events.js";
import type { ChatRequest, EmbedRequest, EmbedResult } from "./request.js";

/**
 * A gateway that does something of its own around `chat` (runs a route's tools, recalls memories)
 * and hands every other call to the gateway it wraps, unchanged.
 */
export abstract class ChatGatewayWrapper implements Gateway {
  protected readonly inner: Gateway;

  constructor(inner: Gateway) {
    this.inner = inner;
  }

  abstract chat(request: ChatRequest, context: RequestContext): Promise<ChatStream>;

  embed(request: EmbedRequest, context: RequestContext): Promise<{ meta: ResponseMeta; result: EmbedResult }> {
    return this.inner.embed(request, context);
  }

  models(): Promise<ModelEntry[]> {
    return this.inner.models();
  }

  model(name: string): Promise<ModelEntry> {
    return this.inner.model(name);
  }

  describeModel(name: string, signal: AbortSignal): Promise<Record<string, unknown> | undefined> {
    return this.inner.describeModel?.(name, signal) ?? Promise.resolve(undefined);
  }

  countTokens(request: ChatRequest, context: RequestContext): Promise<{ meta: ResponseMeta; inputTokens: number }> {
    return this.inner.countTokens(request, context);
  }

  loadedModels(): LoadedModel[] {
    return this.inner.loadedModels();
  }

  keepAlive(name: string, keepAliveMs: number | undefined, signal: AbortSignal, native?: NativeRequest): Promise<KeptAlive> {
    return this.inner.keepAlive(name, keepAliveMs, signal, native);
  }

  pull(reference: string, onEvent: (event: PullEvent) => void, signal: AbortSignal): Promise<PullResult> {
    return this.inner.pull(reference, onEvent, signal);
  }

  modelLibrary(): ModelLibrary {
    return this.inner.modelLibrary();
  }
}
