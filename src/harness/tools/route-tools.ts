import type {
  ChatRequest,
  ChatStream,
  EmbedRequest,
  EmbedResult,
  Gateway,
  HostedToolRunner,
  LoadedModel,
  ModelEntry,
  ModelLibrary,
  PullEvent,
  PullResult,
  RequestContext,
  ResponseMeta,
  Sensitivity,
} from "../../core/index.js";
import { parseSensitivityHeader, SENSITIVITY_HEADER } from "../../privacy/sensitivity.js";

/**
 * The gateway every dialect is given: the router's, with the tools a route names (`tools:
 * ["mcp:<server>"]`) run by the tool loop for any client of that route, on any wire. A request to a
 * route without tools, or to a target, goes to the router as it came. The dialects' own hosted tools
 * (a Responses request's `mcp` tools) wrap this one, so their loop's turns get the route's tools too.
 */
export class RouteToolsGateway implements Gateway {
  readonly #gateway: Gateway;
  readonly #runner: HostedToolRunner;
  readonly #toolsOf: (model: string) => readonly string[] | undefined;

  constructor(gateway: Gateway, runner: HostedToolRunner, toolsOf: (model: string) => readonly string[] | undefined) {
    this.#gateway = gateway;
    this.#runner = runner;
    this.#toolsOf = toolsOf;
  }

  chat(request: ChatRequest, context: RequestContext): Promise<ChatStream> {
    const tools = this.#toolsOf(request.model);
    if (tools === undefined || tools.length === 0) return this.#gateway.chat(request, context);
    const servers = tools.map((tool) => ({ ref: { label: tool.slice("mcp:".length) }, approval: "never" as const }));
    const sensitivity = declaredSensitivity(context);
    return this.#runner.chat(
      this.#gateway,
      request,
      { servers, approvals: [], listed: new Map(), ...(sensitivity !== undefined && { sensitivity }) },
      context,
    );
  }

  embed(request: EmbedRequest, context: RequestContext): Promise<{ meta: ResponseMeta; result: EmbedResult }> {
    return this.#gateway.embed(request, context);
  }

  models(): Promise<ModelEntry[]> {
    return this.#gateway.models();
  }

  model(name: string): Promise<ModelEntry> {
    return this.#gateway.model(name);
  }

  countTokens(request: ChatRequest, context: RequestContext): Promise<{ meta: ResponseMeta; inputTokens: number }> {
    return this.#gateway.countTokens(request, context);
  }

  loadedModels(): LoadedModel[] {
    return this.#gateway.loadedModels();
  }

  keepAlive(name: string, keepAliveMs: number | undefined, signal: AbortSignal): Promise<ModelEntry> {
    return this.#gateway.keepAlive(name, keepAliveMs, signal);
  }

  pull(reference: string, onEvent: (event: PullEvent) => void, signal: AbortSignal): Promise<PullResult> {
    return this.#gateway.pull(reference, onEvent, signal);
  }

  modelLibrary(): ModelLibrary {
    return this.#gateway.modelLibrary();
  }
}

/**
 * The level the request is declared at (x-tandem-sensitivity, which recall raises for a private
 * memory): what the loop holds calls to before any turn is classified. A bad header is the router's
 * to refuse, on the first turn.
 */
function declaredSensitivity(context: RequestContext): Sensitivity | undefined {
  const header = context.headers[SENSITIVITY_HEADER];
  try {
    return parseSensitivityHeader(Array.isArray(header) ? header[0] : header);
  } catch {
    return undefined;
  }
}
