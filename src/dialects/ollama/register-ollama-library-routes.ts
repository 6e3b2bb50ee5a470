import type { FastifyReply, FastifyRequest } from "fastify";
import type { Gateway } from "../../core/index.js";
import { GatewayError } from "../../core/index.js";
import type { RouteTable } from "../shared/index.js";
import { clientSignal, parseBody } from "../shared/index.js";
import { requiredModel, withOllamaModelErrors } from "./ollama-model-errors.js";
import {
  ollamaCopyRequestSchema,
  ollamaCreateRequestSchema,
  ollamaDeleteRequestSchema,
  ollamaPushRequestSchema,
} from "./ollama-server-api.js";

/**
 * Content types a blob upload may carry: raw bytes, or the JSON label Ollama's own Go client puts
 * on every request. A browser's no-preflight types (text/plain, forms) and a body without a type
 * stay refused, as on every other route.
 */
const BLOB_TYPES = /^(application\/octet-stream|application\/json)(;|$)/i;

/**
 * Ollama's model workflow over the local engine: DELETE /api/delete, POST /api/copy, POST
 * /api/create, and HEAD/POST /api/blobs/:digest for the GGUF files create names; POST /api/push
 * answers that tandem does not push.
 */
export function registerOllamaLibraryRoutes(scope: RouteTable, gateway: Gateway): void {
  scope.delete("/api/delete", async (request, reply) => {
    const body = parseBody(ollamaDeleteRequestSchema, request.body ?? {});
    const name = requiredModel(body.model, body.name);
    await withOllamaModelErrors(name, "not-found", () => gateway.modelLibrary().delete(name));
    // Ollama answers a bare 200.
    return reply.code(200).send();
  });

  scope.post("/api/copy", async (request, reply) => {
    const body = parseBody(ollamaCopyRequestSchema, request.body);
    await withOllamaModelErrors(body.source, "quoted", () => gateway.modelLibrary().copy(body.source, body.destination));
    return reply.code(200).send();
  });

  scope.post("/api/create", async (request, reply) => {
    const body = parseBody(ollamaCreateRequestSchema, request.body);
    const name = body.model || body.name;
    if (!name) throw new GatewayError("invalid_request", "model is required", { param: "model" });
    if (body.modelfile && !body.from && !body.files) {
      throw new GatewayError(
        "invalid_request",
        "the 'modelfile' text of older Ollama clients is not read: send 'from' (or 'files'), 'parameters', 'system' and 'template' as fields",
        { param: "modelfile" },
      );
    }
    const signal = clientSignal(request, reply);
    const library = gateway.modelLibrary();
    const createRequest = {
      name,
      ...(body.from && { from: body.from }),
      ...(body.files && { files: body.files }),
      ...(body.adapters && { adapters: body.adapters }),
      ...(body.template != null && { template: body.template }),
      ...(body.license != null && { license: body.license }),
      ...(body.system != null && { system: body.system }),
      ...(body.parameters && { parameters: body.parameters }),
      ...(body.messages && { messages: body.messages }),
      ...(body.quantize && { quantize: body.quantize }),
    };
    if (body.stream === false) {
      await library.create(createRequest, () => {}, signal);
      return { status: "success" };
    }
    // The stream starts with the first step, so a request refused before any work gets its own status code.
    let res: ReturnType<typeof startStream> | undefined;
    try {
      await library.create(
        createRequest,
        (status) => {
          res ??= startStream(reply);
          if (!res.writableEnded) res.write(`${JSON.stringify({ status })}\n`);
        },
        signal,
      );
    } catch (err) {
      if (!res) throw err;
      if (!res.writableEnded) res.write(`${JSON.stringify({ error: GatewayError.from(err).message })}\n`);
    }
    res?.end();
  });

  // Ollama's push uploads a model to a registry (ollama.com); tandem keeps models on this machine and
  // has no registry to push to. An Ollama error saying so, in place of an unknown URL's 404.
  scope.post("/api/push", async (request) => {
    const body = parseBody(ollamaPushRequestSchema, request.body ?? {});
    const name = requiredModel(body.model, body.name);
    throw new GatewayError(
      "invalid_request",
      `pushing models is not supported: tandem keeps '${name}' on this machine and has no registry to push it to`,
      { status: 501, param: "model" },
    );
  });

  scope.head("/api/blobs/:digest", async (request, reply) => {
    const { digest } = request.params as { digest: string };
    return reply.code((await gateway.modelLibrary().hasBlob(digest)) ? 200 : 404).send();
  });

  // The raw body reaches the handler unparsed (the app parses JSON only).
  scope.post(
    "/api/blobs/:digest",
    async (request: FastifyRequest, reply: FastifyReply) => {
      const { digest } = request.params as { digest: string };
      const library = gateway.modelLibrary();
      await library.putBlob(digest, request.raw, clientSignal(request, reply));
      return reply.code(201).send();
    },
    { rawBody: refuseBlobType },
  );
}

function refuseBlobType(type: string | undefined): GatewayError | undefined {
  if (type !== undefined && BLOB_TYPES.test(type)) return undefined;
  return new GatewayError(
    "unsupported_media_type",
    `Unsupported media type: tandem received ${type ? `Content-Type '${type.slice(0, 100)}'` : "a body without a Content-Type"}; send the blob as 'Content-Type: application/octet-stream' (or application/json, as Ollama's own client labels it)`,
  );
}

function startStream(reply: FastifyReply) {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-cache" });
  return res;
}
