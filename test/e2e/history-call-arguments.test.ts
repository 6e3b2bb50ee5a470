/**
 * A history tool call whose arguments are not one JSON object (a forced call cut off by
 * max_output_tokens: `{"x":"trunc`), sent translated to a wire whose call input must be an object
 * (Anthropic's `input`, Ollama's `arguments`): the upstream is sent the arguments' text in an object
 * (`{"_raw_arguments": "..."}`), so the next model reads what the call was, and x-tandem-warnings
 * names the call. Before, each was sent `{}` with no warning. An OpenAI chat upstream takes the text
 * as it is; a call without arguments (empty text) is `{}`, nothing said.
 */
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, it } from "node:test";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOllamaUpstream, startFakeOllama } from "../support/fake-ollama-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import type { RecordedRequest } from "../support/fake-upstream.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

const BROKEN = '{"x":"trunc';

let anthropic: FakeAnthropic;
let ollama: FakeOllamaUpstream;
let oa: FakeOpenAIUpstream;
let tandem: RunningTandem;
/** The server's log lines. */
const log: string[] = [];

before(async () => {
  [anthropic, ollama, oa] = await Promise.all([
    startFakeAnthropic({ models: ["claude-x"] }),
    startFakeOllama({ models: ["llama3.2:latest"] }),
    startFakeOpenAI({ models: ["gpt-x"] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        an: { kind: "anthropic", baseUrl: anthropic.url, apiKeys: ["env:K"], models: ["claude-x"] },
        ol: { kind: "ollama", baseUrl: ollama.url, models: ["llama3.2:latest"] },
        oa: { kind: "openai", baseUrl: oa.url, models: ["gpt-x"] },
      },
    },
    { env: { K: "sk-up" }, log },
  );
});

after(async () => {
  await tandem?.close();
  await Promise.all([anthropic?.close(), ollama?.close(), oa?.close()]);
});

beforeEach(() => {
  for (const fake of [anthropic, ollama, oa]) fake.requests.length = 0;
});

/** A Responses turn (store: false) whose history holds a call with these arguments and its output. */
async function retry(model: string, args: string): Promise<Response> {
  const res = await fetch(`${tandem.url}/v1/responses`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      model,
      store: false,
      tools: [{ type: "function", name: "f", parameters: { type: "object", properties: { x: { type: "string" } } } }],
      input: [
        { role: "user", content: "go" },
        { type: "function_call", call_id: "call_BAD", name: "f", arguments: args },
        { type: "function_call_output", call_id: "call_BAD", output: "error: bad args" },
        { role: "user", content: "retry" },
      ],
    }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  return res;
}

const lastBody = (fake: { requests: RecordedRequest[] }) =>
  fake.requests.filter((r) => r.method === "POST").at(-1)?.body as { messages: Array<Record<string, unknown>> };

const WARNING =
  /arguments of call call_BAD as written \(not a JSON object: their text sent as \{"_raw_arguments": "\.\.\."\} instead\) not sent to /;

describe("a history call's arguments that are not a JSON object", () => {
  it("Anthropic: the tool_use input carries their text, and the warnings name the call", async () => {
    const res = await retry("an/claude-x", BROKEN);
    const assistant = lastBody(anthropic).messages.find((m) => m.role === "assistant");
    assert.deepEqual(assistant?.content, [{ type: "tool_use", id: "call_BAD", name: "f", input: { _raw_arguments: BROKEN } }]);
    assert.match(res.headers.get("x-tandem-warnings") ?? "", WARNING);
    assert.match(res.headers.get("x-tandem-warnings") ?? "", /not sent to an\/claude-x/);
    // And the server log says it.
    const logged = log.map((line) => JSON.parse(line) as { msg?: string; warnings?: string[] });
    assert.ok(
      logged.some((line) => line.warnings?.some((w) => w.startsWith("arguments of call call_BAD"))),
      log.join("\n"),
    );
  });

  it("Ollama: the call's arguments carry their text, and the warnings name the call", async () => {
    const res = await retry("ol/llama3.2:latest", BROKEN);
    const assistant = lastBody(ollama).messages.find((m) => m.role === "assistant");
    assert.deepEqual(assistant?.tool_calls, [{ id: "call_BAD", function: { name: "f", arguments: { _raw_arguments: BROKEN } } }]);
    assert.match(res.headers.get("x-tandem-warnings") ?? "", WARNING);
  });

  it("valid JSON that is not an object (an array) is named too", async () => {
    const res = await retry("an/claude-x", "[1,2]");
    const assistant = lastBody(anthropic).messages.find((m) => m.role === "assistant");
    assert.deepEqual((assistant?.content as Array<{ input: unknown }>)[0]?.input, { _raw_arguments: "[1,2]" });
    assert.match(res.headers.get("x-tandem-warnings") ?? "", WARNING);
  });

  it("OpenAI chat takes the text as it is: nothing to name", async () => {
    const res = await retry("oa/gpt-x", BROKEN);
    const assistant = lastBody(oa).messages.find((m) => m.role === "assistant") as {
      tool_calls?: Array<{ function: { arguments: string } }>;
    };
    assert.equal(assistant.tool_calls?.[0]?.function.arguments, BROKEN);
    assert.doesNotMatch(res.headers.get("x-tandem-warnings") ?? "", /arguments of call/);
  });

  it("an object, or no arguments at all, goes as an object with nothing named", async () => {
    for (const [args, input] of [
      ['{"x":"whole"}', { x: "whole" }],
      ["", {}],
    ] as const) {
      const res = await retry("an/claude-x", args);
      const assistant = lastBody(anthropic).messages.find((m) => m.role === "assistant");
      assert.deepEqual((assistant?.content as Array<{ input: unknown }>)[0]?.input, input);
      assert.doesNotMatch(res.headers.get("x-tandem-warnings") ?? "", /arguments of call/);
    }
  });
});
