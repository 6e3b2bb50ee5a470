import { channel } from "node:diagnostics_channel";

/**
 * The steps of a request's way through tandem that a profiler can time (bench/phases.ts does), in
 * the order they come: the body read, the request parsed by its dialect, routed and classified, the
 * attempt begun, its egress audit begun and committed, the answer collected, and the client's body
 * rendered. Each is published, by name, on the diagnostics channel `tandem:request:step`, as Node and
 * undici publish theirs. While nobody subscribes, a step costs one property read.
 */
export type RequestStep = "body-read" | "parsed" | "routed" | "attempt" | "audit" | "audited" | "collected" | "rendered";

const steps = channel("tandem:request:step");

/** Publishes `step` of the request this thread is working on (see RequestStep). */
export function markStep(step: RequestStep): void {
  if (steps.hasSubscribers) steps.publish(step);
}
