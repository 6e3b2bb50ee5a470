import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, writeSync } from "node:fs";
import { platform, tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { StoreEvent } from "../../src/store/index.js";

/** A fresh, empty data dir under the system temp dir. */
export function tempDataDir(prefix = "tandem-store-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function randomKey(): Buffer {
  return randomBytes(32);
}

/** The database's files as they are on disk right now: the main file, its WAL and its shared-memory index. */
export function databaseFiles(dataDir: string): string[] {
  return ["tandem.db", "tandem.db-wal", "tandem.db-shm"].map((f) => join(dataDir, f)).filter((f) => existsSync(f));
}

/** Which of the database's files hold `needle` as raw bytes (UTF-8 and UTF-16LE). */
export function filesContaining(dataDir: string, needle: string): string[] {
  const forms = [Buffer.from(needle, "utf8"), Buffer.from(needle, "utf16le")];
  return databaseFiles(dataDir).filter((file) => {
    const bytes = readFileSync(file);
    return forms.some((form) => bytes.includes(form));
  });
}

/** Collects what a store reports, for assertions, instead of printing it. */
export function eventLog(): { events: StoreEvent[]; report: (event: StoreEvent) => void } {
  const events: StoreEvent[] = [];
  return { events, report: (event) => events.push(event) };
}

/**
 * Runs `run` with a fresh dir on a 2 MB tmpfs (unmounted afterwards), or skips the test saying why
 * there is none here.
 */
export async function onTinyFilesystem(t: TestContext, run: (dir: string) => Promise<void> | void): Promise<void> {
  const fs = tinyFilesystem();
  if (typeof fs === "string") {
    t.skip(`skipped: ${fs}`);
    return;
  }
  try {
    await run(fs.dir);
  } finally {
    fs.unmount();
  }
}

/** Mounts a 2 MB tmpfs on a fresh dir, or says why it cannot (not Linux, not root, no mount in this sandbox). */
function tinyFilesystem(): { dir: string; unmount: () => void } | string {
  if (platform() !== "linux") return "needs Linux tmpfs";
  if (typeof process.getuid === "function" && process.getuid() !== 0) return "mounting a tmpfs needs root";
  const dir = tempDataDir("tandem-full-");
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", dir], { stdio: "pipe" });
  } catch (err) {
    return `mount -t tmpfs is not permitted here (${(err as Error).message.split("\n")[0]})`;
  }
  const unmount = () => {
    try {
      execFileSync("umount", [dir], { stdio: "pipe" });
    } catch {
      // Still busy (a failed assertion left the store open): detach it, so the failure shows, not this.
      execFileSync("umount", ["-l", dir], { stdio: "pipe" });
    }
  };
  return { dir, unmount };
}

/** Writes a file until the filesystem says ENOSPC, in smaller and smaller pieces; returns its path. */
export function fillUp(dir: string): string {
  const file = join(dir, "filler");
  const fd = openSync(file, "w");
  try {
    for (const size of [64 * 1024, 4096, 512]) {
      const chunk = Buffer.alloc(size, 1);
      for (;;) {
        try {
          writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return file;
}
