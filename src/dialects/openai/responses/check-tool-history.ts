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
