import { fileSearchText } from "../../core/file-search-text.js";
import {
  type ChunkHit,
  FILE_SEARCH_FUNCTION,
  type FileSearchResult,
  type FileSearchTool,
  GatewayError,
  type Sensitivity,
  type ToolDefinition,
  type VectorStores,
} from "../../core/index.js";
import { maxSensitivity } from "../../privacy/sensitivity.js";

/** Queries one `file_search` call may make (a model that sends more has the rest left out). */
const MAX_QUERIES = 5;

/** What the tool loop needs of the vector stores. */
export type FileSearchStores = Pick<VectorStores, "search" | "get">;

/** The function the model is offered for the `file_search` tool. */
export const fileSearchDefinition: ToolDefinition = {
  name: FILE_SEARCH_FUNCTION,
  description:
    "Search the user's files (tandem's vector stores) for passages relevant to the question. Call it with one or more " +
    "search queries; it returns the best passages with the name of the file each comes from. Name the file " +
    "you take an answer from.",
  parameters: {
    type: "object",
    properties: {
      queries: {
        type: "array",
        items: { type: "string" },
        description: "Search queries: keywords or short questions, each on its own.",
      },
    },
    required: ["queries"],
  },
};

/** The `file_search` tool's stores, checked before the model's first turn: an unknown one is OpenAI's 400. */
export async function checkFileSearchTool(stores: FileSearchStores | undefined, tool: FileSearchTool): Promise<void> {
  if (stores === undefined) {
    throw new GatewayError(
      "invalid_request",
      "Invalid value for 'tools': file_search is not served by this server (no vector stores).",
      {
        param: "tools",
      },
    );
  }
  for (const id of tool.vectorStoreIds) {
    if ((await stores.get(id)) === undefined) {
      throw new GatewayError("invalid_request", `Vector store with id '${id.slice(0, 200)}' not found.`, {
        param: "tools",
        reason: "invalid_value",
      });
    }
  }
}

/** The queries of a call's JSON arguments (`{queries: [...]}`, or a single `query` a model may send instead). */
export function fileSearchQueries(args: string): string[] {
  let parsed: unknown;
  try {
    parsed = args.trim() === "" ? {} : JSON.parse(args);
  } catch {
    return [];
  }
  if (parsed === null || typeof parsed !== "object") return [];
  const { queries, query } = parsed as { queries?: unknown; query?: unknown };
  const list = Array.isArray(queries)
    ? queries
    : typeof queries === "string"
      ? [queries]
      : typeof query === "string"
        ? [query]
        : [];
  return list.filter((q): q is string => typeof q === "string" && q.trim() !== "").slice(0, MAX_QUERIES);
}

/** What one `file_search` call found: the results, what the model reads of them, and their highest sensitivity. */
export interface FileSearchFound {
  results: FileSearchResult[];
  text: string;
  sensitivity: Sensitivity;
}

/** Runs one call's queries over the tool's stores. A query over the bound is cut to it (the model's, not the client's, mistake). */
export async function runFileSearch(
  stores: FileSearchStores & Pick<VectorStores, "maxQueryChars">,
  tool: FileSearchTool,
  queries: string[],
  /** The conversation's sensitivity as far as it is known: a private conversation's queries stay off cloud models. */
  sensitivity: Sensitivity | undefined,
  /** The model the request named: a route's privacy decides where the queries may be embedded. */
  route: string,
  signal: AbortSignal,
): Promise<FileSearchFound> {
  const hits = await stores.search(
    {
      ...(sensitivity !== undefined && { sensitivity }),
      route,
      vectorStoreIds: tool.vectorStoreIds,
      queries: queries.map((q) => q.slice(0, stores.maxQueryChars)),
      limit: tool.maxResults,
      scoreThreshold: tool.scoreThreshold,
      ...(tool.filter !== undefined && { filter: tool.filter }),
    },
    signal,
  );
  return {
    results: hits.map(resultOf),
    text: fileSearchText(hits),
    sensitivity: hits.reduce<Sensitivity>((top, hit) => maxSensitivity(top, hit.sensitivity), "public"),
  };
}

function resultOf(hit: ChunkHit): FileSearchResult {
  return {
    fileId: hit.fileId,
    filename: hit.filename,
    score: hit.score,
    text: hit.text,
    ...(hit.attributes !== undefined && { attributes: hit.attributes }),
  };
}
