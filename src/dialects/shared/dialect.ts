import type { IncomingHttpHeaders } from "node:http";
import type { Batches } from "../../core/batches.js";
import type {
  ChatCompletionStore,
  DocumentText,
  FileStore,
  Gateway,
  GatewayError,
  HostedToolRunner,
  Sensitivity,
} from "../../core/index.js";
import type { StateStore } from "../../core/state.js";
import type { VectorStores } from "../../core/vector-stores.js";
import type { Loopback } from "./loopback.js";
import type { DialectRoute } from "./route-table.js";

/** An error as one dialect puts it on the wire. */
export interface ErrorRendering {
  status: number;
  body: unknown;
  /** Extra response headers, e.g. `retry-after` on a 429, so clients back off as the real API tells them to. */
  headers?: Record<string, string>;
}

/** What the server gives a dialect besides the gateway: the state it keeps for the user. */
export interface DialectServices {
  /** Stored responses and conversations (the encrypted store's, or in memory when the store is off). */
  state: StateStore;
  /** The tool loop that runs MCP servers' tools for the model (harness/tools), when the server has one. */
  hostedTools?: HostedToolRunner;
  /** Requests answered by this server from inside it (background responses), when the server offers it. */
  loopback?: Loopback;
  /** The Files API's files, and what requests that name them need. Absent: no Files API is mounted. */
  files?: FilesService;
  /**
   * Stored chat completions (`store: true`, and GET/POST/DELETE /v1/chat/completions[/{id}]): the
   * encrypted store's, or in memory when the store is off. Absent: none are stored or served.
   */
  chatCompletions?: ChatCompletionStore;
  /** Vector stores (`/v1/vector_stores`, the `file_search` tool). Absent: neither is served. */
  vectorStores?: VectorStores;
  /** Batches (`/v1/batches`, `/v1/messages/batches`), each line run through the server. Absent: neither is served. */
  batches?: Batches;
  /**
   * How sensitive a text is by the privacy settings' detectors, for a request made of several that
   * must go where its most sensitive part may (a legacy completions request's prompts). Absent: each
   * part is classified on its own by the router.
   */
  classifyText?: (text: string) => Sensitivity;
}

/** The files tandem keeps (OpenAI's Files API) as a dialect uses them. */
export interface FilesService {
  store: FileStore;
  /** The largest file an upload may carry, in bytes (`files.maxBytes`). */
  maxBytes: number;
  /** A PDF's text, for targets that cannot read PDFs (harness/files/pdf-text-reader.ts). */
  documentText: DocumentText;
}

/** What a dialect may look at to tell whether a request is its own: the path and the headers. */
export interface RequestHead {
  url: string;
  headers: IncomingHttpHeaders;
}

/**
 * One wire API a client can speak: a codec plus a route table. The server mounts the routes of every
 * dialect in the registry (dialects/index.ts) and asks the dialect a request belongs to to render
 * its errors.
 */
export interface Dialect {
  /** For logs and metrics (`dialect` label). */
  readonly name: string;
  /**
   * Whether a request speaks this dialect: its errors (including 401, 404 on an unknown path, 413)
   * are rendered in this dialect's shape, and a path two dialects serve (GET /v1/models) is answered
   * by this one. Asked in the registry's order; the registry's default answers what none claims.
   */
  speaks(request: RequestHead): boolean;
  /** This dialect's routes (under /v1 or /api, as the real service serves them), over the gateway. */
  routes(gateway: Gateway, services: DialectServices): readonly DialectRoute[];
  /**
   * The response header that carries the request's id on every answer, errors included (Anthropic's
   * `request-id`, OpenAI's `x-request-id`, which their SDKs read). Default: none.
   */
  readonly requestIdHeader?: string;
  /** Renders any GatewayError in this API's own error shape and status; `requestId`: the request's id, for a dialect whose errors quote it. */
  renderError(error: GatewayError, requestId?: string): ErrorRendering;
}
