import { createHash } from "node:crypto";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { backoffDelayMs, GatewayError } from "../core/index.js";
import type { DownloadProgress, PullEvent } from "../core/pull-events.js";
import type { HubConnection } from "./hub-connection.js";
import { hubError } from "./hub-error.js";
import { PARTIAL_SUFFIX } from "./model-store.js";
import { header, openHubFile, parseContentRange } from "./open-hub-file.js";
import { discardPartial, type HashState, hashPrefix, type PartialNote, readNote, sizeOf, writeNote } from "./partial-download.js";
import { readGgufHeader } from "./read-gguf-header.js";
import { TransferRate } from "./transfer-rate.js";

export interface DownloadHubFileOptions {
  hub: HubConnection;
  repo: string;
  /** Path of the file in the repo. */
  file: string;
  /** The installed model name, for progress events. */
  name: string;
  /** Where the finished file goes; the download is written to `<destination>.partial` until verified. */
  destination: string;
  /** The sha256 (hex) the repo listing gave, if any; the download's own `X-Linked-Etag` wins. */
  expectedSha256?: string;
  /** The size the repo listing gave, if any. */
  expectedSize?: number;
  /** Aborting stops the transfer and keeps the partial file for a later resume. */
  signal?: AbortSignal;
  onProgress?: (progress: DownloadProgress) => void;
  onEvent?: (event: PullEvent) => void;
  /** How many times in a row an attempt may fail without receiving a byte before giving up. Default 3. */
  retries?: number;
  /** Delay before the first retry, doubled for each further one. Default 1000. */
  retryDelayMs?: number;
  /** Least time between progress events. Default 100. */
  progressIntervalMs?: number;
  /** Milliseconds without a byte before a stalled transfer is dropped (and retried). Default 60000. */
  idleTimeoutMs?: number;
}

export interface DownloadOutcome {
  size: number;
  sha256: string | undefined;
  verified: boolean;
  resumedFrom: number;
  downloadedBytes: number;
}

/** Partial files being written by this process: two pulls of one model must not write the same file. */
const active = new Set<string>();

/**
 * Downloads one file of a hub repo into `<destination>.partial`, resuming what an earlier attempt
 * left there (`Range: bytes=N-`; a server that answers 200 instead of 206 is read from the start),
 * following the hub's redirect to its CDN (the token is sent to the hub only), retrying dropped
 * connections, then checks the size and the sha256 the hub gives for LFS files (`X-Linked-Etag`)
 * and renames the file into place. A checksum mismatch deletes the partial file; an abort or a
 * failure keeps it, and the error says so.
 */
export async function downloadHubFile(options: DownloadHubFileOptions): Promise<DownloadOutcome> {
  const partial = options.destination + PARTIAL_SUFFIX;
  if (active.has(partial)) {
    throw new GatewayError("invalid_request", `${options.name} is already being pulled`, { status: 409 });
  }
  active.add(partial);
  try {
    return await download(options, partial);
  } finally {
    active.delete(partial);
  }
}

async function download(options: DownloadHubFileOptions, partial: string): Promise<DownloadOutcome> {
  const { hub, repo, file, signal } = options;
  const notePath = `${partial}.json`;
  const retries = options.retries ?? 3;
  const retryDelayMs = options.retryDelayMs ?? 1000;
  const progressIntervalMs = options.progressIntervalMs ?? 100;
  await mkdir(dirname(partial), { recursive: true });

  let sha256 = options.expectedSha256;
  let total = options.expectedSize;
  const note = await readNote(notePath);
  const sameFile =
    note !== undefined && note.repo === repo && note.file === file && !(sha256 && note.sha256 && note.sha256 !== sha256);
  if (!sameFile) await rm(partial, { force: true });
  else {
    sha256 ??= note.sha256;
    total ??= note.size;
  }
  let noted: PartialNote = { repo, file, sha256, size: total };
  await writeNote(notePath, noted);

  const resumedFrom = await sizeOf(partial);
  const rate = new TransferRate();
  const hashState: HashState = { hash: createHash("sha256"), bytes: 0 };
  let downloaded = 0;
  let failures = 0;
  let lastEmit = 0;

  const emit = (done: number, force: boolean) => {
    const now = Date.now();
    const bytesPerSecond = rate.sample(downloaded, now);
    if (!force && now - lastEmit < progressIntervalMs) return;
    lastEmit = now;
    const progress: DownloadProgress = {
      name: options.name,
      file,
      totalBytes: total,
      doneBytes: done,
      resumedFrom,
      bytesPerSecond,
      etaSeconds: total === undefined ? undefined : rate.etaSeconds(total - done),
      sha256,
    };
    options.onProgress?.(progress);
    options.onEvent?.({ type: "progress", ...progress });
  };

  for (;;) {
    let offset = await sizeOf(partial);
    if (total !== undefined && offset > total) {
      await rm(partial, { force: true });
      offset = 0;
    }
    let receivedThisAttempt = 0;
    let overlong = false;
    try {
      // Before the request, so a long re-read of a big partial file does not stall the connection.
      await hashPrefix(partial, offset, hashState, signal);
      const res = await openHubFile(hub, repo, file, offset, signal, options.idleTimeoutMs ?? 60_000);
      if (res.sha256 !== undefined && sha256 !== undefined && res.sha256 !== sha256 && offset > 0) {
        // The file changed on the hub since the partial download began: start it again.
        res.body.discard();
        await rm(partial, { force: true });
        sha256 = res.sha256;
        continue;
      }
      sha256 = res.sha256 ?? sha256;
      total = res.size ?? total;

      let writeFrom = offset;
      if (res.statusCode === 416 && offset > 0) {
        res.body.discard();
        if (total !== undefined && offset === total) {
          await noteIfChanged();
          emit(offset, true);
          break;
        }
        // Not satisfiable for another reason: the partial file is longer than the file. Start over.
        await rm(partial, { force: true });
        failures++;
        continue;
      }
      if (res.statusCode === 206) {
        const range = parseContentRange(header(res.headers, "content-range"));
        if (range === undefined || range.start !== offset) {
          res.body.discard();
          await rm(partial, { force: true });
          failures++;
          if (failures > retries)
            throw new GatewayError(
              "upstream_error",
              `the server sent the wrong part of ${file} (${header(res.headers, "content-range") ?? "no Content-Range"})`,
            );
          continue;
        }
        total ??= range.total;
      } else if (res.statusCode === 200) {
        // A server that ignores Range sends the whole file: start over from byte 0.
        writeFrom = 0;
        const length = Number(header(res.headers, "content-length"));
        if (total === undefined && Number.isSafeInteger(length)) total = length;
      } else {
        res.body.discard();
        if (res.onHub) throw hubError(res.statusCode, res.headers, { hub, repo, file });
        // The CDN's links are signed and short-lived: a new request through the hub gets a fresh one.
        throw new GatewayError(
          "upstream_error",
          `the download server ${new URL(res.url).origin} answered ${res.statusCode} for ${file}`,
          {
            retryable: true,
          },
        );
      }
      await noteIfChanged();

      if (writeFrom === 0) {
        hashState.hash = createHash("sha256");
        hashState.bytes = 0;
      }
      const handle = await open(partial, writeFrom === 0 ? "w" : "a");
      let done = writeFrom;
      try {
        emit(done, true);
        await res.body.writeTo(handle, {
          check: (chunk) => {
            if (total !== undefined && done + chunk.length > total) {
              overlong = true;
              throw new GatewayError(
                "upstream_error",
                `the server sent more than the ${total} bytes of ${file}; the download was deleted`,
                {
                  retryable: false,
                },
              );
            }
          },
          written: (chunk) => {
            hashState.hash.update(chunk);
            hashState.bytes += chunk.length;
            done += chunk.length;
            downloaded += chunk.length;
            receivedThisAttempt += chunk.length;
            emit(done, false);
          },
        });
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (total !== undefined && done < total) {
        throw new GatewayError("unavailable", `the connection ended after ${done} of ${total} bytes`, { retryable: true });
      }
      total ??= done;
      emit(done, true);
      break;
    } catch (err) {
      if (overlong) await discardPartial(partial, notePath);
      const have = await sizeOf(partial);
      /** Ends the pull; a note with no bytes beside it would only be clutter. */
      const giveUp = async (error: GatewayError): Promise<GatewayError> => {
        if (have === 0) await discardPartial(partial, notePath);
        return error;
      };
      if (signal?.aborted || (err instanceof GatewayError && err.code === "canceled")) {
        throw await giveUp(
          new GatewayError("canceled", `download of ${file} canceled${describeKept(have, total, partial)}`, { cause: err }),
        );
      }
      const error = classifyFailure(err, partial);
      if (!error.retryable) throw await giveUp(error);
      failures = receivedThisAttempt > 0 ? 1 : failures + 1;
      if (failures > retries) {
        const how = have > 0 ? "interrupted" : "failed";
        throw await giveUp(
          new GatewayError(error.code, `download of ${file} ${how}: ${error.message}${describeKept(have, total, partial)}`, {
            status: error.status,
            retryAfterMs: error.retryAfterMs,
            cause: err,
          }),
        );
      }
      try {
        // A rate-limited hub says how long to wait (honoured up to a minute).
        const backoff = backoffDelayMs(failures - 1, { baseMs: retryDelayMs });
        await sleep(Math.max(backoff, Math.min(error.retryAfterMs ?? 0, 60_000)), undefined, { signal });
      } catch {
        throw await giveUp(new GatewayError("canceled", `download of ${file} canceled${describeKept(have, total, partial)}`));
      }
    }
  }

  async function noteIfChanged(): Promise<void> {
    if (noted.sha256 === sha256 && noted.size === total) return;
    noted = { repo, file, sha256, size: total };
    await writeNote(notePath, noted);
  }

  options.onEvent?.({ type: "verifying", sha256 });
  const size = await sizeOf(partial);
  if (total !== undefined && size !== total) {
    await discardPartial(partial, notePath);
    throw new GatewayError(
      "upstream_error",
      `${file} is ${size} bytes on disk but should be ${total}; the download was deleted: pull again`,
    );
  }
  if (hashState.bytes !== size) await hashPrefix(partial, size, hashState, signal);
  const actual = hashState.hash.digest("hex");
  if (sha256 !== undefined && actual !== sha256) {
    await discardPartial(partial, notePath);
    throw new GatewayError(
      "upstream_error",
      `sha256 mismatch for ${file} from ${repo}: expected ${sha256}, got ${actual}; the download was deleted: pull again`,
    );
  }
  try {
    // A mirror that answers with an error page, or a file without a published checksum, is caught here.
    await readGgufHeader(partial, { maxArrayItems: 0, signal });
  } catch (err) {
    if (signal?.aborted)
      throw new GatewayError("canceled", `download of ${file} canceled before it was installed`, { cause: err });
    await discardPartial(partial, notePath);
    throw new GatewayError(
      "upstream_error",
      `${file} from ${repo} is not a usable GGUF (${(err as Error).message}); the download was deleted`,
      {
        cause: err,
      },
    );
  }
  options.onEvent?.({ type: "installing", path: options.destination });
  await rename(partial, options.destination);
  await rm(notePath, { force: true });
  return { size, sha256, verified: sha256 !== undefined, resumedFrom, downloadedBytes: downloaded };
}

/** Network trouble is worth another attempt; a local problem (a full disk, no permission) is not. */
function classifyFailure(err: unknown, partial: string): GatewayError {
  if (err instanceof GatewayError) return err;
  const code = (err as { code?: unknown }).code;
  if (typeof code === "string" && (code.startsWith("UND_ERR") || NETWORK_ERRNOS.has(code))) {
    return new GatewayError("unavailable", `${(err as Error).message} (${code})`, { cause: err, retryable: true });
  }
  return new GatewayError("internal", `cannot write ${partial}: ${(err as Error).message ?? String(err)}`, {
    cause: err,
    retryable: false,
  });
}

const NETWORK_ERRNOS = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/** What an unfinished download left for the next pull, as the end of an error message. */
function describeKept(have: number, total: number | undefined, partial: string): string {
  if (have === 0) return "";
  return `; ${have}${total === undefined ? "" : ` of ${total}`} bytes are kept in ${partial}: pull again to resume`;
}
