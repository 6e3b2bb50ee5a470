import {
  type AssistantMessage,
  addUsage,
  type ChatRequest,
  type ChatStream,
  callRefused,
  FILE_SEARCH_FUNCTION,
  type FinishReason,
  type Gateway,
  GatewayError,
  type HostedApproval,
  type HostedServer,
  type HostedToolFilter,
  type HostedToolInfo,
  type HostedToolItem,
  type HostedToolOutcome,
  type HostedToolRunner,
  type HostedToolsRequest,
  hostedToolName,
  isLoopbackUrl,
  MCP_CALL_CODES,
  type Message,
  makeId,
  mergeUsage,
  objectSchema,
  ReasoningBlocks,
  type RequestContext,
  type ResponseMeta,
  type Sensitivity,
  type StreamEvent,
  TOOL_LIMIT_FINISH,
  type ToolDefinition,
  type ToolHost,
  type Usage,
  VectorStoreError,
} from "../../core/index.js";
import { higherSensitivity, SENSITIVITY_HEADER } from "../../privacy/sensitivity.js";
import {
  checkFileSearchTool,
  type FileSearchFound,
  type FileSearchStores,
  fileSearchDefinition,
  fileSearchQueries,
  runFileSearch,
} from "./file-search.js";

/** Rounds of model turn and hosted calls before the model is asked to answer without the hosted tools. */
const DEFAULT_MAX_TURNS = 10;
/** Hosted calls in one answer, unless the request says (`max_tool_calls`). */
const DEFAULT_MAX_CALLS = 20;

/**
 * Records a call to a server that is not on this machine in the egress audit before it is made
 * (`target` `mcp:<label>`, the call's name and arguments as the body); a rejection means it is not made.
 */
export type AuditToolCall = (record: { target: string; sensitivity: string; body: string }) => Promise<unknown>;

/** How sensitive a text is, by the privacy settings' detectors: for a call to a remote server when no turn was classified (every target local). */
export type ClassifyText = (text: string) => Sensitivity;

export interface ToolLoopOptions {
  /** Rounds of calls before the model must answer without the hosted tools. Default 10. */
  maxTurns?: number;
  audit?: AuditToolCall;
  classify?: ClassifyText;
  /** tandem's vector stores, for a request's `file_search` tool. Absent: a request with one is refused. */
  vectorStores?: FileSearchStores & { readonly maxQueryChars: number };
}

/** One tool the model is offered, by the name it is offered under. */
interface Offered {
  server: HostedServer;
  tool: HostedToolInfo;
}

/** A hosted call the model made in a turn. */
interface TurnCall {
  /** The item's id: an `mcp_call`'s, or an approval request's. */
  id: string;
  name: string;
  arguments: string;
  offered: Offered;
  /** Put to the client for approval, not run. */
  approval: boolean;
  /** A tool the server does not have (or was not allowed): not run, the model is told. */
  unknown?: boolean;
}

/** A `file_search` call the model made in a turn. */
interface SearchCall {
  id: string;
  arguments: string;
}

/**
 * The server-side tool loop (core's HostedToolRunner): MCP servers' tools are offered to the model
 * beside the client's own, and each call to one is run by tandem, next to the user, between the
 * model's turns. Each turn is an ordinary `gateway.chat`, so routing, privacy, failover and the audit
 * apply to every turn, and a tool's output is classified as input is: a private file's content read
 * by a tool keeps the following turns on local targets. A call to a server that is not on this
 * machine is not made while the conversation holds private data.
 */
export class ToolLoop implements HostedToolRunner {
  readonly #host: ToolHost;
  readonly #options: ToolLoopOptions;

  constructor(host: ToolHost, options: ToolLoopOptions = {}) {
    this.#host = host;
    this.#options = options;
  }

  async chat(gateway: Gateway, request: ChatRequest, tools: HostedToolsRequest, context: RequestContext): Promise<ChatStream> {
    if (tools.fileSearch !== undefined) await checkFileSearchTool(this.#options.vectorStores, tools.fileSearch);
    for (const server of tools.servers) {
      if (!tools.listed.has(server.ref.label) && server.ref.url === undefined && !this.#host.configured(server.ref.label)) {
        throw new GatewayError(
          "invalid_request",
          `MCP server '${server.ref.label}' has no server_url and is not configured in tandem (mcp.servers).`,
          { param: "tools", reason: "invalid_value" },
        );
      }
    }
    // Every server's tools at once (a listing already in the conversation is read instead, as OpenAI does).
    const listings = await Promise.all(
      tools.servers.map((server) => {
        const known = tools.listed.get(server.ref.label);
        return known !== undefined ? { tools: known } : this.#host.listTools(server.ref, context.signal);
      }),
    );
    const prelude: HostedToolItem[] = [];
    const offered = new Map<string, Offered>();
    const taken = new Set((request.tools ?? []).map((tool) => tool.name));
    for (const [i, server] of tools.servers.entries()) {
      const label = server.ref.label;
      const listed = listings[i] as (typeof listings)[number];
      if ("error" in listed) {
        // As OpenAI answers when it cannot list a server's tools: 424, before any output.
        throw new GatewayError("upstream_error", `Error retrieving tool list from MCP server: '${label}'. ${listed.error}`, {
          status: 424,
          reason: "external_connector_error",
          retryable: false,
        });
      }
      const listing = listed.tools;
      if (!tools.listed.has(label)) {
        const id = makeId("mcpl_", 48);
        prelude.push({ kind: "list-tools", id, server: label, status: "in_progress", tools: [] });
        prelude.push({ kind: "list-tools", id, server: label, status: "completed", tools: listing });
      }
      for (const tool of listing) {
        if (server.allowed !== undefined && !matches(server.allowed, tool)) continue;
        const name = hostedToolName(label, tool.name);
        // Offered already (a client's function of that name, or the request's own loop around a route's,
        // whose labels may not be the route's): that one answers its calls.
        // Or a name two tools share (only by a digest's collision): the first listed keeps it.
        if (taken.has(name) || offered.has(name)) continue;
        offered.set(name, { server, tool });
      }
    }
    const run = new LoopRun(this.#host, gateway, request, tools, context, offered, this.#options);
    return run.start(prelude);
  }
}

/** One request's loop: its messages so far, its usage, and the calls it may still make. */
class LoopRun {
  readonly #host: ToolHost;
  readonly #gateway: Gateway;
  readonly #request: ChatRequest;
  readonly #tools: HostedToolsRequest;
  readonly #context: RequestContext;
  readonly #offered: Map<string, Offered>;
  readonly #maxTurns: number;
  readonly #messages: Message[];
  readonly #usage: Usage = { inputTokens: 0, outputTokens: 0 };
  #callsLeft: number;
  /** Hosted calls the answer may make in all (`max_tool_calls`, else DEFAULT_MAX_CALLS), for saying which limit stopped it. */
  readonly #maxCalls: number;
  /** The highest sensitivity any turn was classified with: calls to remote servers are not made once it is private. */
  #sensitivity: Sensitivity | undefined;
  readonly #options: ToolLoopOptions;
  /** The name `file_search` is offered under; undefined: not offered (no such tool, or the client has a function of that name). */
  readonly #fileSearch: string | undefined;
  /** The context of the next turns: its sensitivity raised by what a search found. */
  #turnContext: RequestContext;
  /** What the next turns hold that was declared private (ChatRequest.declaredPrivate): the request's, and a private passage a search found. */
  #declaredPrivate: string[] | undefined;
  /**
   * The tools servers have listed in this conversation (ChatRequest.listedTools): the request's, and
   * what was listed in this answer (this loop's servers, and a route's, whose loop runs inside each
   * turn), so that a route's server is not listed again on the next turn.
   */
  readonly #listed: Map<string, HostedToolInfo[]>;

  constructor(
    host: ToolHost,
    gateway: Gateway,
    request: ChatRequest,
    tools: HostedToolsRequest,
    context: RequestContext,
    offered: Map<string, Offered>,
    options: ToolLoopOptions,
  ) {
    this.#options = options;
    this.#sensitivity = tools.sensitivity;
    this.#host = host;
    this.#gateway = gateway;
    this.#request = request;
    this.#tools = tools;
    this.#context = context;
    this.#offered = offered;
    this.#maxTurns = options.maxTurns ?? DEFAULT_MAX_TURNS;
    this.#messages = [...request.messages];
    this.#maxCalls = tools.maxCalls ?? DEFAULT_MAX_CALLS;
    this.#callsLeft = this.#maxCalls;
    this.#turnContext = context;
    this.#declaredPrivate = request.declaredPrivate;
    this.#listed = new Map(request.listedTools ?? []);
    const taken = request.tools?.some((tool) => tool.name === FILE_SEARCH_FUNCTION) === true;
    this.#fileSearch =
      tools.fileSearch !== undefined && options.vectorStores !== undefined && !taken ? FILE_SEARCH_FUNCTION : undefined;
  }

  async start(prelude: HostedToolItem[]): Promise<ChatStream> {
    for (const item of prelude) this.#noteListed(item);
    // Calls the client approved (or declined) in this request are answered before the model's first turn.
    const approved: HostedToolItem[] = [];
    for (const approval of this.#tools.approvals) approved.push(...(await this.#answerApproval(approval)));
    const first = await this.#turn(true, true);
    const meta = first.meta;
    this.#sensitivity = higherSensitivity(this.#sensitivity, meta.sensitivity);
    for (const item of approved) noteTool(meta, item);
    const events = this.#events(first, [...prelude, ...approved], meta);
    return { meta, events };
  }

  /** One model turn: the client's tools and, unless the loop has gone on too long, the hosted ones. */
  #turn(offerHosted: boolean, first: boolean): Promise<ChatStream> {
    const hosted: ToolDefinition[] = [];
    if (offerHosted) {
      for (const [name, { server, tool }] of this.#offered) {
        const about = tool.description ?? "";
        const description =
          server.description === undefined ? about : `${about}\n(MCP server ${server.ref.label}: ${server.description})`.trim();
        hosted.push({
          name,
          ...(description !== "" && { description }),
          // Whatever the server or the client's history said: a function's parameters are an object schema.
          parameters: objectSchema(tool.inputSchema),
        });
      }
    }
    if (offerHosted && this.#fileSearch !== undefined) hosted.push(fileSearchDefinition);
    const tools = [...(this.#request.tools ?? []), ...hosted];
    // A copy: the loop adds to its messages after the turn, and the router may still hold this request.
    const request: ChatRequest = { ...this.#request, messages: [...this.#messages], native: undefined };
    if (this.#declaredPrivate !== undefined) request.declaredPrivate = this.#declaredPrivate;
    if (this.#listed.size > 0) request.listedTools = new Map(this.#listed);
    if (tools.length > 0) request.tools = tools;
    else delete request.tools;
    // A forced choice holds for the first turn only: after its calls, the model answers (or calls again) freely.
    if (!first && request.toolChoice !== undefined && request.toolChoice !== "auto" && request.toolChoice !== "none") {
      delete request.toolChoice;
    }
    return this.#gateway.chat(request, this.#turnContext);
  }

  async *#events(first: ChatStream, prelude: HostedToolItem[], meta: ChatStream["meta"]): AsyncGenerator<StreamEvent> {
    let stream = first;
    let started = false;
    /** Whether this turn was offered the hosted tools (the last turn, past the limits, is not). */
    let offeredHosted = true;
    for (let turn = 0; ; turn++) {
      const turnUsage: Usage = { inputTokens: 0, outputTokens: 0 };
      const base = { ...this.#usage };
      const calls = new Map<number, TurnCall>();
      const searches = new Map<number, SearchCall>();
      let clientCalls = false;
      let text = "";
      const reasoning = new ReasoningBlocks();
      let finish: Extract<StreamEvent, { type: "finish" }> | undefined;
      for await (const event of this.#request.stream ? stream.events : afreshOnly(stream.events)) {
        reasoning.push(event);
        switch (event.type) {
          case "start":
            // The first turn's start leads the answer, then what was listed and approved before it.
            if (!started) {
              started = true;
              yield event;
              for (const item of prelude) yield { type: "hosted-tool", item };
            }
            break;
          case "tool-call-start": {
            if (this.#fileSearch !== undefined && event.name === this.#fileSearch) {
              const search: SearchCall = { id: makeId("fs_", 48), arguments: "" };
              searches.set(event.index, search);
              yield { type: "hosted-tool", item: { kind: "file-search", id: search.id, status: "in_progress", queries: [] } };
              break;
            }
            const known = this.#offered.get(event.name);
            const offered = known ?? this.#unknownTool(event.name);
            if (offered === undefined) {
              clientCalls = true;
              yield event;
              break;
            }
            // Past the limits nothing is run or asked for: the call is only shown, failed (below).
            const approval = offeredHosted && known !== undefined && needsApproval(offered.server, offered.tool);
            const call: TurnCall = {
              id: makeId(approval ? "mcpr_" : "mcp_", 48),
              name: event.name,
              arguments: "",
              offered,
              approval,
              ...(known === undefined && { unknown: true }),
            };
            calls.set(event.index, call);
            // A call is shown as the model writes it; an approval request once it is whole.
            if (!approval) yield { type: "hosted-tool", item: callItem(call, "in_progress") };
            break;
          }
          case "tool-call-delta": {
            const search = searches.get(event.index);
            if (search !== undefined) {
              search.arguments += event.argumentsDelta;
              break;
            }
            const call = calls.get(event.index);
            if (!call) yield event;
            else if (event.argumentsDelta !== "") {
              call.arguments += event.argumentsDelta;
              if (!call.approval) yield { type: "hosted-tool", item: callItem(call, "in_progress") };
            }
            break;
          }
          case "tool-call-end":
            if (!calls.has(event.index) && !searches.has(event.index)) yield event;
            break;
          case "text-delta":
            text += event.text;
            yield event;
            break;
          case "usage":
            mergeUsage(turnUsage, event.usage);
            yield { type: "usage", usage: addUsage(base, turnUsage) };
            break;
          case "finish":
            finish = event;
            break;
          case "frame":
            break;
          case "hosted-tool":
            // Another loop's (a route's tools, inside a request's own loop): its calls count for this answer too.
            noteTool(meta, event.item);
            this.#noteListed(event.item);
            yield event;
            break;
          default:
            yield event;
        }
      }
      Object.assign(this.#usage, addUsage(base, turnUsage));
      // A route's loop inside this turn (an answer of its own) that stopped at its limit: this answer's warning too.
      if (stream.meta !== meta && stream.meta.notices !== undefined) {
        meta.notices = [...new Set([...(meta.notices ?? []), ...stream.meta.notices])];
      }
      // A stream that ended without its finish: the renderer says so.
      if (finish === undefined) return;
      if (calls.size === 0 && searches.size === 0) {
        yield finish;
        return;
      }
      const results: Array<{ call: { id: string; name: string; arguments: string }; outcome: HostedToolOutcome }> = [];
      for (const search of searches.values()) {
        const queries = fileSearchQueries(search.arguments);
        const item = { kind: "file-search" as const, id: search.id, queries };
        yield { type: "hosted-tool", item: { ...item, status: "searching" } };
        const skipped = !offeredHosted
          ? `Not run: this response reached ${this.#limit()}.`
          : clientCalls
            ? "Not run: this turn also called the client's tools; call it again once they are answered."
            : queries.length === 0
              ? 'No queries: call file_search with {"queries": ["..."]}.'
              : this.#callsLeft <= 0
                ? `Not run: this response reached ${this.#limit()}.`
                : undefined;
        let outcome: HostedToolOutcome;
        if (skipped !== undefined) {
          outcome = { error: skipped };
          yield { type: "hosted-tool", item: { ...item, status: "failed", error: skipped } };
        } else {
          this.#callsLeft--;
          // Searched (whatever it found): named in x-tandem-tools, which a search not made is not.
          meta.tools = [...(meta.tools ?? []), FILE_SEARCH_FUNCTION];
          const found = await this.#search(queries);
          if ("error" in found) {
            outcome = { error: found.error };
            yield { type: "hosted-tool", item: { ...item, status: "failed", error: found.error } };
          } else {
            outcome = { output: found.text };
            yield { type: "hosted-tool", item: { ...item, status: "completed", results: found.results } };
          }
        }
        results.push({ call: { id: search.id, name: this.#fileSearch as string, arguments: search.arguments }, outcome });
      }
      let waiting = false;
      for (const call of calls.values()) {
        const { server, tool } = call.offered;
        if (call.approval) {
          waiting = true;
          const item: HostedToolItem = {
            kind: "approval-request",
            id: call.id,
            server: server.ref.label,
            name: tool.name,
            arguments: call.arguments,
            status: "completed",
          };
          yield { type: "hosted-tool", item };
          continue;
        }
        const running = callItem(call, "calling");
        yield { type: "hosted-tool", item: running };
        // The client answers its own calls of this turn first; a call run now would be missing from
        // the history it sends back (a chat client has no place for it): the model calls again then.
        const outcome: HostedToolOutcome = !offeredHosted
          ? notSent(`Not run: this response reached ${this.#limit()}.`)
          : call.unknown
            ? notSent(`MCP server '${server.ref.label}' offers no tool named '${tool.name}'.`, MCP_CALL_CODES.invalidParams)
            : clientCalls
              ? notSent("Not run: this turn also called the client's tools; call it again once they are answered.")
              : await this.#call(server, tool.name, call.arguments);
        const done = ended(running, outcome);
        noteTool(meta, done);
        yield { type: "hosted-tool", item: done };
        results.push({ call, outcome });
      }
      if (!offeredHosted) {
        // A model that calls the hosted tools though it was no longer offered them would call them
        // forever: its answer ends with those calls, failed, rather than with another turn. It is cut
        // short as one cut at max_tokens is (`length`: a client that cannot see the calls must not
        // take it for a whole answer, nor be invited to retry and run every call again), and says so.
        const skipped = [
          ...(searches.size > 0 ? [FILE_SEARCH_FUNCTION] : []),
          ...[...new Set([...calls.values()].map((call) => `mcp:${call.offered.server.ref.label}/${call.offered.tool.name}`))],
        ];
        meta.notices = [
          ...(meta.notices ?? []),
          `the tool loop stopped at ${this.#limit()}, without running ${skipped.join(", ")}`,
        ];
        yield clientCalls ? { ...finish, reason: "tool_calls" } : { type: "finish", reason: "length", raw: TOOL_LIMIT_FINISH };
        return;
      }
      if (clientCalls || waiting) {
        // The client answers its own calls, or approves: the answer ends here, and a later request goes on.
        yield { ...finish, reason: clientCalls ? "tool_calls" : ("stop" satisfies FinishReason) };
        return;
      }
      const assistant: AssistantMessage = {
        role: "assistant",
        content: text === "" ? [] : [{ type: "text", text }],
        toolCalls: results.map(({ call }) => ({ id: call.id, name: call.name, arguments: call.arguments })),
      };
      const blocks = reasoning.blocks();
      // Made by the target that answered; sealed reasoning names its maker as its provider knows it.
      if (blocks.length > 0)
        assistant.reasoning = blocks.map((block) => ({ ...block, producer: block.producer ?? stream.meta.target }));
      this.#messages.push(assistant);
      for (const { call, outcome } of results) {
        this.#messages.push({
          role: "tool",
          toolCallId: call.id,
          name: call.name,
          content: [{ type: "text", text: outcomeText(outcome) }],
        });
      }
      offeredHosted = turn + 1 < this.#maxTurns && this.#callsLeft > 0;
      const answering = stream.meta.target;
      stream = await this.#turn(offeredHosted, false);
      meta.attempts += stream.meta.attempts;
      if (stream.meta.target !== answering) {
        // Another target answers from here (a tool result's privacy keeps the turn on the route's
        // local tier, or the first target failed): the answer is named for the one that wrote it
        // (x-tandem-target, the response's model, the request log) and says why it is degraded; a
        // stream, whose headers named the first, is told in-band, as of a mid-stream switch.
        const went = `the tool loop's turn after the tool calls went to ${stream.meta.target}${stream.meta.degraded === undefined ? "" : ` (${stream.meta.degraded})`}`;
        yield { type: "switch", from: answering, to: stream.meta.target, reason: `the tool calls: ${went}` };
        meta.degraded = meta.degraded === undefined ? went : `${meta.degraded}; ${went}`;
        meta.target = stream.meta.target;
      }
      // The answer is as sensitive as its most sensitive turn (what a tool read may be private): stored so.
      if (stream.meta.sensitivity !== undefined) meta.sensitivity = higherSensitivity(meta.sensitivity, stream.meta.sensitivity);
      if (stream.meta.declaredPrivate) meta.declaredPrivate = true;
      this.#sensitivity = higherSensitivity(this.#sensitivity, meta.sensitivity);
      if (stream.meta.warnings) meta.warnings = [...new Set([...(meta.warnings ?? []), ...stream.meta.warnings])];
    }
  }

  /** The limit the loop reached, once it no longer offers the hosted tools. */
  #limit(): string {
    if (this.#callsLeft > 0) return `its limit of ${this.#maxTurns} rounds of tool calls`;
    return `its limit of ${this.#maxCalls} tool calls${this.#tools.maxCalls !== undefined ? " (max_tool_calls)" : ""}`;
  }

  /** A server's tools, listed in this answer: read by the later turns' loops instead of listing again. */
  #noteListed(item: HostedToolItem): void {
    if (item.kind === "list-tools" && item.status === "completed") this.#listed.set(item.server, item.tools);
  }

  /**
   * A call of a tool named as one of this request's servers' (`mcp__<server>__...`) that is not offered
   * (a model that made up a name, or one not in allowed_tools), nor a tool of the client's: it is the
   * loop's to answer (failed, so the model can try again), not the client's, which never declared it
   * and could not run it. Undefined for any other name.
   */
  #unknownTool(name: string): Offered | undefined {
    if (this.#request.tools?.some((tool) => tool.name === name)) return undefined;
    for (const server of this.#tools.servers) {
      const prefix = `mcp__${server.ref.label}__`;
      if (name.startsWith(prefix) && name.length > prefix.length) {
        return { server, tool: { name: name.slice(prefix.length), inputSchema: {} } };
      }
    }
    return undefined;
  }

  /**
   * Searches the tool's stores. The next turns are held to the highest sensitivity of what was
   * found (each chunk's, classified when it was stored), so a private passage never reaches a cloud
   * target, whatever the client declared; the router classifies the tool result too.
   */
  async #search(queries: string[]): Promise<FileSearchFound | { error: string }> {
    const stores = this.#options.vectorStores as NonNullable<ToolLoopOptions["vectorStores"]>;
    let found: FileSearchFound;
    try {
      found = await runFileSearch(
        stores,
        this.#tools.fileSearch as NonNullable<HostedToolsRequest["fileSearch"]>,
        queries,
        this.#sensitivity,
        this.#request.model,
        this.#context.signal,
      );
    } catch (err) {
      this.#context.signal.throwIfAborted();
      // The model is told, and answers without: an expired store, or a store that cannot be read now.
      if (err instanceof VectorStoreError) return { error: err.message };
      return { error: "The vector store could not be searched right now." };
    }
    this.#sensitivity = higherSensitivity(this.#sensitivity, found.sensitivity);
    // Only ever to private: the header wins over detection outright, and a lower level set here would
    // hide what the router finds in the later turns' other tool results.
    if (found.sensitivity === "private") {
      this.#turnContext = { ...this.#turnContext, headers: { ...this.#turnContext.headers, [SENSITIVITY_HEADER]: "private" } };
      // A private passage (of a file uploaded as private, most often) cannot be redacted either: what
      // made it private may be nothing detection finds, so a redacting route keeps the turns here.
      const passage = "a passage of a private file";
      if (!this.#declaredPrivate?.includes(passage)) this.#declaredPrivate = [...(this.#declaredPrivate ?? []), passage];
    }
    return found;
  }

  /** Runs one call, within the request's budget and its privacy. */
  async #call(server: HostedServer, tool: string, args: string): Promise<HostedToolOutcome> {
    if (this.#callsLeft <= 0) return notSent(`Not run: this response reached ${this.#limit()}.`);
    this.#callsLeft--;
    const remote = server.ref.url !== undefined && !isLoopbackUrl(server.ref.url);
    // Unless the conversation is known to be private, or was declared public, the call's own
    // arguments are classified before they leave: with every target local no turn is classified,
    // and a known `internal` says nothing of what the model put in the call (a value a local tool gave it).
    const known = this.#sensitivity;
    const level =
      remote && known !== "private" && known !== "public" && this.#options.classify !== undefined
        ? higherSensitivity(known, this.#options.classify(args))
        : known;
    if (remote && level === "private") {
      return notSent(
        `Not run: the conversation holds private data, and MCP server '${server.ref.label}' is not on this machine.`,
      );
    }
    let parsed: unknown;
    try {
      parsed = args.trim() === "" ? {} : JSON.parse(args);
    } catch {
      return notSent("The arguments are not valid JSON.", MCP_CALL_CODES.invalidParams);
    }
    if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
      return notSent("The arguments are not a JSON object.", MCP_CALL_CODES.invalidParams);
    if (remote && this.#options.audit !== undefined) {
      try {
        await this.#options.audit({
          target: `mcp:${server.ref.label}`,
          sensitivity: level ?? "public",
          body: JSON.stringify({ name: tool, arguments: parsed }),
        });
      } catch {
        return notSent("Not run: the egress audit could not record this call (see the server log).");
      }
    }
    return this.#host.callTool(server.ref, tool, parsed as Record<string, unknown>, this.#context.signal, {
      ...(level !== undefined && { sensitivity: level }),
      // What a host sends on (a saved memory to the embedding model) is this request's text: the route's
      // privacy decides where it may go, as it does for the recall's query and the file_search query.
      route: this.#request.model,
      ...(this.#request.sensitivityFloor !== undefined && { floor: this.#request.sensitivityFloor }),
    });
  }

  /** A call an earlier answer asked about: run when approved, and told to the model either way. */
  async #answerApproval(approval: HostedApproval): Promise<HostedToolItem[]> {
    const name = hostedToolName(approval.server, approval.name);
    const offered = this.#offered.get(name);
    const id = makeId("mcp_", 48);
    let outcome: HostedToolOutcome;
    const items: HostedToolItem[] = [];
    if (!approval.approve) {
      outcome = { error: `The user declined this call${approval.reason ? `: ${approval.reason}` : "."}` };
    } else if (offered === undefined) {
      outcome = { error: `Tool '${approval.name}' of MCP server '${approval.server}' is not offered in this request.` };
    } else {
      const running: HostedToolItem = {
        kind: "call",
        id,
        server: approval.server,
        name: approval.name,
        arguments: approval.arguments,
        status: "calling",
        approvalRequestId: approval.requestId,
      };
      outcome = await this.#call(offered.server, approval.name, approval.arguments);
      items.push(running, ended(running, outcome));
    }
    this.#messages.push({ role: "assistant", content: [], toolCalls: [{ id, name, arguments: approval.arguments }] });
    this.#messages.push({ role: "tool", toolCallId: id, name, content: [{ type: "text", text: outcomeText(outcome) }] });
    return items;
  }
}

/**
 * A turn's events for a client that does not stream, read whole before the loop goes on with them.
 * A target that broke off mid-answer is then answered afresh by the next (`switch` with `restart`,
 * everything before it to be discarded): that is this turn's to discard, not the whole answer's,
 * which holds the turns before it and the calls run between them (collectChat would clear their
 * text, and the calls' items would land in the new turn's). The switch goes on without `restart`,
 * after the turn's start.
 */
async function* afreshOnly(events: AsyncIterable<StreamEvent>): AsyncGenerator<StreamEvent> {
  let held: StreamEvent[] = [];
  for await (const event of events) {
    if (event.type === "switch" && event.restart) {
      const { restart: _, ...on } = event;
      // The router starts an answer once: the start before the break is the new target's too.
      held = [...held.filter((e) => e.type === "start"), on];
    } else held.push(event);
  }
  yield* held;
}

/** The calls each answer's meta has listed, by item id: a call seen by two loops (nested) is listed once. */
const noted = new WeakMap<ResponseMeta, Set<string>>();

/** Lists a call that ran (ended, and was sent to its server) in the answer's meta (`x-tandem-tools`). */
function noteTool(meta: ResponseMeta, item: HostedToolItem): void {
  if (item.kind !== "call" || item.status === "in_progress" || item.status === "calling" || item.notRun) return;
  let seen = noted.get(meta);
  if (seen === undefined) {
    seen = new Set();
    noted.set(meta, seen);
  }
  if (seen.has(item.id)) return;
  seen.add(item.id);
  meta.tools = [...(meta.tools ?? []), `mcp:${item.server}/${item.name}`];
}

/** A call of the turn as an `mcp_call` item in this state. */
function callItem(call: TurnCall, status: "in_progress" | "calling"): Extract<HostedToolItem, { kind: "call" }> {
  return {
    kind: "call",
    id: call.id,
    server: call.offered.server.ref.label,
    name: call.offered.tool.name,
    arguments: call.arguments,
    status,
  };
}

function ended(running: Extract<HostedToolItem, { kind: "call" }>, outcome: HostedToolOutcome): HostedToolItem {
  if (outcome.error === undefined) return { ...running, status: "completed", output: outcome.output };
  // Refused here, or by the host before sending (a server it may not use, one not running): it did not run.
  const notRun = unsent.has(outcome) || (outcome.failure?.kind === "protocol" && outcome.failure.code === MCP_CALL_CODES.notSent);
  return {
    ...running,
    status: "failed",
    error: outcome.error,
    ...(outcome.failure !== undefined && { failure: outcome.failure }),
    ...(notRun && { notRun: true as const }),
  };
}

/** The outcomes of calls the loop ended without sending them to their server (notSent). */
const unsent = new WeakSet<HostedToolOutcome>();

/** A call the loop does not send (callRefused: `notSent`, or `code`), marked so that it is not listed as run. */
function notSent(error: string, code?: number): HostedToolOutcome {
  const outcome = callRefused(error, code);
  unsent.add(outcome);
  return outcome;
}

/** What the model reads of a call's outcome. */
export function outcomeText(outcome: { output?: string | null; error?: string | null }): string {
  return outcome.error != null ? `Error: ${outcome.error}` : (outcome.output ?? "");
}

function matches(filter: HostedToolFilter, tool: HostedToolInfo): boolean {
  if (filter.names?.includes(tool.name)) return true;
  if (filter.readOnly !== undefined) return (tool.annotations?.readOnlyHint === true) === filter.readOnly;
  return false;
}

/**
 * OpenAI's `require_approval`: `always` (the default), `never`, or filters of the tools that do
 * (`always`) or do not (`never`) need it. OpenAI does not say what a tool neither filter picks gets;
 * it gets the default, approval, so that a filter can only ever spare the tools it names (an
 * `always` filter alone does not let every other tool run unasked). A tool both filters pick needs
 * approval: the stricter word wins.
 */
function needsApproval(server: HostedServer, tool: HostedToolInfo): boolean {
  const policy = server.approval;
  if (policy === "always" || policy === "never") return policy === "always";
  if (policy.always !== undefined && matches(policy.always, tool)) return true;
  return policy.never === undefined || !matches(policy.never, tool);
}
