// Preloaded (node --import) into a gateway under bench/phases.ts: times each sequential request's
// phases from the public diagnostics channels of Node, undici and Fastify, and tandem's own steps
// (`tandem:request:step`), so nothing in the gateway is changed.
// Plain JavaScript, so no TypeScript loader runs in the measured process.
import dc from "node:diagnostics_channel";
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";

const rows = [];
let current;
let busySince;
const now = () => performance.now();
const mark = (name) => {
  if (current !== undefined && current[name] === undefined) current[name] = now();
};
dc.subscribe("http.server.request.start", () => {
  current = { start: now() };
});
// tandem's own steps (src/core/request-steps.ts), and Fastify's call of the route's handler: the
// gateways without them simply have none.
dc.subscribe("tandem:request:step", (step) => mark(step));
dc.subscribe("tracing:fastify.request.handler:start", () => mark("handler"));
dc.subscribe("undici:client:sendHeaders", () => {
  mark("sent");
  busySince = performance.eventLoopUtilization();
});
dc.subscribe("undici:request:headers", () => {
  mark("answered");
  // How much of the wait for the upstream the gateway's own thread was busy (its work after sending).
  if (current !== undefined && busySince !== undefined)
    current.busyWhileWaiting = performance.eventLoopUtilization(busySince).active;
  busySince = undefined;
});
dc.subscribe("undici:request:trailers", () => mark("received"));
dc.subscribe("http.server.response.finish", () => {
  if (current === undefined) return;
  mark("finished");
  if (current.sent !== undefined && current.received !== undefined) rows.push(current);
  current = undefined;
});

process.on("SIGUSR2", () => {
  writeFileSync(process.env.BENCH_PHASES_OUT, JSON.stringify(rows));
  rows.length = 0;
});
