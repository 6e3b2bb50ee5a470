import { fileMediaType, GatewayError, isTextMediaType, type VectorStores } from "../../../core/index.js";
import { clientSignal, type FilesService, type RouteTable } from "../../shared/index.js";
import { cursorChecked, declaredFileSensitivity, renderList, StateApiError, stateRoute } from "../state/index.js";
import { parseFileListQuery } from "./parse-file-list-query.js";
import { parseFileUpload } from "./parse-file-upload.js";
import { renderFileObject } from "./render-file-object.js";

/** OpenAI keeps `purpose: batch` files 30 days unless told otherwise. */
const BATCH_EXPIRY_S = 30 * 86_400;

/**
 * OpenAI's Files API over the files tandem keeps (encrypted in the store, or in memory when it is
 * off): upload (multipart), list, retrieve, content and delete. A deleted file leaves every vector
 * store (`vectorStores`) too.
 */
export function registerFileRoutes(app: RouteTable, files: FilesService, vectorStores?: VectorStores): void {
  const { store } = files;
  app.post(
    "/v1/files",
    stateRoute(async (request, reply) => {
      // Refused before the body ended, the rest is the server's to read or close (server/lingering-close.ts).
      const upload = await parseFileUpload(request.raw, files.maxBytes, clientSignal(request, reply));
      const expiresAfter = upload.expiresAfter ?? (upload.purpose === "batch" ? BATCH_EXPIRY_S : undefined);
      // The level the client declared (x-tandem-sensitivity) is kept with the file: every request that
      // names it and every chunk a vector store makes of it is at least that sensitive.
      const sensitivity = declaredFileSensitivity(request.headers);
      const file = await store.createFile(
        {
          filename: upload.filename,
          purpose: upload.purpose,
          mediaType: fileMediaType(upload.data, upload.filename, upload.declaredType),
          ...(expiresAfter !== undefined && { expiresAfter }),
          ...(sensitivity !== undefined && { sensitivity }),
        },
        upload.data,
      );
      return renderFileObject(file);
    }),
    { rawBody: refuseNonMultipart },
  );

  app.get(
    "/v1/files",
    stateRoute(async (request) => {
      const options = parseFileListQuery(request.query);
      const page = cursorChecked(await store.listFiles(options), options, "File");
      return renderList(page.data.map(renderFileObject), page.hasMore);
    }),
  );

  app.get(
    "/v1/files/:id",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      const file = await store.getFile(id);
      if (!file) throw noSuchFile(id);
      return renderFileObject(file);
    }),
  );

  app.get(
    "/v1/files/:id/content",
    stateRoute(async (request, reply) => {
      const id = idOf(request.params);
      const found = await store.fileContent(id);
      if (!found) throw noSuchFile(id);
      const { file, data } = found;
      const type = isTextMediaType(file.mediaType) ? `${file.mediaType}; charset=utf-8` : file.mediaType;
      return (
        reply
          .code(200)
          .header("content-type", type)
          .header("content-disposition", `attachment; filename*=UTF-8''${rfc5987(file.filename)}`)
          .header("x-content-type-options", "nosniff")
          // A file is data, never a page of tandem's origin: a browser that opens one anyway runs nothing of it.
          .header("content-security-policy", "default-src 'none'; sandbox")
          .send(Buffer.from(data.buffer, data.byteOffset, data.byteLength))
      );
    }),
  );

  app.delete(
    "/v1/files/:id",
    stateRoute(async (request) => {
      const id = idOf(request.params);
      // Its chunks go with it, from every vector store that held it (as OpenAI's): first, so that a
      // crash between the two leaves a file no store holds, never chunks of a deleted file.
      await vectorStores?.forgetFile(id);
      if (!(await store.deleteFile(id))) throw noSuchFile(id);
      return { id, object: "file", deleted: true };
    }),
  );
}

/** OpenAI's answer to an unknown file id, word for word. */
export function noSuchFile(id: string): StateApiError {
  return new StateApiError(404, `No such File object: ${id.slice(0, 200)}`, { param: "id" });
}

/** A file name as an RFC 5987 ext-value: percent-encoded UTF-8, with the characters it reserves encoded too. */
function rfc5987(name: string): string {
  return encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function idOf(params: unknown): string {
  return (params as { id: string }).id;
}

function refuseNonMultipart(type: string | undefined): GatewayError | undefined {
  if (type !== undefined && /^multipart\/form-data\s*(;|$)/i.test(type)) return undefined;
  return new GatewayError(
    "unsupported_media_type",
    `Unsupported media type: tandem received ${type ? `Content-Type '${type.slice(0, 100)}'` : "a body without a Content-Type"}; upload a file as 'multipart/form-data' with the fields 'file' and 'purpose'`,
  );
}
