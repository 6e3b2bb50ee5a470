/**
 * The hand-off, scripted: one Responses conversation of 10 turns with function calls and their
 * outputs that moves local -> cloud -> local, by route override (`x-tandem-route`), by the `model`
 * field, and by killing the local engine in the middle of a turn so that the route
 * `[local/tools, openai/gpt-4o-mini]` fails over. Run twice: continued by `conversation` and by a
 * `previous_response_id` chain. The local targets are tiny scripted GGUF models on the real engine;
 * the cloud ones a chat-only OpenAI fake and an Anthropic fake (both `local: false`: cloud providers as
 * far as privacy goes, though they listen on loopback).
 *
 * Checked on what each cloud fake received: every earlier turn, tool call and tool output reached it.
 * Then a turn is made private (the `x-tandem-sensitivity: private` header, or a seeded AWS key the
 * detector finds): the local model still serves that conversation, a hand-off to the cloud is
 * refused, and neither cloud fake receives anything from then on.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import OpenAI from "openai";
import type { Response, ResponseInputItem } from "openai/resources/responses/responses";
import { MemoryStateStore } from "../../src/harness/state/memory-state-store.js";
import type { Provider } from "../../src/providers/provider.js";
import { type FakeAnthropic, startFakeAnthropic } from "../support/fake-anthropic-upstream.js";
import { type FakeOpenAIUpstream, startFakeOpenAI } from "../support/fake-openai-upstream.js";
import { makeModelDir, writeToolCallModel } from "../support/gguf/index.js";
import { type RunningTandem, startTandem } from "../support/tandem.js";

// Assembled at run time so no scanner takes this file for a leak.
const AWS_KEY = ["AKIA", "Z7Q3VN5RT2XW6LMB"].join("");
const LOCAL_ANSWER = "It is sunny in Paris.";

const weather = {
  type: "function" as const,
  name: "get_weather",
  description: "Current weather for a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: false,
};
const forecast = {
  type: "function" as const,
  name: "get_forecast",
  description: "The forecast for a day",
  parameters: { type: "object", properties: { day: { type: "string" } }, required: ["day"] },
  strict: false,
};
const tools = [weather, forecast];

let tandem: RunningTandem;
let cleanup: () => Promise<void>;
let openaiFake: FakeOpenAIUpstream;
let anthropicFake: FakeAnthropic;
let client: OpenAI;
let local: Provider;

before(async () => {
  const made = await makeModelDir();
  cleanup = made.cleanup;
  await writeToolCallModel(join(made.dir, "tools.gguf"), { finalAnswer: LOCAL_ANSWER });
  [openaiFake, anthropicFake] = await Promise.all([
    startFakeOpenAI({ models: ["gpt-4o-mini"] }),
    startFakeAnthropic({ models: ["claude-haiku-4-5"] }),
  ]);
  tandem = await startTandem(
    {
      providers: {
        local: { kind: "llamacpp", threads: 1, models: { tools: { path: join(made.dir, "tools.gguf"), contextSize: 4096 } } },
        openai: { kind: "openai", baseUrl: openaiFake.url, apiKeys: ["env:UP_OPENAI"], local: false },
        anthropic: { kind: "anthropic", baseUrl: anthropicFake.url, apiKeys: ["env:UP_ANTHROPIC"], local: false },
      },
      routes: {
        // Local first; a local failure fails over to the cloud, but private data stays local.
        handoff: {
          tiers: ["local/tools", "openai/gpt-4o-mini"],
          retry: { attempts: 1 },
          timeouts: { firstTokenMs: 60_000, idleMs: 60_000, totalMs: 120_000 },
          privacy: "local-only",
        },
        cloud: { tiers: ["anthropic/claude-haiku-4-5"], privacy: "local-only" },
      },
      // One kill must not open the local breaker: the conversation comes back to it next turn.
      breaker: { failureThreshold: 100, cooldownMs: 1000 },
    },
    { env: { UP_OPENAI: "sk-upstream-openai", UP_ANTHROPIC: "sk-ant-upstream" }, state: new MemoryStateStore() },
  );
  local = tandem.server.catalog.slots.get("local")?.provider as Provider;
  client = new OpenAI({ baseURL: `${tandem.url}/v1`, apiKey: "unused", maxRetries: 0 });
});

after(async () => {
  await tandem?.close();
  await openaiFake?.close();
  await anthropicFake?.close();
  await cleanup?.();
});

/** Text the cloud must have been shown: every user turn, tool call, tool output and answer so far. */
type Marker = { what: string; text: string };

/**
 * Freezes the engine, starts the turn, and kills the engine once the turn is inside it: the request
 * fails on the local target mid-turn and the route moves it on.
 */
async function withEngineKilledMidTurn<T>(turn: () => Promise<T>): Promise<T> {
  const pid = local.engineState?.().pid;
  assert.ok(pid, "the engine runs");
  process.kill(pid, "SIGSTOP");
  const pending = turn();
  const deadline = Date.now() + 30_000;
  while (!(local.loadedModels?.() ?? []).some((m) => m.name === "tools" && m.load.active > 0)) {
    if (Date.now() > deadline) {
      process.kill(pid, "SIGKILL");
      throw new Error("the turn never reached the local engine");
    }
    await sleep(10);
  }
  // The request is written to the frozen child; now it dies under it.
  await sleep(50);
  process.kill(pid, "SIGKILL");
  return pending;
}

for (const mode of ["conversation", "previous_response_id"] as const) {
  describe(`a 10-turn conversation handed local -> cloud -> local (${mode})`, () => {
    it("carries every turn, tool call and tool output across, and keeps the private turns local", async () => {
      const markers: Marker[] = [];
      let conversationId: string | undefined;
      if (mode === "conversation") conversationId = (await client.conversations.create({})).id;
      let previous: string | undefined;
      const turns: { model: string; via: string }[] = [];
      const responseIds: string[] = [];

      async function turn(
        model: string,
        input: string | ResponseInputItem[],
        headers: Record<string, string> = {},
      ): Promise<{ response: Response; headers: Headers }> {
        const { data, response: raw } = await client.responses
          .create(
            {
              model,
              input,
              tools,
              temperature: 0,
              ...(conversationId !== undefined ? { conversation: conversationId } : {}),
              ...(conversationId === undefined && previous !== undefined ? { previous_response_id: previous } : {}),
            },
            { headers },
          )
          .withResponse();
        previous = data.id;
        responseIds.push(data.id);
        turns.push({ model: data.model, via: headers["x-tandem-route"] ?? model });
        if (typeof input === "string") markers.push({ what: "user turn", text: input });
        for (const item of Array.isArray(input) ? input : []) {
          if (item.type === "function_call_output") markers.push({ what: "tool output", text: String(item.output) });
        }
        for (const item of data.output) {
          if (item.type === "function_call") markers.push({ what: `tool call ${item.name}`, text: item.name });
        }
        if (data.output_text !== "") markers.push({ what: "answer", text: data.output_text });
        return { response: data, headers: raw.headers };
      }

      /** The request the cloud fake just got shows all of the conversation so far (but this turn's answer). */
      function assertSawEverything(body: unknown, upTo: number): void {
        const seen = JSON.stringify(body);
        for (const marker of markers.slice(0, upTo)) {
          assert.ok(seen.includes(JSON.stringify(marker.text).slice(1, -1)), `the cloud saw the ${marker.what} '${marker.text}'`);
        }
      }

      const callOf = (response: Response) => {
        const call = response.output.find((item) => item.type === "function_call");
        assert.ok(call?.type === "function_call", JSON.stringify(response.output));
        return call;
      };

      openaiFake.requests.length = 0;
      anthropicFake.requests.length = 0;

      // 1. Local: the question; the local model calls get_weather.
      const t1 = await turn("handoff", "Weather in Paris for my trip?");
      assert.equal(t1.response.model, "local/tools");
      const call1 = callOf(t1.response);
      assert.deepEqual(JSON.parse(call1.arguments), { city: "Paris" });

      // 2. Local: the tool's output; the local model answers from it.
      const t2 = await turn("handoff", [{ type: "function_call_output", call_id: call1.call_id, output: "sky SUNNY-17, 24C" }]);
      assert.equal(t2.response.model, "local/tools");
      assert.equal(t2.response.output_text, LOCAL_ANSWER);

      // 3. Cloud by route override: Anthropic gets the whole local history and calls a tool of its own.
      anthropicFake.script(() => ({
        kind: "tool_calls",
        calls: [{ name: "get_forecast", arguments: { day: "tomorrow-42" } }],
        usage: { input: 80, output: 10 },
      }));
      const before3 = markers.length;
      const t3 = await turn("handoff", "And the forecast for tomorrow?", { "x-tandem-route": "cloud" });
      assert.equal(t3.response.model, "anthropic/claude-haiku-4-5");
      assert.equal(anthropicFake.requests.length, 1);
      assertSawEverything(anthropicFake.requests[0]?.body, before3 + 1);
      const call3 = callOf(t3.response);
      assert.deepEqual(JSON.parse(call3.arguments), { day: "tomorrow-42" });

      // 4. Cloud by the model field: OpenAI (chat-only) gets Anthropic's call's output and everything before.
      openaiFake.script(() => ({ kind: "text", text: "Tomorrow brings light rain.", usage: { input: 90, output: 6 } }));
      const before4 = markers.length;
      const t4 = await turn("openai/gpt-4o-mini", [
        { type: "function_call_output", call_id: call3.call_id, output: "rain LIGHT-3mm" },
      ]);
      assert.equal(t4.response.model, "openai/gpt-4o-mini");
      assert.equal(t4.response.output_text, "Tomorrow brings light rain.");
      const sent4 = openaiFake.requests.at(-1)?.body as {
        messages: { role: string; tool_calls?: { id: string }[]; tool_call_id?: string }[];
      };
      assertSawEverything(sent4, before4 + 1);
      // Every tool call it was shown is answered by its output, in OpenAI's pairing.
      const callIds = sent4.messages.flatMap((m) => m.tool_calls?.map((c) => c.id) ?? []);
      const outputIds = sent4.messages.filter((m) => m.role === "tool").map((m) => m.tool_call_id);
      assert.equal(callIds.length, 2);
      assert.deepEqual(outputIds, callIds);

      // 5. Back to local (the route again): it serves the conversation with the cloud turns in it.
      const t5 = await turn("handoff", "Summarize the week for me.");
      assert.equal(t5.response.model, "local/tools");
      assert.equal(t5.response.output_text, LOCAL_ANSWER);

      // 6. The local engine is killed mid-turn: the route fails over to OpenAI, which sees everything.
      openaiFake.script(() => ({
        kind: "tool_calls",
        calls: [{ name: "get_weather", arguments: { city: "Lyon" } }],
        usage: { input: 120, output: 9 },
      }));
      const before6 = markers.length;
      const openaiBefore6 = openaiFake.requests.length;
      const t6 = await withEngineKilledMidTurn(() => turn("handoff", "What about Lyon?"));
      assert.equal(t6.response.model, "openai/gpt-4o-mini");
      assert.equal(openaiFake.requests.length, openaiBefore6 + 1);
      assertSawEverything(openaiFake.requests.at(-1)?.body, before6 + 1);
      const call6 = callOf(t6.response);
      assert.deepEqual(JSON.parse(call6.arguments), { city: "Lyon" });

      // 7. The engine is back: the output of OpenAI's call goes to the local model, which answers.
      const t7 = await turn("handoff", [{ type: "function_call_output", call_id: call6.call_id, output: "sky CLOUDY-8, 19C" }]);
      assert.equal(t7.response.model, "local/tools");
      assert.equal(t7.response.output_text, LOCAL_ANSWER);

      // 8. A private turn: declared by header (conversation) or found by the detector (an AWS key).
      const cloudRequests = () => openaiFake.requests.length + anthropicFake.requests.length;
      const cloudBefore = cloudRequests();
      const secret =
        mode === "conversation"
          ? "My passport number is P-PRIVATE-8841, keep it to yourself."
          : `Deploy with key ${AWS_KEY} to the Paris region.`;
      const t8 = await turn("handoff", secret, mode === "conversation" ? { "x-tandem-sensitivity": "private" } : {});
      assert.equal(t8.response.model, "local/tools");
      assert.equal(t8.headers.get("x-tandem-sensitivity"), "private");

      // 9. A hand-off to the cloud now is refused, by route override and by naming a cloud target:
      // the conversation holds a private turn and the routes are local-only.
      for (const [model, headers] of [
        ["handoff", { "x-tandem-route": "cloud" }],
        ["openai/gpt-4o-mini", {}],
      ] as const) {
        await assert.rejects(
          turn(model, "Now ask the cloud about it.", headers),
          (err: unknown) => err instanceof OpenAI.APIError && err.status === 403,
        );
      }

      // ... and the local model still serves it.
      const t9 = await turn("handoff", "Then answer locally.");
      assert.equal(t9.response.model, "local/tools");
      assert.equal(t9.headers.get("x-tandem-sensitivity"), "private");

      // 10. A last turn carrying a call the client ran itself and its output: still private, still local.
      const t10 = await turn("handoff", [
        { type: "function_call", call_id: "call_client_10", name: "get_weather", arguments: '{"city":"Nice"}' },
        { type: "function_call_output", call_id: "call_client_10", output: "sky CLEAR-1" },
      ]);
      assert.equal(t10.response.model, "local/tools");
      assert.equal(t10.response.output_text, LOCAL_ANSWER);

      // Nothing reached a cloud fake after the private turn, and the secret never reached one.
      assert.equal(cloudRequests(), cloudBefore);
      const secretValue = mode === "conversation" ? "P-PRIVATE-8841" : AWS_KEY;
      for (const request of [...openaiFake.requests, ...anthropicFake.requests]) {
        assert.ok(!JSON.stringify(request.body).includes(secretValue), "a private value reached a cloud fake");
      }

      assert.deepEqual(
        turns.map((t) => t.model),
        [
          "local/tools",
          "local/tools",
          "anthropic/claude-haiku-4-5",
          "openai/gpt-4o-mini",
          "local/tools",
          "openai/gpt-4o-mini",
          "local/tools",
          "local/tools",
          "local/tools",
          "local/tools",
        ],
      );

      // The stored state holds all ten turns, in order.
      if (conversationId !== undefined) {
        const items = await client.conversations.items.list(conversationId, { limit: 100, order: "asc" });
        const userTexts = items.data
          .filter((item) => item.type === "message" && item.role === "user")
          .map((item) => (item.type === "message" ? JSON.stringify(item.content) : ""));
        assert.equal(userTexts.length, 6);
        assert.equal(items.data.filter((item) => item.type === "function_call_output").length, 4);
      } else {
        // The last response's input items are what it was given: the whole chain, as OpenAI lists them.
        assert.equal(responseIds.length, 10);
        const inputs = await client.responses.inputItems.list(responseIds.at(-1) as string, { limit: 100, order: "asc" });
        assert.equal(inputs.data.filter((item) => item.type === "function_call_output").length, 4);
        assert.equal(inputs.data.filter((item) => item.type === "message" && item.role === "user").length, 6);
      }
    });
  });
}
