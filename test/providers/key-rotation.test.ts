/**
 * KeyRotation on its own: which key each request gets, when a failure becomes a KeyRotatedError
 * (another key is ready: the router tries again at once and counts it) and when it stays the
 * upstream's own error.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { GatewayError, isKeyRotated, type ProviderChatRequest, rotatedPoolSize, type StreamEvent } from "../../src/core/index.js";
import { KeyRotation } from "../../src/providers/key-rotation.js";
import type { Provider } from "../../src/providers/provider.js";
import { KeyPool } from "../../src/secrets/index.js";

/** A provider that answers per key: an error for the keys in `refuse`, else a short answer. */
function upstream(refuse: Record<string, GatewayError>) {
  const keys: (string | undefined)[] = [];
  const provider = {
    kind: "openai",
    chat(request: ProviderChatRequest): AsyncIterable<StreamEvent> {
      keys.push(request.apiKey);
      const error = request.apiKey === undefined ? undefined : refuse[request.apiKey];
      return (async function* () {
        if (error) throw error;
        yield { type: "start" } satisfies StreamEvent;
        yield { type: "finish", reason: "stop" } satisfies StreamEvent;
      })();
    },
  } as unknown as Provider;
  return { provider, keys };
}

function pool(...names: string[]) {
  const env = Object.fromEntries(names.map((n) => [n, `sk-${n.toLowerCase()}`]));
  return new KeyPool(
    names.map((name) => ({ source: "env" as const, name })),
    env,
  );
}

async function ask(provider: Provider): Promise<GatewayError | undefined> {
  try {
    for await (const _ of provider.chat(
      { model: "m", upstreamModel: "m", stream: true, messages: [] } as never,
      new AbortController().signal,
    ));
    return undefined;
  } catch (err) {
    return err as GatewayError;
  }
}

describe("KeyRotation", () => {
  it("hands a refused key's failure to the router as a rotation while another key is ready, then uses that key", async () => {
    const refused = new GatewayError("authentication", "invalid key", { status: 401 });
    const { provider, keys } = upstream({ "sk-a": refused });
    const rotations: string[] = [];
    const wrapped = new KeyRotation("p", pool("A", "B"), (reason) => rotations.push(reason)).wrap(provider);
    const first = await ask(wrapped);
    assert.equal(isKeyRotated(first), true);
    assert.equal(first?.code, "authentication");
    assert.equal(first?.status, 401);
    assert.equal(rotatedPoolSize(first), 2);
    assert.equal(await ask(wrapped), undefined, "the router's next attempt gets the next key");
    assert.deepEqual(keys, ["sk-a", "sk-b"]);
    assert.deepEqual(rotations, ["authentication"]);
    assert.equal(await ask(wrapped), undefined);
    assert.deepEqual(keys.at(-1), "sk-b", "the refused key rests");
  });

  it("passes the upstream's error on as it is when no other key is ready", async () => {
    const limited = new GatewayError("rate_limited", "slow down", { retryAfterMs: 60_000 });
    const { provider } = upstream({ "sk-a": limited, "sk-b": limited });
    const wrapped = new KeyRotation("p", pool("A", "B")).wrap(provider);
    assert.equal(isKeyRotated(await ask(wrapped)), true, "A rests, B is ready");
    const last = await ask(wrapped);
    assert.equal(isKeyRotated(last), false, "B rests too: the target's own failure now");
    assert.equal(last, limited);
  });

  it("never rotates on a failure that is not about the key", async () => {
    const down = new GatewayError("unavailable", "502");
    const { provider, keys } = upstream({ "sk-a": down });
    const rotations: string[] = [];
    const wrapped = new KeyRotation("p", pool("A", "B"), (reason) => rotations.push(reason)).wrap(provider);
    assert.equal(await ask(wrapped), down);
    assert.equal(await ask(wrapped), down, "the key did not rest: it is used again");
    assert.deepEqual(keys, ["sk-a", "sk-a"]);
    assert.deepEqual(rotations, []);
  });
});
