import { createHash, randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { GatewayError } from "../core/index.js";

/**
 * Files uploaded with Ollama's `POST /api/blobs/:digest`, kept as `<dataDir>/blobs/sha256-<hex>`
 * until `/api/create` names them. A blob is stored only when its bytes hash to its digest.
 */

const DIGEST = /^sha256[:-]([0-9a-f]{64})$/;

/** The hex of a `sha256:<hex>` digest; invalid_request (400) for anything else. */
export function parseDigest(digest: string): string {
  const hex = DIGEST.exec(digest)?.[1];
  if (!hex) {
    throw new GatewayError("invalid_request", `invalid digest '${digest.slice(0, 80)}': expected sha256:<64 hex digits>`, {
      param: "digest",
    });
  }
  return hex;
}

export function blobsDir(dataDir: string): string {
  return join(dataDir, "blobs");
}

export function blobPath(dataDir: string, digest: string): string {
  return join(blobsDir(dataDir), `sha256-${parseDigest(digest)}`);
}

export async function hasBlob(dataDir: string, digest: string): Promise<boolean> {
  const info = await stat(blobPath(dataDir, digest)).catch(() => undefined);
  return info?.isFile() === true;
}

/**
 * Stores a blob from a byte stream: written beside its final name, hashed on the way, renamed
 * into place only when the sha256 matches (else invalid_request, as Ollama answers 400).
 */
export async function putBlob(
  dataDir: string,
  digest: string,
  body: AsyncIterable<Uint8Array>,
  signal: AbortSignal,
): Promise<{ size: number }> {
  const expected = parseDigest(digest);
  const dir = blobsDir(dataDir);
  await mkdir(dir, { recursive: true });
  const final = join(dir, `sha256-${expected}`);
  const temp = join(dir, `.upload-${randomBytes(6).toString("hex")}`);
  const hash = createHash("sha256");
  let size = 0;
  try {
    await pipeline(
      body,
      async function* (source: AsyncIterable<Uint8Array>) {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.length;
          yield chunk;
        }
      },
      createWriteStream(temp),
      { signal },
    );
    const actual = hash.digest("hex");
    if (actual !== expected) {
      throw new GatewayError("invalid_request", `digest mismatch: the body's sha256 is sha256:${actual}, not ${digest}`, {
        param: "digest",
      });
    }
    await rename(temp, final);
    return { size };
  } finally {
    await rm(temp, { force: true });
  }
}
