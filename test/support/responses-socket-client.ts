/**
 * A bare client of the Responses API's WebSocket mode for tests: every message it receives, parsed,
 * a way to wait for one, and a turn (send one event, wait for the end of its answer).
 */
import WebSocket from "ws";

/** Opens a socket to tandem at `url` (http://...) and reads every message it receives. */
export async function connectResponsesSocket(url: string, headers: Record<string, string> = {}) {
  const socket = new WebSocket(`${url.replace(/^http/, "ws")}/v1/responses`, { headers });
  const received: Record<string, unknown>[] = [];
  const waiters: (() => void)[] = [];
  socket.on("message", (data) => {
    received.push(JSON.parse(String(data)));
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once("open", () => resolve());
    socket.once("error", reject);
  });
  /** Waits until a message of one of these types has arrived after `from`, and returns the messages since `from`. */
  const until = async (types: string[], from = 0): Promise<Record<string, unknown>[]> => {
    const deadline = Date.now() + 10_000;
    while (!received.slice(from).some((m) => types.includes(String(m.type)))) {
      if (Date.now() > deadline) throw new Error(`no ${types.join("/")} in ${JSON.stringify(received.slice(from))}`);
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    return received.slice(from);
  };
  const turn = async (event: Record<string, unknown>) => {
    const from = received.length;
    socket.send(JSON.stringify(event));
    return until(["response.completed", "response.incomplete", "response.failed", "error"], from);
  };
  return { socket, received, until, turn };
}
