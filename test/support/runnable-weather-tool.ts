/**
 * The `get_weather` tool as the openai SDK's `runTools` takes it (its parameters, and the function the
 * runner calls with the parsed arguments), for the tests that drive the SDK's tool runner: `answer`
 * says what the tool returns for a city, and can record the call.
 */
export function runnableWeatherTool(answer: (city: string) => string) {
  return {
    type: "function" as const,
    function: {
      name: "get_weather",
      description: "Current weather for a city",
      parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      function: (args: { city: string }) => answer(args.city),
      parse: JSON.parse,
    },
  };
}
