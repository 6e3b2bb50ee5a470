import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { extname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The files of the bundle the console may serve, by extension, with their content types. */
const CONTENT_TYPES: Readonly<Record<string, string>> = {
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
};

/** A bundle is a few small files (about 80 KB); anything far larger is not one. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

export interface ConsoleFile {
  body: Buffer;
  contentType: string;
}

/**
 * The web console's bundle (`npm run build` writes it to dist/web: index.html and hashed assets),
 * read into memory once when the server starts. Only the files found then are ever served, by exact
 * name: no path from a request reaches the file system.
 */
export class ConsoleBundle {
  private constructor(
    /** The page, or undefined when the bundle was not found (the server then answers 503 saying so). */
    readonly page: Buffer | undefined,
    readonly assets: ReadonlyMap<string, ConsoleFile>,
  ) {}

  /** Reads the bundle in `dir`; a missing or unreadable bundle gives one without a page. */
  static load(dir: string | undefined): ConsoleBundle {
    if (dir === undefined || !existsSync(join(dir, "index.html"))) return new ConsoleBundle(undefined, new Map());
    const assets = new Map<string, ConsoleFile>();
    try {
      for (const name of readdirSync(dir)) {
        const contentType = CONTENT_TYPES[extname(name)];
        const path = join(dir, name);
        if (contentType === undefined || !statSync(path).isFile() || statSync(path).size > MAX_FILE_BYTES) continue;
        assets.set(name, { body: readFileSync(path), contentType });
      }
      return new ConsoleBundle(readFileSync(join(dir, "index.html")), assets);
    } catch {
      return new ConsoleBundle(undefined, new Map());
    }
  }
}

/**
 * Where the bundle is: dist/web next to this module's dist/server (an installed or built tandem),
 * else, when running from src/ (tsx, `npm run dev`), the checkout's dist/web that `npm run build`
 * writes. Undefined when neither holds an index.html.
 */
export function defaultConsoleDir(): string | undefined {
  const candidates = [new URL("../web/", import.meta.url), new URL("../../dist/web/", import.meta.url)];
  for (const url of candidates) {
    const dir = fileURLToPath(url);
    if (existsSync(join(dir, "index.html"))) return dir;
  }
  return undefined;
}
