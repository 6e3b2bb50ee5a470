/**
 * The WebSocket session's lanes (`stream_id`) on their own, with a turn runner the test drives: lanes
 * run side by side, each in the order sent; one lane's failure is its own; at most MAX_ACTIVE_LANES
 * at once; a slow socket holds each lane at the event it could not send; closing aborts every lane.
 * (test/e2e/responses-newest-sdk.test.ts drives the same through tandem over real sockets.)
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { MAX_ACTIVE_LANES, ResponsesSocketSession, type SocketTurnRunner } from "../../../src/dialects/openai/index.js";

type Sent = Record<string, unknown>;

/** A turn the test lets go on: it relays `response.created`, waits for `release`, then completes. */
interface HeldTurn {
  input: unknown;
  signal: AbortSignal;
  release(outcome?: "complete" | "throw" | "refuse"): void;
}

function harness(send?: (text: string) => Promise<void>) {
  const sent: Sent[] = [];
  const turns: HeldTurn[] = [];
  let waiters: (() => void)[] = [];
  const changed = () => {
    for (const wake of waiters) wake();
    waiters = [];
  };
  const run: SocketTurnRunner = async (body, relay, signal) => {
    const id = `resp_${turns.length}`;
    let release: (outcome: "complete" | "throw" | "refuse") => void = () => {};
    const released = new Promise<"complete" | "throw" | "refuse">((resolve) => {
      release = resolve;
    });
    turns.push({ input: body.input, signal, release: (outcome = "complete") => release(outcome) });
    changed();
    await relay(JSON.stringify({ type: "response.created", response: { id, status: "in_progress" } }));
    const outcome = await Promise.race([
      released,
      new Promise<"aborted">((resolve) => signal.addEventListener("abort", () => resolve("aborted"), { once: true })),
    ]);
    if (outcome === "aborted") return { kind: "streamed" };
    if (outcome === "throw") throw new Error("the upstream broke");
    if (outcome === "refuse") return { kind: "refused", status: 502, body: { error: { message: "bad gateway" } } };
    await relay(JSON.stringify({ type: "response.completed", response: { id, status: "completed", store: true } }));
    return { kind: "streamed" };
  };
  const session = new ResponsesSocketSession(
    run,
    send ??
      (async (text) => {
        sent.push(JSON.parse(text) as Sent);
        changed();
      }),
  );
  const until = async (done: () => boolean) => {
    const deadline = Date.now() + 5000;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`timed out; sent: ${JSON.stringify(sent)}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 20);
      });
    }
  };
  const create = (input: string, streamId?: string) =>
    session.receive(
      JSON.stringify({ type: "response.create", model: "m", input, ...(streamId !== undefined && { stream_id: streamId }) }),
    );
  return { session, sent, turns, until, create };
}

const typesOn = (sent: Sent[], lane: string | undefined) =>
  sent.filter((event) => event.stream_id === lane).map((event) => event.type);

describe("ResponsesSocketSession lanes", () => {
  it("runs two lanes side by side: the second lane's turn ends while the first is still under way", async () => {
    const { sent, turns, until, create } = harness();
    create("A", "a");
    create("B", "b");
    await until(() => turns.length === 2);
    turns[1]?.release();
    await until(() => typesOn(sent, "b").includes("response.completed"));
    assert.deepEqual(typesOn(sent, "a"), ["response.created"], "lane a is still under way");
    turns[0]?.release();
    await until(() => typesOn(sent, "a").includes("response.completed"));
    assert.deepEqual(typesOn(sent, "a"), ["response.created", "response.completed"]);
  });

  it("answers one lane's turns one at a time, in the order sent (the default lane too)", async () => {
    for (const lane of ["a", undefined]) {
      const { turns, until, create } = harness();
      create("first", lane);
      create("second", lane);
      await until(() => turns.length === 1);
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.equal(turns.length, 1, "the second turn of a lane waits for the first");
      turns[0]?.release();
      await until(() => turns.length === 2);
      assert.deepEqual(
        turns.map((t) => t.input),
        ["first", "second"],
      );
      turns[1]?.release();
    }
  });

  it("keeps a lane's failure its own: a turn that throws or is refused on one lane, the other completes", async () => {
    const { sent, turns, until, create } = harness();
    create("A", "a");
    create("B", "b");
    create("C", "c");
    await until(() => turns.length === 3);
    turns[0]?.release("throw");
    turns[1]?.release("refuse");
    await until(() => typesOn(sent, "b").includes("error"));
    const refused = sent.find((event) => event.stream_id === "b" && event.type === "error");
    assert.equal(refused?.status, 502);
    turns[2]?.release();
    await until(() => typesOn(sent, "c").includes("response.completed"));
    assert.ok(!turns[2]?.signal.aborted, "lane c's turn was not cancelled");
    // Lane a answers its next turn.
    create("A again", "a");
    await until(() => turns.length === 4);
    turns[3]?.release();
    await until(() => typesOn(sent, "a").includes("response.completed"));
  });

  it(`refuses a lane past ${MAX_ACTIVE_LANES} at once with a 429 error event on that lane, and takes it once one ends`, async () => {
    const { sent, turns, until, create } = harness();
    for (let i = 0; i < MAX_ACTIVE_LANES; i++) create(`L${i}`, `lane-${i}`);
    await until(() => turns.length === MAX_ACTIVE_LANES);
    create("one more", "extra");
    await until(() => typesOn(sent, "extra").includes("error"));
    const refused = sent.find((event) => event.stream_id === "extra");
    assert.equal(refused?.status, 429);
    assert.deepEqual(
      { code: (refused?.error as Sent).code, param: (refused?.error as Sent).param },
      { code: "too_many_active_streams", param: "stream_id" },
    );
    // A running lane's next turn is not a new lane: it waits its turn.
    create("L0 again", "lane-0");
    turns[1]?.release();
    await until(() => typesOn(sent, "lane-1").includes("response.completed"));
    // The lane is free once its turn has returned, just after its last event.
    await new Promise((resolve) => setImmediate(resolve));
    create("now", "extra");
    await until(() => turns.length === MAX_ACTIVE_LANES + 1);
    assert.equal(turns.at(-1)?.input, "now");
    for (const turn of turns) turn.release();
    await until(() => turns.length === MAX_ACTIVE_LANES + 2);
    turns.at(-1)?.release();
  });

  it("holds each lane at the event a slow socket has not taken: nothing piles up in memory", async () => {
    const written: string[] = [];
    const { turns, until, create } = harness(async (text) => {
      written.push(text);
      await new Promise(() => {}); // a client that never reads
    });
    create("A", "a");
    create("B", "b");
    await until(() => turns.length === 2);
    for (const turn of turns) turn.release();
    await new Promise((resolve) => setTimeout(resolve, 100));
    // Each lane sent its response.created and waits there; neither went on to its completed event.
    assert.equal(written.length, 2);
    assert.ok(written.every((text) => text.includes("response.created")));
  });

  it("aborts every lane's turn when the connection closes", async () => {
    const { session, turns, until, create } = harness();
    create("A", "a");
    create("B", "b");
    create("D");
    await until(() => turns.length === 3);
    session.close();
    assert.ok(turns.every((turn) => turn.signal.aborted));
  });
});
