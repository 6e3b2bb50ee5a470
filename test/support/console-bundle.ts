/**
 * The web console bundled for tests, once per test process, into a temp dir of its own: tests run
 * from src/ with tsx, where dist/web may be missing or stale, so they build what they serve
 * (esbuild, well under a second) with the same script `npm run build` runs.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildConsole } from "../../scripts/build-web.mjs";

let built: Promise<string> | undefined;

/** The directory holding a fresh bundle (index.html and its hashed assets). */
export function consoleBundleDir(): Promise<string> {
  built ??= buildConsole({ outDir: join(mkdtempSync(join(tmpdir(), "tandem-console-")), "web") }).then((r) => r.outDir);
  return built;
}
