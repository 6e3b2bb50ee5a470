export type { DownloadProgress, PullEvent, PullResult } from "../core/index.js";
