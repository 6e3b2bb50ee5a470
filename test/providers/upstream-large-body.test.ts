/**
 * A large upstream body is encoded in pieces, a turn of the event loop each: the bytes sent (and
 * handed to the egress audit) must be exactly the UTF-8 of its JSON, whatever character falls on a
 * piece's edge.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, it } from "node:test";
import { UpstreamClient } from "../../src/providers/http/index.js";

describe("a large upstream body", () => {
  it("goes out as the exact UTF-8 of its JSON, with a surrogate pair on a piece's edge, and the audit gets those bytes", async () => {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("end", () => {
        res.setHeader("content-type", "application/json");
        res.end(JSON.stringify({ got: Buffer.concat(chunks).toString("base64") }));
      });
    });
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const client = new UpstreamClient(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, { target: "t" });
    try {
      // `{"text":"` and "xx" put the first emoji's high surrogate last in the first 2 Mi-character piece.
      let text = "xx";
      while (text.length < 5 * 1024 * 1024) text += "ab😀é日";
      let audited: string | Uint8Array | undefined;
      const answer = await client.json<{ got: string }>("POST", "/x", {
        body: { text },
        signal: AbortSignal.timeout(30_000),
        beforeBody: async (body) => {
          audited = body;
          return { notSent: () => {} };
        },
      });
      const expected = Buffer.from(JSON.stringify({ text }));
      assert.ok(Buffer.from(answer.got, "base64").equals(expected));
      assert.ok(audited instanceof Uint8Array && Buffer.from(audited).equals(expected));
    } finally {
      await client.close();
      server.close();
    }
  });
});
