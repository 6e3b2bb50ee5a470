/** `tandem status` shows a route's tools and the configured MCP servers (connected or not, their last error, their sandbox). */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { statusOutput } from "../support/status-output.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

let tandem: RunningTandem;

before(async () => {
  tandem = await startTandem({
    providers: { openai: { kind: "openai", baseUrl: "http://127.0.0.1:9/v1", apiKeys: ["env:K"], models: ["m"] } },
    mcp: { servers: { docs: { url: "http://127.0.0.1:9/mcp" }, local: { command: "my-local-server" } } },
    routes: { assistant: { tiers: ["openai/m"], tools: ["mcp:docs"] } },
  });
});

after(() => tandem?.close());

it("prints the route's tools and the MCP servers", async () => {
  const out = await statusOutput(tandem.url);
  assert.match(out, /assistant\s+openai\/m\s+tools mcp:docs/);
  assert.match(out, /mcp servers:\n\s+docs\s+http\s+not connected\n/);
  // A stdio server says whether it runs confined (see test/e2e/responses-mcp-sandbox.test.ts for a failed sandbox).
  assert.match(out, /\n\s+local\s+stdio\s+not connected, unconfined \(no sandbox\)\n/);
});
