// Loaded into every test process (`node --test --import`): its temporary files go in a directory of
// its own, removed when it ends, so a run leaves nothing in the OS temp dir however its tests clean up.
// The runner loads it too: each test file's directory is made inside the runner's.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dir = mkdtempSync(join(tmpdir(), "tandem-tests-"));
process.env.TMPDIR = dir;
process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
