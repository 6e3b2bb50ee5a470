import type { IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { Busboy } from "@fastify/busboy";
import {
  bodyDecodingError,
  concatInTurns,
  contentCodings,
  decodedContent,
  FILE_PURPOSES,
  type FilePurpose,
  GatewayError,
  undecodableBodyError,
} from "../../../core/index.js";
import { invalidParam, StateApiError } from "../state/index.js";

/** The longest file name tandem keeps, in characters. */
export const MAX_FILENAME_CHARS = 1024;
/** OpenAI's bounds of `expires_after[seconds]`: an hour to 30 days. */
const MIN_EXPIRY_S = 3600;
const MAX_EXPIRY_S = 2_592_000;
/** What a decoded upload may hold besides its file: the other fields, the part headers, the boundaries. */
const FORM_OVERHEAD_BYTES = 1024 * 1024;

export interface FileUpload {
  data: Buffer;
  filename: string;
  /** The Content-Type the client gave the file part. */
  declaredType: string | undefined;
  purpose: FilePurpose;
  /** Seconds after creation, from `expires_after`; absent: none given. */
  expiresAfter?: number;
}

/**
 * Reads a `POST /v1/files` body (multipart/form-data: `file`, `purpose`, `expires_after[anchor]`,
 * `expires_after[seconds]`) as it arrives. The file's bytes are kept until `maxBytes`: past it the
 * rest of the body is read and dropped, and the answer is a 413, so no upload ever holds more than
 * the limit in memory. Bad or missing fields are 400s naming the field, as OpenAI's are. A body sent
 * with a Content-Encoding is decoded as it arrives, as a JSON body is (core/content-coding.ts: gzip,
 * deflate, br; any other coding, or too many, is the same 415 before anything is read), and what it
 * decodes to counts against the limit: past `maxBytes` and room for the form's other parts, a 413,
 * and the rest is read as it came, never decoded (a small body that inflates to gigabytes).
 */
export function parseFileUpload(raw: IncomingMessage, maxBytes: number, signal: AbortSignal): Promise<FileUpload> {
  return new Promise((resolve, reject) => {
    const codings = contentCodings(raw.headers["content-encoding"]);
    const refusal = undecodableBodyError(codings);
    if (refusal !== undefined) {
      reject(refusal);
      return;
    }
    // What busboy reads: the body as it came, or what its codings decode to.
    const body: Readable = codings.length === 0 ? raw : decodedContent(raw, codings, (err) => bodyDecodingError(codings, err));
    /** Stops reading `body` into the parser (and decoding the rest of the body, when it is coded). */
    const detach = (): void => {
      body.unpipe(parser);
      if (body === raw) return;
      // The request leaves its decoder now, not when the decoded stream has closed (a turn later, which
      // would pause it again after the caller resumed it to read the rest through).
      raw.unpipe();
      body.destroy();
    };
    const fields = new Map<string, string>();
    let file: { chunks: Buffer[]; bytes: number; filename: string; type: string | undefined } | undefined;
    let failure: Error | undefined;
    let fileDone: Promise<void> = Promise.resolve();
    // Once the answer is a refusal, the rest of the body is read and dropped here rather than
    // through busboy: its skipping of parts past `limits.parts` (and `files`) can leave the request
    // paused (mscdex/busboy#163), and the client would wait for server.bodyTimeoutMs for a 408.
    // Reading the body through keeps the connection usable, as for a file over files.maxBytes.
    const fail = (err: Error): void => {
      if (failure !== undefined) return;
      failure = err;
      detach();
      const answer = (): void => {
        signal.removeEventListener("abort", stop);
        reject(err);
      };
      if (raw.readableEnded) answer();
      else {
        raw.once("end", answer);
        raw.resume();
      }
    };
    let parser: ReturnType<typeof Busboy>;
    try {
      parser = Busboy({
        headers: raw.headers as Parameters<typeof Busboy>[0]["headers"],
        // No `files` limit: a second file part is refused below, before busboy would skip it.
        limits: { fields: 10, parts: 12, fieldSize: 4096, fileSize: maxBytes },
      });
    } catch (err) {
      // A multipart Content-Type without its boundary.
      reject(new GatewayError("invalid_request", `Invalid multipart body: ${(err as Error).message}`));
      return;
    }
    const stop = (): void => {
      detach();
      raw.resume();
      reject(new GatewayError("canceled", "The client closed the connection"));
    };
    signal.addEventListener("abort", stop, { once: true });
    // The body failing as it arrives (server.bodyTimeoutMs's 408): the answer is that error. Without a
    // listener the server would only destroy the request, and the client would get no answer at all.
    // Anything else is the client going away mid-body (Node's ECONNRESET "aborted").
    raw.on("error", (err) => {
      signal.removeEventListener("abort", stop);
      detach();
      reject(
        err instanceof GatewayError ? err : new GatewayError("canceled", "The client closed the connection", { cause: err }),
      );
    });
    if (body !== raw) {
      // A body that does not decode (the 400 naming its coding); the request's own errors come above too.
      body.on("error", (err) => {
        signal.removeEventListener("abort", stop);
        reject(err);
      });
      let decoded = 0;
      body.on("data", (chunk: Buffer) => {
        decoded += chunk.length;
        if (decoded > maxBytes + FORM_OVERHEAD_BYTES) fail(tooLarge(maxBytes));
      });
    }
    parser.on("file", (name, stream, filename, _encoding, mimeType) => {
      if (name !== "file") {
        fail(unknownField(name));
        stream.resume();
        return;
      }
      if (file !== undefined) {
        // A second `file`: refused, and its bytes read and dropped so the rest of the body arrives.
        fail(invalidParam("file", "Invalid 'file': upload one file per request."));
        stream.resume();
        return;
      }
      const upload = { chunks: [] as Buffer[], bytes: 0, filename, type: mimeType || undefined };
      file = upload;
      fileDone = new Promise((done) => {
        stream.on("data", (chunk: Buffer) => {
          // Past the limit busboy stops handing bytes over (`limit`); nothing more is kept.
          if (failure === undefined) upload.chunks.push(chunk);
          upload.bytes += chunk.length;
        });
        stream.on("limit", () => {
          upload.chunks = [];
          fail(tooLarge(maxBytes));
        });
        stream.on("end", done);
        stream.on("error", done);
      });
    });
    parser.on("field", (name, value, _nameTruncated, valueTruncated) => {
      if (name === "file") {
        fail(invalidParam("file", "Invalid 'file': expected a file upload (a form part with a filename), not a text field."));
        return;
      }
      if (!["purpose", "expires_after[anchor]", "expires_after[seconds]"].includes(name)) {
        fail(unknownField(name));
        return;
      }
      if (valueTruncated) fail(invalidParam(name, `Invalid '${name}': the value is too long.`));
      // A field given twice says two things (a `purpose` of `user_data` and of `batch`, which expire
      // differently): refused naming it, as a repeated query parameter is, never the last one kept.
      if (fields.has(name)) {
        fail(invalidParam(name, `Invalid '${name}': expected a single value, but got several.`, "invalid_type"));
        return;
      }
      fields.set(name, value);
    });
    parser.on("fieldsLimit", () => fail(new StateApiError(400, "Too many form fields in the upload.")));
    parser.on("partsLimit", () => fail(new StateApiError(400, "Too many form parts in the upload.")));
    parser.on("error", (err: unknown) => {
      if (failure !== undefined) return; // already refused; fail() answers once the body is read
      signal.removeEventListener("abort", stop);
      detach();
      raw.resume();
      reject(new GatewayError("invalid_request", `Invalid multipart body: ${(err as Error)?.message ?? String(err)}`));
    });
    parser.on("finish", () => {
      // A refusal is answered by fail(), once the body has been read.
      if (failure !== undefined) return;
      signal.removeEventListener("abort", stop);
      void fileDone.then(() => {
        try {
          if (failure) throw failure;
          // The file's chunks are joined in turns of the event loop (see concatInTurns).
          const { chunks, upload } = checkedUpload(file, fields);
          concatInTurns(chunks, upload.bytes).then((data) => resolve({ ...upload.fields, data }), reject);
        } catch (err) {
          reject(err);
        }
      });
    });
    body.pipe(parser);
  });
}

function checkedUpload(
  file: { chunks: Buffer[]; bytes: number; filename: string; type: string | undefined } | undefined,
  fields: Map<string, string>,
): { chunks: Buffer[]; upload: { bytes: number; fields: Omit<FileUpload, "data"> } } {
  if (file === undefined) throw invalidParam("file", "Missing required parameter: 'file'.", "missing_required_parameter");
  const purpose = fields.get("purpose");
  if (purpose === undefined)
    throw invalidParam("purpose", "Missing required parameter: 'purpose'.", "missing_required_parameter");
  if (!(FILE_PURPOSES as readonly string[]).includes(purpose)) {
    throw invalidParam(
      "purpose",
      `Invalid value for 'purpose': '${purpose.slice(0, 100)}'. Supported values are: ${FILE_PURPOSES.map((p) => `'${p}'`).join(", ")}.`,
    );
  }
  const filename = file.filename.trim();
  if (filename === "") throw invalidParam("file", "Invalid 'file': the file part has no filename.");
  if (filename.length > MAX_FILENAME_CHARS) {
    throw invalidParam("file", `Invalid 'file': the filename is longer than ${MAX_FILENAME_CHARS} characters.`);
  }
  if (file.bytes === 0) throw invalidParam("file", "Invalid 'file': the file is empty.");
  const expiresAfter = parseExpiry(fields);
  return {
    chunks: file.chunks,
    upload: {
      bytes: file.bytes,
      fields: {
        filename,
        declaredType: file.type,
        purpose: purpose as FilePurpose,
        ...(expiresAfter !== undefined && { expiresAfter }),
      },
    },
  };
}

function parseExpiry(fields: Map<string, string>): number | undefined {
  const anchor = fields.get("expires_after[anchor]");
  const seconds = fields.get("expires_after[seconds]");
  if (anchor === undefined && seconds === undefined) return undefined;
  if (anchor !== "created_at") {
    throw invalidParam(
      "expires_after.anchor",
      anchor === undefined
        ? "Missing required parameter: 'expires_after.anchor'."
        : `Invalid value for 'expires_after.anchor': '${anchor.slice(0, 100)}'. Supported values are: 'created_at'.`,
      anchor === undefined ? "missing_required_parameter" : "invalid_value",
    );
  }
  if (seconds === undefined) {
    throw invalidParam(
      "expires_after.seconds",
      "Missing required parameter: 'expires_after.seconds'.",
      "missing_required_parameter",
    );
  }
  const value = /^\d{1,12}$/.test(seconds) ? Number(seconds) : Number.NaN;
  if (!(value >= MIN_EXPIRY_S && value <= MAX_EXPIRY_S)) {
    throw invalidParam(
      "expires_after.seconds",
      `Invalid 'expires_after.seconds': expected an integer from ${MIN_EXPIRY_S} (an hour) to ${MAX_EXPIRY_S} (30 days), but got '${seconds.slice(0, 100)}'.`,
    );
  }
  return value;
}

function unknownField(name: string): StateApiError {
  return new StateApiError(400, `Unrecognized request argument supplied: ${name.slice(0, 100)}`, { param: name.slice(0, 100) });
}

/** The 413 of an upload over `files.maxBytes`, naming the setting. */
export function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError(
    "payload_too_large",
    `The file is larger than tandem's limit of ${maxBytes} bytes (files.maxBytes); raise the setting to upload it.`,
    { param: "file" },
  );
}
