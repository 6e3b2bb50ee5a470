import type {
  ChatRequest,
  ChatStream,
  Gateway,
  MemoryHit,
  Message,
  RequestContext,
  ResponseMeta,
  Sensitivity,
} from "../../core/index.js";
import { ChatGatewayWrapper } from "../../core/index.js";
import { headerSensitivity, higherSensitivity, maxSensitivity, SENSITIVITY_HEADER } from "../../privacy/sensitivity.js";
import type { Memories } from "./memories.js";
import { recallMessage } from "./recall-message.js";

/** The `x-tandem-warnings` entry of a recall whose query the route's privacy kept off the embedding model. */
const NOT_SEARCHED_BY_MEANING =
  "memory search by meaning not made: the route's privacy keeps this request's text off the embedding model, so memories were searched by their words";

/** How a route recalls (its `memory` setting merged over the top-level defaults). */
export interface RecallSettings {
  recall: number;
  minScore: number;
  /** The route's `sensitivity` setting: the level of a query the client did not declare one for. */
  sensitivity?: Sensitivity | undefined;
}

/** What of one request's recall is safe to log: counts and ids, never a memory's text. */
export interface RecallReport {
  route: string;
  recalled: number;
  /** Why nothing was recalled, when the recall was skipped. */
  skipped?: string;
}

/**
 * The gateway every dialect is given when a route has `memory: on`: before each request to such a
 * route, the memories most relevant to the latest user turn are put in a system message after the
 * client's own system messages and ahead of the history, the request's sensitivity takes in theirs
 * (a recalled private memory keeps the request on this machine, as a private request is kept, and
 * on a redacting route too: ChatRequest.declaredPrivate), and
 * the answer names them in `x-tandem-memory`. Requests to other routes and to targets pass as they came.
 */
export class MemoryRecallGateway extends ChatGatewayWrapper {
  readonly #memories: Memories;
  readonly #settingsOf: (model: string) => RecallSettings | undefined;
  readonly #report: (report: RecallReport) => void;

  constructor(
    gateway: Gateway,
    memories: Memories,
    settingsOf: (model: string) => RecallSettings | undefined,
    report: (report: RecallReport) => void = () => {},
  ) {
    super(gateway);
    this.#memories = memories;
    this.#settingsOf = settingsOf;
    this.#report = report;
  }

  async chat(request: ChatRequest, context: RequestContext): Promise<ChatStream> {
    const recall = await this.#recall(request, context, this.#report);
    const stream = await this.inner.chat(recall.request, recall.context);
    if (recall.warning !== undefined) stream.meta.warnings = [...(stream.meta.warnings ?? []), recall.warning];
    if (recall.notice !== undefined) stream.meta.notices = [...(stream.meta.notices ?? []), recall.notice];
    if (recall.memory !== undefined) stream.meta.memory = recall.memory;
    return stream;
  }

  /** Counts the request as it would be sent: with the memories a request to it would recall. */
  override async countTokens(
    request: ChatRequest,
    context: RequestContext,
  ): Promise<{ meta: ResponseMeta; inputTokens: number }> {
    const recall = await this.#recall(request, context, () => {});
    const counted = await this.inner.countTokens(recall.request, recall.context);
    if (recall.warning !== undefined) counted.meta.warnings = [...(counted.meta.warnings ?? []), recall.warning];
    if (recall.notice !== undefined) counted.meta.notices = [...(counted.meta.notices ?? []), recall.notice];
    if (recall.memory !== undefined) counted.meta.memory = recall.memory;
    return counted;
  }

  /** The request (and its context) as it goes on with this route's recalled memories; as it came for other routes. */
  async #recall(request: ChatRequest, context: RequestContext, report: (report: RecallReport) => void): Promise<Recall> {
    const settings = this.#settingsOf(request.model);
    if (settings === undefined) return { request, context };
    // Memories join the canonical messages; a part only the client's own wire can carry would be lost.
    const wireOnly = request.native?.wireOnly?.[0];
    if (wireOnly !== undefined) {
      report({ route: request.model, recalled: 0, skipped: "wire_only" });
      return { request, context, warning: `memory (the request holds ${wireOnly.param})` };
    }
    const query = latestUserText(request.messages);
    if (query === undefined) return { request, context };
    const declared = headerSensitivity(context.headers) ?? settings.sensitivity;
    let hits: MemoryHit[];
    let notice: string | undefined;
    try {
      // The query is this request's text: where it may be embedded is the route's privacy's to say,
      // as for the request itself (an internal turn on a local-only route is not sent to a cloud
      // model; on a redacting route it is embedded redacted), content declared private keeps it here,
      // and a stored conversation's level is the query's least, as it is the request's.
      const found = await this.#memories.search(
        query,
        {
          limit: settings.recall,
          minScore: settings.minScore,
          sensitivity: (request.declaredPrivate?.length ?? 0) > 0 ? "private" : declared,
          route: request.model,
          floor: request.sensitivityFloor,
        },
        context.signal,
      );
      hits = found.hits;
      if (found.notEmbedded?.reason === "route_privacy") {
        // A whole sentence (ResponseMeta.notices), not a field the target was not sent: what was not
        // done is sending the query to the embedding model, and the target did get the request.
        notice = NOT_SEARCHED_BY_MEANING;
      }
    } catch (err) {
      context.signal.throwIfAborted();
      // The store failing (a full disk, a damaged file) costs the request its memories, not its answer.
      const code = (err as { code?: unknown }).code;
      report({ route: request.model, recalled: 0, skipped: `store_failed: ${typeof code === "string" ? code : "error"}` });
      return { request, context, warning: "memory (the memory store could not be read)" };
    }
    report({ route: request.model, recalled: hits.length });
    if (hits.length === 0) return { request, context, ...(notice !== undefined && { notice }) };
    const leading = request.messages.findIndex((m) => m.role !== "system");
    const at = leading === -1 ? request.messages.length : leading;
    const messages: Message[] = [
      ...request.messages.slice(0, at),
      { role: "system", content: recallMessage(hits) },
      ...request.messages.slice(at),
    ];
    const level = hits.reduce<Sensitivity>((top, hit) => maxSensitivity(top, hit.memory.sensitivity), "public");
    const raised = raisedLevel(declared, level);
    // With none declared, an internal memory is the request's floor: detection still reads the rest.
    const floor = declared === undefined && level === "internal" ? higherSensitivity(request.sensitivityFloor, level) : undefined;
    // A private memory cannot be redacted (what made it private may be nothing detection finds): a
    // redacting route keeps the request on its local targets, as `--private` promises.
    const declaredPrivate = level === "private" ? [...(request.declaredPrivate ?? []), "a private memory"] : undefined;
    return {
      request: {
        ...request,
        messages,
        native: undefined,
        ...(floor !== undefined && { sensitivityFloor: floor }),
        ...(declaredPrivate !== undefined && { declaredPrivate }),
      },
      context: raised === undefined ? context : { ...context, headers: { ...context.headers, [SENSITIVITY_HEADER]: raised } },
      memory: hits.map((hit) => hit.memory.id),
      ...(notice !== undefined && { notice }),
    };
  }
}

/**
 * A request as it goes on after recall: with the memories, the warning when none could join (a field
 * the target was not sent: ResponseMeta.warnings), the notice when they were searched by their words
 * only, their ids.
 */
interface Recall {
  request: ChatRequest;
  context: RequestContext;
  warning?: string;
  notice?: string;
  memory?: string[];
}

/** The text of the conversation's last user turn, or undefined when it has none with text. */
function latestUserText(messages: readonly Message[]): string | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message?.role !== "user") continue;
    const text = message.content
      .flatMap((part) => (part.type === "text" ? [part.text] : []))
      .join("\n")
      .trim();
    return text === "" ? undefined : text;
  }
  return undefined;
}

/**
 * The level to declare for the request once memories of `level` joined it, or undefined to leave
 * it as it is. A declared level (the client's header, else the route's setting) is raised to the
 * memories'; with none declared, detection still reads the whole request (memories included), and
 * only a private memory is declared, so the request is private even where detection would not say so
 * (an internal one is the request's floor instead, ChatRequest.sensitivityFloor, which detection can raise).
 */
function raisedLevel(declared: Sensitivity | undefined, level: Sensitivity): Sensitivity | undefined {
  if (declared !== undefined) return maxSensitivity(declared, level) === declared ? undefined : level;
  return level === "private" ? "private" : undefined;
}
