import { GatewayError } from "../../../core/index.js";
import type { StateItem } from "../../../core/state.js";

/** Each tool call item type and the output type that answers it. */
const OUTPUT_OF: Record<string, { output: string; name: string }> = {
  function_call: { output: "function_call_output", name: "function call" },
  custom_tool_call: { output: "custom_tool_call_output", name: "custom tool call" },
};
const CALL_OF: Record<string, string> = { function_call_output: "function_call", custom_tool_call_output: "custom_tool_call" };

/**
 * Refuses a composed conversation (stored history, then the new input) whose tool calls and outputs
 * do not pair up, as OpenAI does (400, param `input`): an output whose `call_id` no earlier call has,
 * and a call still without its output when a message (a new turn) comes after it. Calls at the end,
 * or followed only by other calls, reasoning and outputs, are the normal case: the model's turn ended
 * in calls whose outputs are on their way. After a compaction item the calls it stands for are not
 * there to pair with, so an output there is taken on trust.
 */
export function checkToolHistory(items: readonly StateItem[]): void {
  const calls = new Map<string, string>();
  const pending = new Map<string, string>();
  let compacted = false;
  for (const item of items) {
    const type = item.type;
    if (type === "compaction") {
      compacted = true;
    } else if (OUTPUT_OF[type] !== undefined) {
      const callId = String(item.call_id);
      calls.set(callId, type);
      pending.set(callId, type);
    } else if (CALL_OF[type] !== undefined) {
      const callId = String(item.call_id);
      if (!calls.has(callId) && !compacted) {
        throw new GatewayError(
          "invalid_request",
          `No tool call found for ${OUTPUT_OF[CALL_OF[type]]?.name} output with call_id ${callId}.`,
          { param: "input" },
        );
      }
      pending.delete(callId);
    } else if (type === "message") {
      const [dangling] = pending;
      if (dangling !== undefined) {
        const [callId, callType] = dangling;
        throw new GatewayError("invalid_request", `No tool output found for ${OUTPUT_OF[callType]?.name} ${callId}.`, {
          param: "input",
        });
      }
    }
  }
}

/**
 * Gives each `function_call_output` sent without a `call_id` (openai-node 7 lets one name its tool,
 * `name` and `namespace`, instead) the id of the latest call of that tool still waiting for its
 * output, in a composed conversation (stored history, then the new input): every target but a
 * Responses-native one pairs results with calls by id, and the output is stored with it. One that
 * no waiting call of its tool answers is refused, as an unknown call_id is (400, param `input`).
 */
export function pairOutputsByName<T extends { item: StateItem }>(entries: readonly T[]): T[] {
  if (!entries.some(({ item }) => item.type === "function_call_output" && item.call_id === undefined)) return [...entries];
  const waiting: Array<{ callId: string; name: unknown; namespace: unknown }> = [];
  return entries.map((entry) => {
    const { item } = entry;
    if (item.type === "function_call") {
      waiting.push({ callId: String(item.call_id), name: item.name, namespace: item.namespace });
    } else if (item.type === "function_call_output" && item.call_id !== undefined) {
      const at = waiting.findIndex((call) => call.callId === String(item.call_id));
      if (at >= 0) waiting.splice(at, 1);
    } else if (item.type === "function_call_output") {
      let at = waiting.length - 1;
      while (at >= 0 && (waiting[at]?.name !== item.name || waiting[at]?.namespace !== item.namespace)) at--;
      const call = waiting[at];
      if (call === undefined) {
        const tool = typeof item.namespace === "string" ? `${item.namespace}.${String(item.name)}` : String(item.name);
        throw new GatewayError(
          "invalid_request",
          `No tool call found for function call output of '${tool}': it has no call_id, and no call of '${tool}' is waiting for its output.`,
          { param: "input" },
        );
      }
      waiting.splice(at, 1);
      return { ...entry, item: { ...item, call_id: call.callId } };
    }
    return entry;
  });
}
