/** Where a download stands; sent often while bytes arrive (at most every `progressIntervalMs`). */
export interface DownloadProgress {
  /** The installed model name (`qwen2.5-0.5b`). */
  name: string;
  /** The file's path in the repo. */
  file: string;
  /** The file's size, when the hub said. */
  totalBytes: number | undefined;
  /** Bytes on disk so far, including those of a resumed earlier attempt. */
  doneBytes: number;
  /** Bytes that were already on disk when this pull started (0 for a fresh download). */
  resumedFrom: number;
  /** Smoothed download speed. */
  bytesPerSecond: number;
  /** Seconds left at that speed; undefined until the speed and size are known. */
  etaSeconds: number | undefined;
  /** The file's sha256 (hex) as the hub gave it, once known. */
  sha256: string | undefined;
}

export interface PullResult {
  /** The installed model name: `local/<name>` refers to it. */
  name: string;
  /** Where it now is: `<dataDir>/models/<name>.gguf`. */
  path: string;
  repo: string;
  file: string;
  size: number;
  /** The sha256 (hex) that was checked, when the hub gave one. */
  sha256: string | undefined;
  /** True when the sha256 was given and matched. */
  verified: boolean;
  /** True when the model was installed already and nothing was downloaded. */
  alreadyInstalled: boolean;
  /** Bytes already on disk from an earlier, interrupted pull. */
  resumedFrom: number;
  /** Bytes received over the network by this pull. */
  downloadedBytes: number;
  /** Why this file was picked (an alias, a quant tag, the only GGUF...). */
  reason: string;
}

/**
 * The steps of a pull, in order: enough to draw a progress bar or to produce Ollama's
 * `/api/pull` stream (see ollamaPullStatus in dialects/ollama).
 */
export type PullEvent =
  /** Working out which repo and file to fetch (may ask the hub for the repo's file list). */
  | { type: "resolving"; reference: string }
  | {
      type: "resolved";
      repo: string;
      file: string;
      name: string;
      reason: string;
      size: number | undefined;
      sha256: string | undefined;
    }
  | ({ type: "progress" } & DownloadProgress)
  /** All bytes are on disk; checking the sha256 (when there is one) and the size. */
  | { type: "verifying"; sha256: string | undefined }
  /** Moving the finished file into place. */
  | { type: "installing"; path: string }
  | { type: "done"; result: PullResult };
