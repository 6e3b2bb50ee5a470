/**
 * MCP 2026-07-28's messages as its schema (schema/2026-07-28/schema.ts of
 * modelcontextprotocol/modelcontextprotocol) declares them, as zod schemas a test checks answers
 * with: DiscoverResult, ListToolsResult and Tool, CallToolResult, the JSON-RPC error response and the
 * revision's own errors. A field the schema declares without `?` must be present. `Result` allows
 * fields of its own beyond the declared ones (an index signature), so results are loose objects;
 * `Tool`, `Implementation` and `TextContent` have none, so they are strict and a field the schema
 * does not have (an SDK's `execution`) is found.
 */
import { z } from "zod";

const MetaSchema = z.record(z.string(), z.unknown());

const IconSchema = z.strictObject({
  src: z.string(),
  mimeType: z.string().optional(),
  sizes: z.array(z.string()).optional(),
  theme: z.enum(["light", "dark"]).optional(),
});

export const ImplementationSchema = z.strictObject({
  name: z.string(),
  title: z.string().optional(),
  version: z.string(),
  description: z.string().optional(),
  websiteUrl: z.string().optional(),
  icons: z.array(IconSchema).optional(),
});

const ResultMetaSchema = z.looseObject({ "io.modelcontextprotocol/serverInfo": ImplementationSchema.optional() });

/** `Result`: `resultType` is required of a server of this revision. */
const ResultShape = { _meta: ResultMetaSchema.optional(), resultType: z.string() };

/** `CacheableResult`: `ttlMs` (at least 0) and `cacheScope` are required. */
const CacheableShape = { ...ResultShape, ttlMs: z.number().min(0), cacheScope: z.enum(["public", "private"]) };

const JSONObjectSchema = z.record(z.string(), z.unknown());

const ServerCapabilitiesSchema = z.looseObject({
  experimental: z.record(z.string(), JSONObjectSchema).optional(),
  logging: JSONObjectSchema.optional(),
  completions: JSONObjectSchema.optional(),
  prompts: z.looseObject({ listChanged: z.boolean().optional() }).optional(),
  resources: z.looseObject({ subscribe: z.boolean().optional(), listChanged: z.boolean().optional() }).optional(),
  tools: z.looseObject({ listChanged: z.boolean().optional() }).optional(),
  extensions: z.record(z.string(), JSONObjectSchema).optional(),
});

export const DiscoverResultSchema = z.looseObject({
  ...CacheableShape,
  supportedVersions: z.array(z.string()),
  capabilities: ServerCapabilitiesSchema,
  instructions: z.string().optional(),
});

const ToolAnnotationsSchema = z.strictObject({
  title: z.string().optional(),
  readOnlyHint: z.boolean().optional(),
  destructiveHint: z.boolean().optional(),
  idempotentHint: z.boolean().optional(),
  openWorldHint: z.boolean().optional(),
});

export const ToolSchema = z.strictObject({
  name: z.string(),
  title: z.string().optional(),
  icons: z.array(IconSchema).optional(),
  description: z.string().optional(),
  inputSchema: z.looseObject({ $schema: z.string().optional(), type: z.literal("object") }),
  outputSchema: z.looseObject({ $schema: z.string().optional() }).optional(),
  annotations: ToolAnnotationsSchema.optional(),
  _meta: MetaSchema.optional(),
});

export const ListToolsResultSchema = z.looseObject({
  ...CacheableShape,
  nextCursor: z.string().optional(),
  tools: z.array(ToolSchema),
});

const TextContentSchema = z.strictObject({
  type: z.literal("text"),
  text: z.string(),
  annotations: z.record(z.string(), z.unknown()).optional(),
  _meta: MetaSchema.optional(),
});

export const CallToolResultSchema = z.looseObject({
  ...ResultShape,
  content: z.array(TextContentSchema),
  structuredContent: z.unknown().optional(),
  isError: z.boolean().optional(),
});

const RequestIdSchema = z.union([z.string(), z.number()]);

export const JSONRPCResultResponseSchema = z.strictObject({
  jsonrpc: z.literal("2.0"),
  id: RequestIdSchema,
  result: z.looseObject(ResultShape),
});

export const JSONRPCErrorResponseSchema = z.strictObject({
  jsonrpc: z.literal("2.0"),
  id: RequestIdSchema.optional(),
  error: z.strictObject({ code: z.number().int(), message: z.string(), data: z.unknown().optional() }),
});

export const UnsupportedProtocolVersionErrorSchema = JSONRPCErrorResponseSchema.extend({
  error: z.strictObject({
    code: z.literal(-32022),
    message: z.string(),
    data: z.strictObject({ supported: z.array(z.string()), requested: z.string() }),
  }),
});

export const HeaderMismatchErrorSchema = JSONRPCErrorResponseSchema.extend({
  error: z.strictObject({ code: z.literal(-32020), message: z.string(), data: z.unknown().optional() }),
});
