/**
 * Deadline: one attempt's time limits as one AbortSignal. Each test waits for the signal to abort and
 * checks why; none asserts how long anything took.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { GatewayError } from "../../src/core/index.js";
import { Deadline } from "../../src/router/deadline.js";

const LONG = 60_000;

describe("Deadline", () => {
  it("aborts the attempt when no first event comes, and explains it as a timeout of the target", async () => {
    const deadline = new Deadline(new AbortController().signal, { firstTokenMs: 1, idleMs: LONG, totalMs: LONG }, "p/m");
    await once(deadline.signal, "abort");
    const error = deadline.error(new Error("aborted"));
    assert.equal(error.code, "timeout");
    assert.equal(error.target, "p/m");
    assert.match(error.message, /p\/m: no first token within 1 ms/);
    assert.equal(deadline.signal.reason, error, "the upstream work is aborted with the same error");
  });

  it("switches from the first-token limit to the idle limit at the first event", async () => {
    const deadline = new Deadline(new AbortController().signal, { firstTokenMs: LONG, idleMs: 1, totalMs: LONG }, "p/m");
    deadline.tick();
    await once(deadline.signal, "abort");
    assert.match(deadline.error(undefined).message, /no token for 1 ms/);
  });

  it("bounds the whole answer with the total limit", async () => {
    const deadline = new Deadline(new AbortController().signal, { firstTokenMs: LONG, idleMs: LONG, totalMs: 1 }, "p/m");
    await once(deadline.signal, "abort");
    assert.match(deadline.error(undefined).message, /no complete answer within 1 ms/);
  });

  it("follows the client: its abort is a cancellation, not a timeout", () => {
    const client = new AbortController();
    const deadline = new Deadline(client.signal, { firstTokenMs: LONG, idleMs: LONG, totalMs: LONG }, "p/m");
    client.abort(new Error("client left"));
    assert.equal(deadline.signal.aborted, true);
    assert.equal(deadline.error(new Error("socket closed")).code, "canceled");
  });

  it("passes an upstream's own failure through when no limit fired", () => {
    const deadline = new Deadline(new AbortController().signal, { firstTokenMs: LONG, idleMs: LONG, totalMs: LONG }, "p/m");
    const upstream = new GatewayError("rate_limited", "slow down");
    assert.equal(deadline.error(upstream), upstream);
    deadline.dispose();
    assert.equal(deadline.signal.aborted, false, "disposed: its timers are gone");
  });

  it("starts aborted when the client already left", () => {
    const client = new AbortController();
    client.abort();
    const deadline = new Deadline(client.signal, { firstTokenMs: LONG, idleMs: LONG, totalMs: LONG }, "p/m");
    assert.equal(deadline.signal.aborted, true);
    deadline.dispose();
  });
});
