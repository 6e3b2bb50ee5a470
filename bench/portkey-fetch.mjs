/**
 * Preloaded into Portkey's gateway process (`--import`), so its streamed answers can be measured:
 * Portkey adds its own headers to the upstream's fetch Response, whose headers are immutable under
 * the fetch spec, and on Node 20's fetch every streamed request then fails with `TypeError: immutable`
 * (Portkey-AI/gateway#1389). package.json pins Portkey's `@hono/node-server` to 1.14.2, the fix suggested
 * there (a devDependency and an override scoped to Portkey, which also keeps its `@hono/node-ws` at 1.2.0,
 * the last that accepts that server); on Node 20.20 its streamed requests still fail without this preload.
 * Each answer is re-wrapped in a Response of its own, with mutable headers and the
 * same body stream: a few microseconds per request, a cost Portkey's figures carry.
 */
const fetchOnce = globalThis.fetch;
globalThis.fetch = async (...args) => {
  const res = await fetchOnce(...args);
  return new Response(res.body, res);
};
