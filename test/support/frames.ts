/**
 * For tests of the same-wire path's frames: the frames of a provider's events, and a deep freeze
 * that proves a reader does not change the JSON a frame shares (a write into it throws).
 */
import type { StreamEvent } from "../../src/core/index.js";

export type Frame = Extract<StreamEvent, { type: "frame" }>;

/** Frozen all the way down: a write into it throws (modules are strict). */
export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

/** The `frame` events of a provider's stream (or whole answer), in order. */
export async function framesOf(events: AsyncIterable<StreamEvent> | Iterable<StreamEvent>): Promise<Frame[]> {
  const frames: Frame[] = [];
  for await (const event of events) if (event.type === "frame") frames.push(event);
  return frames;
}
