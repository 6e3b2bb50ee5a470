/** JSON read off the wire, only ever compared in assertions. */
// biome-ignore lint/suspicious/noExplicitAny: assertions check the shape at run time
export type WireJson = any;

/** POSTs a JSON body and reads the answer whole: its status, JSON (undefined when it is not JSON), text and headers. */
export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: WireJson; text: string; headers: Headers }> {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json, text, headers: res.headers };
}
