/**
 * What a file's bytes are, as a media type: from their first bytes (PDF, PNG, JPEG, GIF, WebP), else
 * the file name's extension, else the type the client declared when it is specific, else UTF-8 text
 * without NUL bytes as `text/plain`, else `application/octet-stream`. Clients label uploads loosely
 * (`toFile` sends `application/octet-stream` for anything), so the bytes and the name come first.
 */
export function fileMediaType(data: Uint8Array, filename: string | undefined, declared?: string): string {
  const sniffed = sniff(data);
  if (sniffed !== undefined) return sniffed;
  const extension = filename?.toLowerCase().match(/\.([a-z0-9+_-]{1,12})$/)?.[1];
  const byName = extension === undefined ? undefined : BY_EXTENSION[extension];
  if (byName !== undefined) return byName;
  const type = declared?.split(";")[0]?.trim().toLowerCase();
  if (type !== undefined && type !== "" && type !== "application/octet-stream" && /^[a-z]+\/[a-z0-9.+-]+$/.test(type))
    return type;
  return looksLikeText(data) ? "text/plain" : "application/octet-stream";
}

/** Whether a target can be given the bytes as text (text/*, JSON, XML, YAML, source code...). */
export function isTextMediaType(mediaType: string): boolean {
  return (
    mediaType.startsWith("text/") ||
    /^application\/([a-z0-9.-]+\+)?(json|xml|yaml|x-yaml|toml|x-sh|javascript|x-python|sql|graphql|x-ndjson|jsonl|x-jsonlines)$/.test(
      mediaType,
    )
  );
}

/** The image types every target that reads images takes. */
export function isImageMediaType(mediaType: string): boolean {
  return mediaType === "image/png" || mediaType === "image/jpeg" || mediaType === "image/gif" || mediaType === "image/webp";
}

function sniff(data: Uint8Array): string | undefined {
  const starts = (...bytes: number[]): boolean => bytes.every((b, i) => data[i] === b);
  if (starts(0x25, 0x50, 0x44, 0x46, 0x2d)) return "application/pdf"; // %PDF-
  if (starts(0x89, 0x50, 0x4e, 0x47)) return "image/png";
  if (starts(0xff, 0xd8, 0xff)) return "image/jpeg";
  if (starts(0x47, 0x49, 0x46, 0x38)) return "image/gif"; // GIF8
  if (starts(0x52, 0x49, 0x46, 0x46) && data[8] === 0x57 && data[9] === 0x45 && data[10] === 0x42 && data[11] === 0x50) {
    return "image/webp"; // RIFF....WEBP
  }
  return undefined;
}

/** Valid UTF-8 without NUL bytes in the first 64 KiB (a cut at the end of the sample is allowed). */
function looksLikeText(data: Uint8Array): boolean {
  const sample = data.subarray(0, 65_536);
  if (sample.includes(0)) return false;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(sample, { stream: sample.length < data.length });
    return true;
  } catch {
    return false;
  }
}

const CODE = "text/plain";
const BY_EXTENSION: Record<string, string> = {
  pdf: "application/pdf",
  png: "image/png",
  jpg: "image/jpeg",
  jpeg: "image/jpeg",
  gif: "image/gif",
  webp: "image/webp",
  txt: "text/plain",
  text: "text/plain",
  log: "text/plain",
  md: "text/markdown",
  markdown: "text/markdown",
  csv: "text/csv",
  tsv: "text/tab-separated-values",
  html: "text/html",
  htm: "text/html",
  css: "text/css",
  xml: "application/xml",
  json: "application/json",
  jsonl: "application/jsonl",
  ndjson: "application/x-ndjson",
  yaml: "application/yaml",
  yml: "application/yaml",
  toml: "application/toml",
  js: "text/javascript",
  mjs: "text/javascript",
  cjs: "text/javascript",
  ts: CODE,
  tsx: CODE,
  jsx: CODE,
  py: "text/x-python",
  rb: CODE,
  go: CODE,
  rs: CODE,
  java: CODE,
  kt: CODE,
  c: CODE,
  h: CODE,
  cc: CODE,
  cpp: CODE,
  hpp: CODE,
  cs: CODE,
  php: CODE,
  swift: CODE,
  sh: "application/x-sh",
  bash: "application/x-sh",
  sql: "application/sql",
  tex: CODE,
  ini: CODE,
  cfg: CODE,
  conf: CODE,
  env: CODE,
};
