/**
 * ConversationTurns: one turn per conversation, decided as a turn is accepted; a background run's
 * hold lasts until both the run and the turn under it have ended; item changes wait for each other
 * and are refused under a turn.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError } from "../../../../src/core/index.js";
import { ConversationTurns } from "../../../../src/dialects/openai/state/index.js";

const locked = (err: unknown) => err instanceof GatewayError && err.reason === "conversation_locked";

/** A promise and the function that resolves it. */
function gate(): { opened: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

describe("ConversationTurns", () => {
  it("a held conversation refuses another turn and item changes at once, and is free once released", async () => {
    const turns = new ConversationTurns();
    const hold = turns.hold("conv_1");
    assert.throws(() => turns.hold("conv_1"), locked);
    await assert.rejects(
      turns.run("conv_1", async () => "turn"),
      locked,
    );
    assert.throws(() => turns.changeItems("conv_1", async () => "add"), locked);
    // Another conversation, and a turn with none, are not held up.
    assert.equal(await turns.run("conv_2", async () => "other"), "other");
    assert.equal(await turns.run(undefined, async () => "none"), "none");
    hold.release();
    hold.release();
    assert.equal(await turns.run("conv_1", async () => "next"), "next");
  });

  it("a hold's own turn runs under it, and a hold released while its turn runs is freed when the turn ends", async () => {
    const turns = new ConversationTurns();
    const hold = turns.hold("conv_1");
    const { opened, open } = gate();
    const turn = turns.run("conv_1", () => opened.then(() => "done"), hold);
    await new Promise((resolve) => setImmediate(resolve));
    hold.release();
    assert.throws(() => turns.hold("conv_1"), locked, "still its turn's");
    open();
    assert.equal(await turn, "done");
    turns.hold("conv_1").release();
  });

  it("a hold released before its turn began refuses that turn", async () => {
    const turns = new ConversationTurns();
    const hold = turns.hold("conv_1");
    hold.release();
    await assert.rejects(
      turns.run("conv_1", async () => "late", hold),
      (err: unknown) => err instanceof GatewayError && err.code === "canceled",
    );
    turns.hold("conv_1").release();
  });

  it("item changes run one after another, and a turn accepted meanwhile begins after them", async () => {
    const turns = new ConversationTurns();
    const order: string[] = [];
    const { opened, open } = gate();
    const first = turns.changeItems("conv_1", async () => {
      await opened;
      order.push("first");
    });
    const second = turns.changeItems("conv_1", async () => {
      order.push("second");
    });
    const turn = turns.run("conv_1", async () => {
      order.push("turn");
    });
    // Accepted after the turn: refused.
    assert.throws(() => turns.changeItems("conv_1", async () => undefined), locked);
    open();
    await Promise.all([first, second, turn]);
    assert.deepEqual(order, ["first", "second", "turn"]);
  });

  it("a failed item change does not stop the ones after it", async () => {
    const turns = new ConversationTurns();
    const failed = turns.changeItems("conv_1", async () => {
      throw new Error("not found");
    });
    const next = turns.changeItems("conv_1", async () => "ok");
    await assert.rejects(failed, /not found/);
    assert.equal(await next, "ok");
  });
});
