/**
 * The window the router fits a conversation to (windowFor): a request's num_ctx on a target that
 * takes one, at most the context its model was trained on where the target's listing says it (the
 * embedded engine and Ollama run an asked window capped there), else the target's own.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ChatRequest, ProviderCapabilities } from "../../src/core/index.js";
import type { Provider } from "../../src/providers/provider.js";
import type { Target } from "../../src/router/catalog.js";
import { windowFor } from "../../src/router/target-fit.js";

function target(capabilities: ProviderCapabilities, windows: { contextWindow?: number; trainedContext?: number }): Target {
  return {
    name: "local/tiny",
    providerName: "local",
    provider: { kind: "llamacpp", capabilities } as unknown as Provider,
    upstreamModel: "tiny",
    contextWindow: windows.contextWindow,
    ...(windows.trainedContext !== undefined && { trainedContext: windows.trainedContext }),
    local: true,
  };
}

const request = (contextSize?: number): ChatRequest => ({
  model: "local/tiny",
  stream: false,
  messages: [{ role: "user", content: [{ type: "text", text: "Hi" }] }],
  ...(contextSize !== undefined && { contextSize }),
});

describe("windowFor", () => {
  const takesWindow = { requestedWindow: true };

  it("caps an asked window at the trained context the target's listing gives", () => {
    const tiny = target(takesWindow, { contextWindow: 2048, trainedContext: 2048 });
    assert.equal(windowFor(tiny, request(8192)), 2048);
    assert.equal(windowFor(tiny, request(1024)), 1024);
    assert.equal(windowFor(tiny, request()), 2048);
  });

  it("takes an asked window as it is when the trained context is unknown", () => {
    assert.equal(windowFor(target(takesWindow, { contextWindow: 2048 }), request(8192)), 8192);
    assert.equal(windowFor(target(takesWindow, {}), request(8192)), 8192);
  });

  it("keeps a target's own window when it takes none asked", () => {
    assert.equal(windowFor(target({}, { contextWindow: 4096, trainedContext: 2048 }), request(8192)), 4096);
  });
});
