/**
 * The newest official SDKs and agent frameworks against the real-client stage (stage.ts): each
 * client's call, streamed or not, with a tool round trip where the fakes' script allows (a user turn
 * RUN_TOOL makes the fake call the client's shell tool), over the routes to-openai (translated),
 * to-anthropic and to-responses (a Responses-only upstream). One line per check, PASS or FAIL.
 * The SDKs are not project dependencies: sdks.sh installs the latest of each elsewhere and runs this.
 *   CLIENTS=/tmp/clients WORK=/tmp/tandem-rc scripts/real-clients/sdks.sh
 */
import OpenAI from "openai";
import Anthropic from "@anthropic-ai/sdk";
import { generateText, streamText, tool, stepCountIs } from "ai";
import { createOpenAI } from "@ai-sdk/openai";
import { createAnthropic } from "@ai-sdk/anthropic";
import { Agent, run, tool as agentTool, setDefaultOpenAIClient, setOpenAIAPI, setTracingDisabled } from "@openai/agents";
import { ChatOpenAI } from "@langchain/openai";
import { z } from "zod";

const base = process.env.TANDEM_URL;
const results = [];
async function check(name, fn) {
  try { const r = await fn(); results.push(`PASS ${name}: ${String(r).slice(0, 100).replace(/\n/g, " ")}`); }
  catch (e) { results.push(`FAIL ${name}: ${(e?.stack ?? String(e)).slice(0, 600)}`); }
}
const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: "x", maxRetries: 0 });
const anthropic = new Anthropic({ baseURL: base, apiKey: "x", maxRetries: 0 });
const shellTool = { type: "function", function: { name: "shell_command", description: "run", parameters: { type: "object", properties: { command: { type: "string" } }, required: ["command"] } } };

for (const model of ["to-openai", "to-anthropic", "to-responses"]) {
  await check(`openai7 chat ${model}`, async () => (await openai.chat.completions.create({ model, messages: [{ role: "user", content: "hi" }] })).choices[0].message.content);
  await check(`openai7 chat stream ${model}`, async () => { const s = openai.chat.completions.stream({ model, messages: [{ role: "user", content: "hi" }], stream_options: { include_usage: true } }); const c = await s.finalChatCompletion(); return c.choices[0].message.content + " usage=" + JSON.stringify(c.usage); });
  await check(`openai7 chat tool ${model}`, async () => { const c = await openai.chat.completions.create({ model, messages: [{ role: "user", content: "RUN_TOOL" }], tools: [shellTool] }); return JSON.stringify(c.choices[0].message.tool_calls); });
  await check(`openai7 responses ${model}`, async () => { const r = await openai.responses.create({ model, input: "My code word is PELICAN" }); const r2 = await openai.responses.create({ model, input: "What is it?", previous_response_id: r.id }); return r2.output_text; });
  await check(`openai7 responses stream ${model}`, async () => { const s = openai.responses.stream({ model, input: "hi" }); const r = await s.finalResponse(); return r.output_text + " " + r.status; });
  await check(`anthropic1.17 messages ${model}`, async () => (await anthropic.messages.create({ model, max_tokens: 100, messages: [{ role: "user", content: "hi" }] })).content[0].text);
  await check(`anthropic1.17 stream ${model}`, async () => { const s = anthropic.messages.stream({ model, max_tokens: 100, messages: [{ role: "user", content: "hi" }] }); const m = await s.finalMessage(); return m.content[0].text + " " + m.stop_reason; });
  await check(`anthropic1.17 tool ${model}`, async () => { const m = await anthropic.messages.create({ model, max_tokens: 100, tools: [{ name: "Bash", description: "run", input_schema: { type: "object", properties: { command: { type: "string" } } } }], messages: [{ role: "user", content: "RUN_TOOL" }] }); return JSON.stringify(m.content); });
  await check(`anthropic1.17 count_tokens ${model}`, async () => JSON.stringify(await anthropic.messages.countTokens({ model, messages: [{ role: "user", content: "hi" }] })));
  const aoai = createOpenAI({ baseURL: `${base}/v1`, apiKey: "x" });
  await check(`ai7 openai(responses) generateText ${model}`, async () => (await generateText({ model: aoai(model), prompt: "hi", maxRetries: 0 })).text);
  await check(`ai7 openai.chat streamText ${model}`, async () => { const r = streamText({ model: aoai.chat(model), prompt: "hi", maxRetries: 0 }); let t = ""; for await (const p of r.textStream) t += p; return t; });
  await check(`ai7 openai(responses) tool loop ${model}`, async () => { const r = await generateText({ model: aoai(model), prompt: "RUN_TOOL", maxRetries: 0, stopWhen: stepCountIs(3), tools: { shell_command: tool({ description: "run", inputSchema: z.object({ command: z.string() }), execute: async () => "ran-ok" }) } }); return r.text + " steps=" + r.steps.length; });
  const aan = createAnthropic({ baseURL: `${base}/v1`, apiKey: "x" });
  await check(`ai7 anthropic generateText ${model}`, async () => (await generateText({ model: aan(model), prompt: "hi", maxRetries: 0 })).text);
  await check(`ai7 anthropic tool loop ${model}`, async () => { const r = await generateText({ model: aan(model), prompt: "RUN_TOOL", maxRetries: 0, stopWhen: stepCountIs(3), tools: { Bash: tool({ description: "run", inputSchema: z.object({ command: z.string() }), execute: async () => "ran-ok" }) } }); return r.text + " steps=" + r.steps.length; });
  await check(`langchain ChatOpenAI ${model}`, async () => { const m = new ChatOpenAI({ model, apiKey: "x", configuration: { baseURL: `${base}/v1` }, maxRetries: 0 }); return (await m.invoke("hi")).content; });
  await check(`langchain ChatOpenAI responses ${model}`, async () => { const m = new ChatOpenAI({ model, apiKey: "x", configuration: { baseURL: `${base}/v1` }, maxRetries: 0, useResponsesApi: true }); return JSON.stringify((await m.invoke("hi")).content); });
}
// gpt-5.5, whose chat completions refuse function tools unless the effort is none: a chat client's own
// request goes to its Responses API with the effort (tandem bridges it), or at none with no effort.
const gpt55Calls = (c) => { const calls = c.choices[0].message.tool_calls; if (!calls?.length) throw new Error(`no tool call: ${JSON.stringify(c.choices[0].message)}`); return JSON.stringify(calls) + " " + c.choices[0].finish_reason; };
await check(`openai7 chat tool effort to-gpt55`, async () => gpt55Calls(await openai.chat.completions.create({ model: "to-gpt55", reasoning_effort: "high", messages: [{ role: "user", content: "RUN_TOOL" }], tools: [shellTool] })));
await check(`openai7 chat stream tool effort to-gpt55`, async () => gpt55Calls(await openai.chat.completions.stream({ model: "to-gpt55", reasoning_effort: "xhigh", messages: [{ role: "user", content: "RUN_TOOL" }], tools: [shellTool] }).finalChatCompletion()));
await check(`openai7 chat tool no effort to-gpt55`, async () => gpt55Calls(await openai.chat.completions.create({ model: "to-gpt55", messages: [{ role: "user", content: "RUN_TOOL" }], tools: [shellTool] })));
await check(`ai7 openai.chat tool loop effort to-gpt55`, async () => { const r = await generateText({ model: createOpenAI({ baseURL: `${base}/v1`, apiKey: "x" }).chat("to-gpt55"), prompt: "RUN_TOOL", maxRetries: 0, stopWhen: stepCountIs(3), providerOptions: { openai: { reasoningEffort: "high" } }, tools: { shell_command: tool({ description: "run", inputSchema: z.object({ command: z.string() }), execute: async () => "ran-ok" }) } }); if (r.steps.length < 2) throw new Error(`steps=${r.steps.length}: ${r.text}`); return r.text + " steps=" + r.steps.length; });
await check(`langchain ChatOpenAI tool effort to-gpt55`, async () => { const m = new ChatOpenAI({ model: "to-gpt55", apiKey: "x", configuration: { baseURL: `${base}/v1` }, maxRetries: 0, reasoning: { effort: "high" } }).bindTools([shellTool]); const r = await m.invoke("RUN_TOOL"); if (!r.tool_calls?.length) throw new Error(`no tool call: ${JSON.stringify(r.content)}`); return JSON.stringify(r.tool_calls); });
setDefaultOpenAIClient(openai); setTracingDisabled(true);
for (const api of ["responses", "chat_completions"]) {
  setOpenAIAPI(api);
  for (const model of ["to-openai", "to-anthropic", "to-responses"]) {
    await check(`agents0.20 ${api} tool ${model}`, async () => {
      const agent = new Agent({ name: "a", model, tools: [agentTool({ name: "shell_command", description: "run", parameters: z.object({ command: z.string() }), execute: async () => "ran-ok" })] });
      const r = await run(agent, "RUN_TOOL"); return r.finalOutput;
    });
  }
}
await check(`openai7 models.list`, async () => (await openai.models.list()).data.map(m => m.id).slice(0, 5).join(","));
await check(`anthropic1.17 models.list`, async () => (await anthropic.models.list()).data.map(m => m.id).slice(0, 5).join(","));
await check(`openai7 conversations`, async () => { const c = await openai.conversations.create({ items: [{ type: "message", role: "user", content: "My code word is PELICAN" }] }); const r = await openai.responses.create({ model: "to-openai", conversation: c.id, input: "what?" }); const items = await openai.conversations.items.list(c.id); return r.output_text + " items=" + items.data.length; });
console.log(results.join("\n"));
process.exitCode = results.some((line) => line.startsWith("FAIL")) ? 1 : 0;
