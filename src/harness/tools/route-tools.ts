import type {
  ChatRequest,
  ChatStream,
  Gateway,
  HostedToolRunner,
  ModelEntry,
  RequestContext,
  Sensitivity,
} from "../../core/index.js";
import { ChatGatewayWrapper } from "../../core/index.js";
import { headerSensitivity } from "../../privacy/sensitivity.js";

/**
 * The gateway every dialect is given: the router's, with the tools a route names (`tools:
 * ["mcp:<server>"]`) run by the tool loop for any client of that route, on any wire. A request to a
 * route without tools, or to a target, goes to the router as it came. The dialects' own hosted tools
 * (a Responses request's `mcp` tools) wrap this one, so their loop's turns get the route's tools too.
 */
export class RouteToolsGateway extends ChatGatewayWrapper {
  readonly #runner: HostedToolRunner;
  readonly #toolsOf: (model: string) => readonly string[] | undefined;

  constructor(gateway: Gateway, runner: HostedToolRunner, toolsOf: (model: string) => readonly string[] | undefined) {
    super(gateway);
    this.#runner = runner;
    this.#toolsOf = toolsOf;
  }

  /** The name resolved, with the tools its route runs (ModelEntry.tools): a request's own `mcp` tools may not take their labels. */
  override async model(name: string): Promise<ModelEntry> {
    const entry = await this.inner.model(name);
    const tools = entry.kind === "route" ? this.#toolsOf(name) : undefined;
    return tools === undefined || tools.length === 0 ? entry : { ...entry, tools: [...tools] };
  }

  chat(request: ChatRequest, context: RequestContext): Promise<ChatStream> {
    const tools = this.#toolsOf(request.model);
    if (tools === undefined || tools.length === 0) return this.inner.chat(request, context);
    const servers = tools.map((tool) => ({ ref: { label: tool.slice("mcp:".length) }, approval: "never" as const }));
    const sensitivity = declaredSensitivity(context);
    // A server the conversation has listed (a Responses client was shown its mcp_list_tools, in an
    // earlier response or an earlier turn of this one) is not listed again, as a request's own are not.
    const listed = new Map(request.listedTools ?? []);
    return this.#runner.chat(
      this.inner,
      request,
      { servers, approvals: [], listed, ...(sensitivity !== undefined && { sensitivity }) },
      context,
    );
  }
}

/**
 * The level the request is declared at (x-tandem-sensitivity, which recall raises for a private
 * memory): what the loop holds calls to before any turn is classified. A bad header is the router's
 * to refuse, on the first turn.
 */
function declaredSensitivity(context: RequestContext): Sensitivity | undefined {
  try {
    return headerSensitivity(context.headers);
  } catch {
    return undefined;
  }
}
