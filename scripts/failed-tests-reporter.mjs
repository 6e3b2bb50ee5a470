/**
 * A reporter for `node --test` that prints nothing while the suite runs and, at its end, the tests that
 * failed: file, name and the first lines of the error. `npm test` runs it beside the TAP reporter, so
 * the last lines of a long run's output (what CI keeps when it keeps only a part) name what failed.
 */

const MAX_ERROR_LINES = 12;

function errorText(error) {
  if (error === undefined || error === null) return "(no error)";
  const inner = error.cause ?? error;
  const text = inner instanceof Error ? (inner.stack ?? `${inner.name}: ${inner.message}`) : String(inner);
  return text.split("\n").slice(0, MAX_ERROR_LINES).join("\n");
}

export default async function* failedTests(source) {
  const failed = [];
  for await (const event of source) {
    if (event.type !== "test:fail") continue;
    const { name, file, details } = event.data;
    // A suite fails because a test in it failed; the test itself is what to name.
    if (details?.error?.failureType === "subtestsFailed") continue;
    failed.push({ name, file, error: errorText(details?.error) });
  }
  if (failed.length === 0) return;
  yield `\n# failed tests: ${failed.length}\n`;
  for (const test of failed) {
    yield `# ✖ ${test.file ?? "(unknown file)"} › ${test.name}\n`;
    for (const line of test.error.split("\n")) yield `#     ${line}\n`;
  }
}
