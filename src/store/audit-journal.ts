import { type Cipher, createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import { closeSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, join } from "node:path";
import type { EgressValues } from "./log-tables.js";
import { StoreError } from "./store-error.js";

/**
 * The egress audit's journal: how a server puts an audit row on disk before a body leaves without a
 * database commit on the request's path.
 *
 * A row is appended, encrypted, to a file of `<dataDir>/audit-journal/` with one write(2): once that
 * returns the row is in the operating system's hands and survives a crash of tandem (kill -9), which
 * is what a commit with `durability: crash` (no fsync) promises too, for less time (0.01 ms in a
 * tight loop, 0.04–0.05 ms inside a serving process; an encrypted commit took 0.05–0.1 ms in a loop,
 * and it waits for the database's lock). The same row goes to the store's thread with the
 * write-behind queue and is committed there within about 50 ms, in a batch. Each hand-over names the
 * file in use and how many of its records it has taken (see handOver); the store's thread records
 * that count in the same transaction as the rows (table audit_journal_done). A file is ended
 * ("sealed") at a hand-over once it is ROTATE_AFTER_MS old or ROTATE_AFTER_BYTES long, and the
 * store's thread marks it done whole in the transaction that commits its last rows, then deletes it.
 * Files last that long because creating one is far dearer than appending to it (0.15–0.2 ms of system
 * time on ext4, against 0.01 ms for a record): a new file per hand-over, every 50 ms, was a measurable
 * share of a request's CPU under load. Whatever a crash left behind is replayed when the store is
 * next opened: every sealed or open file whose writer is gone, its records from the count its done
 * mark gives (all of them when it has none; none when it is marked done whole).
 *
 * A file starts with a random 16-byte IV; each record is `length (u32, big-endian) | ciphertext | tag
 * (16)`: the row's values as JSON, encrypted with AES-256-CTR continuing the file's one key stream,
 * and the first 16 bytes of an HMAC-SHA256 of the file's name, the record's index and the ciphertext
 * (a record cannot be changed, reordered, or moved to another file). Both keys are derived from the
 * database key. One cipher per file, not one per record: a GCM cipher per record cost 11 µs, this 4.
 * A write cut short (a full disk) ends its file: the next row opens a new one, so a torn record is
 * only ever a file's last. A record that fails its tag elsewhere is damage, not a crash: the replay
 * skips it alone and keeps every later record, which still passes its own tag (see openRecords).
 */
export const AUDIT_JOURNAL_DIR = "audit-journal";
const SUFFIX = ".jrn";
const IV_BYTES = 16;
const TAG_BYTES = 16;
/** Far more than a row's JSON (a digest, a target name, a few counts): a length past it is damage. */
const MAX_RECORD_BYTES = 64 * 1024;
/** A file in use is ended at the first hand-over after it is this old (ms)... */
export const ROTATE_AFTER_MS = 5_000;
/** ...or this long (bytes): a few thousand rows, which a replay reads whole. */
export const ROTATE_AFTER_BYTES = 1024 * 1024;

/** What a hand-over takes from the journal (see AuditJournal.handOver). */
export interface JournalHandOver {
  /** Files ended since the last hand-over: every record of theirs is in this hand-over or an earlier one. */
  sealed: string[];
  /** The file in use and how many of its records (the first ones) this hand-over and the earlier ones hold. */
  through?: { file: string; records: number };
}

interface JournalKeys {
  cipher: Buffer;
  mac: Buffer;
}

/** The journal's keys: derived from the database key, so the journal is no easier to read than the database. */
function journalKeys(databaseKey: Buffer): JournalKeys {
  const derive = (use: string) =>
    Buffer.from(hkdfSync("sha256", databaseKey, Buffer.alloc(0), `tandem egress audit journal v1 ${use}`, 32));
  return { cipher: derive("cipher"), mac: derive("mac") };
}

function tagOf(keys: JournalKeys, name: string, index: number, ciphertext: Buffer): Buffer {
  const position = Buffer.allocUnsafe(4);
  position.writeUInt32BE(index, 0);
  return createHmac("sha256", keys.mac).update(name).update(position).update(ciphertext).digest().subarray(0, TAG_BYTES);
}

/** The serving thread's side: appends rows, hands them over for the store's thread to commit, files it then deletes. */
export class AuditJournal {
  readonly dir: string;
  readonly #keys: JournalKeys;
  /** `<pid>-<start time>-`: the writer's process, so an opener can tell a live writer's files from a crashed one's. */
  readonly #prefix: string;
  #seq = 0;
  #fd: number | undefined;
  #file = "";
  #name = "";
  #cipher: Cipher | undefined;
  #records = 0;
  #bytes = 0;
  #openedAt = 0;
  /** Files ended since the last hand-over (a full disk ends a file early): they go over with the next. */
  #closed: string[] = [];

  constructor(dataDir: string, databaseKey: Buffer) {
    this.dir = join(dataDir, AUDIT_JOURNAL_DIR);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.#keys = journalKeys(databaseKey);
    this.#prefix = `${process.pid}-${Date.now()}-`;
  }

  /** Puts one row on disk (the OS's page cache) before returning; throws a StoreError when it cannot. */
  append(values: EgressValues): void {
    if (this.#fd === undefined) this.#open();
    const ciphertext = (this.#cipher as Cipher).update(JSON.stringify(values), "utf8");
    const record = Buffer.allocUnsafe(4 + ciphertext.length + TAG_BYTES);
    record.writeUInt32BE(ciphertext.length, 0);
    ciphertext.copy(record, 4);
    tagOf(this.#keys, this.#name, this.#records, ciphertext).copy(record, 4 + ciphertext.length);
    try {
      writeAll(this.#fd as number, record);
    } catch (err) {
      // Part of the record may be in the file: end it here, so that only its last record is torn.
      this.#end();
      throw journalError(err, this.#file, "write the egress audit journal");
    }
    this.#records++;
    this.#bytes += record.length;
  }

  /**
   * What the store's thread is to commit with the rows queued since the last hand-over: the files
   * ended since, and how far the file in use goes. The file in use is ended first when it is old or
   * long enough (ROTATE_AFTER_MS, ROTATE_AFTER_BYTES), so a crash never leaves much to replay.
   */
  handOver(now = Date.now()): JournalHandOver {
    if (this.#records > 0 && (now - this.#openedAt >= ROTATE_AFTER_MS || this.#bytes >= ROTATE_AFTER_BYTES || this.#removed()))
      this.#end();
    const sealed = this.#closed;
    this.#closed = [];
    if (this.#fd === undefined || this.#records === 0) return { sealed };
    return { sealed, through: { file: this.#file, records: this.#records } };
  }

  /** Closes the current file; one without rows is removed (nothing of it needs replaying). */
  close(): void {
    if (this.#fd === undefined) return;
    closeQuietly(this.#fd);
    this.#fd = undefined;
    if (this.#records === 0) removeQuietly(this.#file);
    else this.#closed.push(this.#file);
  }

  #open(): void {
    const file = join(this.dir, `${this.#prefix}${String(++this.#seq).padStart(8, "0")}${SUFFIX}`);
    const iv = randomBytes(IV_BYTES);
    let fd: number | undefined;
    try {
      fd = openJournalFile(this.dir, file);
      writeAll(fd, iv);
    } catch (err) {
      if (fd !== undefined) {
        closeQuietly(fd);
        removeQuietly(file);
      }
      throw journalError(err, file, "create the egress audit journal");
    }
    this.#fd = fd;
    this.#file = file;
    this.#name = basename(file);
    this.#cipher = createCipheriv("aes-256-ctr", this.#keys.cipher, iv);
    this.#records = 0;
    this.#bytes = IV_BYTES;
    this.#openedAt = Date.now();
  }

  /**
   * Whether the file in use was deleted under the writer (its folder removed while the server ran):
   * rows appended to it would survive nothing, so it is ended and the next row makes a new one, as
   * when a new file was made at every hand-over.
   */
  #removed(): boolean {
    try {
      return fstatSync(this.#fd as number).nlink === 0;
    } catch {
      return true;
    }
  }

  #end(): void {
    if (this.#fd === undefined) return;
    closeQuietly(this.#fd);
    this.#fd = undefined;
    this.#closed.push(this.#file);
  }
}

/** A journal file a crashed (or finished) writer left: its path, and the rows that could be read back. */
export interface LeftJournal extends OpenedRecords {
  file: string;
}

/**
 * The journal files in `<dataDir>/audit-journal/` whose writer is no longer running (or is this very
 * process, which has not written any yet when it opens the store), oldest first. A running server's
 * own files are its to hand over, and are left alone. Read each with readJournal, one at a time.
 */
export function leftJournals(dataDir: string): string[] {
  const dir = join(dataDir, AUDIT_JOURNAL_DIR);
  return journalNames(dataDir)
    .filter((name) => !writerIsRunning(name))
    .sort(byWriteOrder)
    .map((name) => join(dir, name));
}

/** One journal file's rows as they are now (a running writer's too), with what could not be read. */
export function readJournal(file: string, databaseKey: Buffer): LeftJournal {
  return { file, ...openRecords(journalKeys(databaseKey), basename(file), readFileSync(file)) };
}

/** The names of the journal files in `<dataDir>/audit-journal/` (none when it does not exist). */
export function journalNames(dataDir: string): string[] {
  try {
    return readdirSync(join(dataDir, AUDIT_JOURNAL_DIR)).filter((name) => name.endsWith(SUFFIX));
  } catch {
    return [];
  }
}

/** Appended to a journal file with damaged records once its readable rows are committed: it is not replayed again. */
export const DAMAGED_JOURNAL_SUFFIX = ".damaged";

/** Sets a replayed journal file with damaged records aside (`<name>.jrn.damaged`), kept as it is. */
export function keepDamagedJournal(file: string): void {
  renameSync(file, `${file}${DAMAGED_JOURNAL_SUFFIX}`);
}

/** Deletes a journal file whose rows are committed; a file already gone is fine. */
export function removeJournal(file: string): void {
  removeQuietly(file);
}

/** Creates a journal file; its folder too, when it was removed while the server ran. */
function openJournalFile(dir: string, file: string): number {
  try {
    return openSync(file, "ax", 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return openSync(file, "ax", 0o600);
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  let written = 0;
  while (written < bytes.length) written += writeSync(fd, bytes, written);
}

/** What reading a journal file found: its rows, and what could not be read. */
interface OpenedRecords {
  rows: EgressValues[];
  /** Each row's record index in the file (rows[i] is record indexes[i]): damaged records leave gaps. */
  indexes: number[];
  /**
   * Records skipped because they failed their tag, had an impossible length or did not parse: damage
   * or tampering, not a crash (a crash cuts only a file's last record short).
   */
  damagedRecords: number;
  /** Bytes at the file's end that are not a whole record: a write cut short (a crash, a full disk). */
  tornBytes: number;
}

/**
 * The file's records. A record that fails its tag is skipped, and reading goes on at the next record
 * that passes its own: the tag binds a record to its index, so the search cannot take a wrong one,
 * and the key stream's position follows from the offset and the index (see decipherAt). Only a torn
 * last record or an impossible length with nothing readable after it ends the file early.
 */
function openRecords(keys: JournalKeys, name: string, bytes: Buffer): OpenedRecords {
  const opened: OpenedRecords = { rows: [], indexes: [], damagedRecords: 0, tornBytes: 0 };
  if (bytes.length < IV_BYTES) {
    opened.tornBytes = bytes.length;
    return opened;
  }
  const iv = bytes.subarray(0, IV_BYTES);
  let at = IV_BYTES;
  let index = 0;
  while (at < bytes.length) {
    const record = recordAt(keys, name, bytes, at, index);
    if (record === "torn" || record === "impossible" || record === "bad_tag") {
      const next = nextRecord(keys, name, bytes, at, index);
      if (next === undefined) {
        // Nothing after it passes its tag: the file's last record. Cut short by a write (its length
        // says more than is there), or damaged (a whole record that fails its tag, an impossible length).
        if (record === "torn") opened.tornBytes = bytes.length - at;
        else opened.damagedRecords += 1;
        break;
      }
      opened.damagedRecords += next.index - index;
      at = next.at;
      index = next.index;
      continue;
    }
    const values = parseRecord(keys, iv, at, index, record);
    if (values === undefined) opened.damagedRecords += 1;
    else {
      opened.rows.push(values);
      opened.indexes.push(index);
    }
    at += 4 + record.length + TAG_BYTES;
    index += 1;
  }
  return opened;
}

/** The ciphertext of record `index` at `at` when it is whole and passes its tag, else why not. */
function recordAt(
  keys: JournalKeys,
  name: string,
  bytes: Buffer,
  at: number,
  index: number,
): Buffer | "torn" | "impossible" | "bad_tag" {
  if (at + 4 > bytes.length) return "torn";
  const length = bytes.readUInt32BE(at);
  if (length > MAX_RECORD_BYTES) return "impossible";
  if (at + 4 + length + TAG_BYTES > bytes.length) return "torn";
  const ciphertext = bytes.subarray(at + 4, at + 4 + length);
  const tag = bytes.subarray(at + 4 + length, at + 4 + length + TAG_BYTES);
  return timingSafeEqual(tag, tagOf(keys, name, index, ciphertext)) ? ciphertext : "bad_tag";
}

/** The smallest record: a length, one byte of ciphertext, a tag. */
const MIN_RECORD_BYTES = 4 + 1 + TAG_BYTES;
/** How many damaged records in a row the search after a bad one steps over. */
const MAX_SKIPPED_RECORDS = 4096;

/**
 * The first record after a bad one at `at` (index `index`) that passes its tag, at any offset and for
 * any later index that fits in the bytes between; undefined when there is none. A length field past
 * MAX_RECORD_BYTES is not a record start, so only a few offsets per record get as far as a tag.
 */
function nextRecord(
  keys: JournalKeys,
  name: string,
  bytes: Buffer,
  at: number,
  index: number,
): { at: number; index: number } | undefined {
  for (let candidate = at + MIN_RECORD_BYTES; candidate + MIN_RECORD_BYTES <= bytes.length; candidate++) {
    const length = bytes.readUInt32BE(candidate);
    if (length === 0 || length > MAX_RECORD_BYTES || candidate + 4 + length + TAG_BYTES > bytes.length) continue;
    const most = Math.min(index + MAX_SKIPPED_RECORDS, index + Math.floor((candidate - at) / MIN_RECORD_BYTES));
    for (let next = index + 1; next <= most; next++) {
      if (recordAt(keys, name, bytes, candidate, next) instanceof Buffer) return { at: candidate, index: next };
    }
  }
  return undefined;
}

/** A record's row, deciphered where its ciphertext sits in the file's key stream; undefined when it is not a row. */
function parseRecord(keys: JournalKeys, iv: Buffer, at: number, index: number, ciphertext: Buffer): EgressValues | undefined {
  // Every record before this one took 4 + TAG_BYTES bytes besides its ciphertext, and the key stream
  // runs over ciphertext only.
  const streamOffset = at - IV_BYTES - index * (4 + TAG_BYTES);
  let values: unknown;
  try {
    values = JSON.parse(decipherAt(keys, iv, streamOffset).update(ciphertext).toString("utf8"));
  } catch {
    return undefined;
  }
  return isEgressValues(values) ? values : undefined;
}

/** An AES-256-CTR decipher positioned `offset` bytes into the key stream that starts at `iv`. */
function decipherAt(keys: JournalKeys, iv: Buffer, offset: number): ReturnType<typeof createDecipheriv> {
  const counter = Buffer.from(iv);
  // The counter block is one 128-bit big-endian number, incremented once per 16 bytes.
  let carry = BigInt(Math.floor(offset / 16));
  for (let i = 15; i >= 0 && carry > 0n; i--) {
    const sum = BigInt(counter[i] as number) + (carry & 0xffn);
    counter[i] = Number(sum & 0xffn);
    carry = (carry >> 8n) + (sum >> 8n);
  }
  const decipher = createDecipheriv("aes-256-ctr", keys.cipher, counter);
  decipher.update(Buffer.alloc(offset % 16));
  return decipher;
}

function isEgressValues(v: unknown): v is EgressValues {
  return (
    Array.isArray(v) &&
    v.length === 7 &&
    typeof v[0] === "number" &&
    typeof v[1] === "string" &&
    (v[2] === null || typeof v[2] === "string") &&
    typeof v[3] === "string" &&
    typeof v[4] === "string" &&
    typeof v[5] === "string" &&
    typeof v[6] === "number"
  );
}

/** Whether the process that wrote this file (named `<pid>-<start>-<seq>.jrn`) is still running, other than this one. */
function writerIsRunning(name: string): boolean {
  const pid = Number(name.slice(0, name.indexOf("-")));
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: a process of another user has that pid; it is running, and it may be a tandem.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Oldest first: by the writer's start time, then its file sequence. */
function byWriteOrder(a: string, b: string): number {
  const [, startA = "", seqA = ""] = a.split("-");
  const [, startB = "", seqB = ""] = b.split("-");
  return Number(startA) - Number(startB) || seqA.localeCompare(seqB) || a.localeCompare(b);
}

function journalError(err: unknown, file: string, doing: string): StoreError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  if (code === "ENOSPC" || code === "EDQUOT") {
    return new StoreError("disk_full", `cannot ${doing} ${file}: the disk is full (${code})`, { file, cause: err });
  }
  return new StoreError("io", `cannot ${doing} ${file}: ${detail}`, { file, cause: err });
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // Its writes are already in the OS's hands; a failing close loses nothing.
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Gone already, or it stays to be replayed (and skipped by its done mark) at the next open.
  }
}
