/**
 * A page of a response's input items (GET /v1/responses/{id}/input_items) is read from the store a
 * page at a time with either cursor: it pages exactly as the whole list paged in memory (pageBy, what
 * a `before` cursor used to do), and reads only the page's own item rows, not the response's whole
 * input nor the whole history before it (its chain or its conversation), each of which was read whole
 * for each page before.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import Sqlite from "better-sqlite3-multiple-ciphers";
import { pageBy } from "../../src/core/page-items.js";
import type { ListOptions, StoredItem } from "../../src/core/state.js";
import { migrate } from "../../src/store/index.js";
import { StateTables } from "../../src/store/state-tables.js";
import { message, response } from "../harness/state/state-store-suite.js";

/**
 * A migrated in-memory database whose statements count the item rows they hand back (a row with the
 * item's JSON in it): what a list read from the store, whatever it then parsed.
 */
function countingDatabase(): { db: Sqlite.Database; itemRowsRead: () => number } {
  const db = new Sqlite(":memory:");
  // The full-text steps' function, as the store registers it (its words do not matter here).
  db.function("tandem_fts_text", { deterministic: true }, (text: unknown) => text);
  migrate(db, "test.db");
  let read = 0;
  const counted = (rows: unknown[]) => {
    for (const row of rows) if (typeof row === "object" && row !== null && "item" in row) read++;
  };
  const prepare = db.prepare.bind(db);
  db.prepare = ((source: string) => {
    const statement = prepare(source);
    const all = statement.all.bind(statement);
    const get = statement.get.bind(statement);
    statement.all = (...values: unknown[]) => {
      const rows = all(...values);
      counted(rows);
      return rows;
    };
    statement.get = (...values: unknown[]) => {
      const row = get(...values);
      counted([row]);
      return row;
    };
    return statement;
  }) as typeof db.prepare;
  return { db, itemRowsRead: () => read };
}

const ids = (page: { data: StoredItem[] }) => page.data.map((stored) => stored.item.id);

/**
 * Each page (its options, its first and last item, whether more lie past it) as listInputItems gives
 * it, read with no more item rows than the page and one more (to know whether more lie past it).
 */
function checkPages(
  tables: StateTables,
  itemRowsRead: () => number,
  responseId: string,
  cases: [ListOptions, string[], boolean][],
): void {
  for (const [options, [first, last], hasMore] of cases) {
    const readBefore = itemRowsRead();
    const page = tables.listInputItems(responseId, options);
    assert.ok(page);
    assert.deepEqual([ids(page)[0], ids(page).at(-1)], [first, last], JSON.stringify(options));
    assert.equal(page.hasMore, hasMore);
    const read = itemRowsRead() - readBefore;
    assert.ok(read <= options.limit + 1, `${JSON.stringify(options)} read ${read} item rows`);
  }
}

describe("StateTables pages a response's input items", () => {
  it("gives the same page as the whole list paged in memory, for every order, after, before and limit", () => {
    const { db } = countingDatabase();
    const tables = new StateTables(db);
    // 50 items: a chain's 7 (the first response's 6 inputs and its output), then 43 of its own; two
    // of its own reuse ids, one from the chain and one from its own input, so "first in the list's
    // order" decides which one a cursor names.
    tables.saveResponse(response("resp_chain", { inputs: 6 }));
    const own = response("resp_own", { previous: "resp_chain", inputs: 43 });
    own.input[20] = message("msg_resp_chain_in2", "an id the chain has too");
    own.input[30] = message("msg_resp_own_in5", "an id its own input has too");
    tables.saveResponse(own);
    const whole = [...(tables.responseHistory("resp_chain") ?? []), ...own.input];
    assert.equal(whole.length, 50);

    const cursors = [undefined, "msg_nowhere", ...new Set(whole.map((stored) => stored.item.id))];
    let compared = 0;
    for (const order of ["asc", "desc"] as const) {
      for (const limit of [1, 2, 7, 49, 50, 100]) {
        for (const after of cursors) {
          for (const before of cursors) {
            const options: ListOptions = {
              limit,
              order,
              ...(after !== undefined && { after }),
              ...(before !== undefined && { before }),
            };
            const expected = pageBy(whole, options, (stored) => stored.item.id);
            const actual = tables.listInputItems("resp_own", options);
            assert.deepEqual(actual, expected, JSON.stringify(options));
            compared++;
          }
        }
      }
    }
    assert.equal(compared, 2 * 6 * 50 * 50);
  });

  it("reads only the page's own input rows for a page before a cursor, either way", () => {
    const { db, itemRowsRead } = countingDatabase();
    const tables = new StateTables(db);
    tables.saveResponse(response("resp_root", { inputs: 2 }));
    tables.saveResponse(response("resp_long", { previous: "resp_root", inputs: 2_000 }));
    const cases: [ListOptions, string[], boolean][] = [
      [{ limit: 5, order: "asc", before: "msg_resp_long_in1000" }, ["msg_resp_long_in995", "msg_resp_long_in999"], true],
      [{ limit: 5, order: "desc", before: "msg_resp_long_in1000" }, ["msg_resp_long_in1005", "msg_resp_long_in1001"], true],
      // Across the seam between the chain and its own input, both ways.
      [
        { limit: 3, order: "asc", before: "msg_resp_long_in2", after: "msg_resp_root_in0" },
        ["msg_resp_root_out", "msg_resp_long_in1"],
        true,
      ],
      [
        { limit: 3, order: "desc", before: "msg_resp_root_in0", after: "msg_resp_long_in1" },
        ["msg_resp_long_in0", "msg_resp_root_in1"],
        false,
      ],
    ];
    checkPages(tables, itemRowsRead, "resp_long", cases);
  });

  it("reads only a page's rows of a long chain before the response, either way", () => {
    const { db, itemRowsRead } = countingDatabase();
    const tables = new StateTables(db);
    // A chain of 200 responses, 10 inputs and an output each: 2,200 items before the last one's own.
    let previous: string | undefined;
    for (let n = 0; n < 200; n++) {
      const id = `resp_${n}`;
      tables.saveResponse(response(id, { inputs: 10, ...(previous !== undefined && { previous }) }));
      previous = id;
    }
    tables.saveResponse(response("resp_last", { previous, inputs: 3 }));
    checkPages(tables, itemRowsRead, "resp_last", [
      [{ limit: 4, order: "asc" }, ["msg_resp_0_in0", "msg_resp_0_in3"], true],
      [{ limit: 4, order: "asc", after: "msg_resp_100_in9" }, ["msg_resp_100_out", "msg_resp_101_in2"], true],
      [{ limit: 4, order: "asc", before: "msg_resp_100_in0" }, ["msg_resp_99_in7", "msg_resp_99_out"], true],
      [{ limit: 4, order: "desc", after: "msg_resp_last_in0" }, ["msg_resp_199_out", "msg_resp_199_in7"], true],
      [{ limit: 4, order: "desc", before: "msg_resp_0_in0" }, ["msg_resp_0_in4", "msg_resp_0_in1"], true],
    ]);
  });

  it("pages a response made in a conversation as the whole list would, reading only the page's rows", () => {
    const { db, itemRowsRead } = countingDatabase();
    const tables = new StateTables(db);
    const items = Array.from({ length: 300 }, (_, i) => message(`msg_conv_${i}`, `said ${i}`));
    tables.createConversation({ id: "conv_long", createdAt: 1_700_000_000, metadata: {} }, items);
    // Given the conversation through its 250th item, then two items deleted from what it was given.
    tables.saveResponse(response("resp_conv", { conversation: "conv_long", through: "msg_conv_249", inputs: 5 }));
    assert.equal(tables.deleteConversationItem("conv_long", "msg_conv_7"), true);
    assert.equal(tables.deleteConversationItem("conv_long", "msg_conv_200"), true);
    const given = items.slice(0, 250).filter((stored) => !["msg_conv_7", "msg_conv_200"].includes(stored.item.id));
    const whole = [...given.map((stored) => stored.item.id), ...Array.from({ length: 5 }, (_, i) => `msg_resp_conv_in${i}`)];
    const cursors = [
      undefined,
      "msg_conv_0",
      "msg_conv_6",
      "msg_conv_8",
      "msg_conv_249",
      "msg_conv_250",
      "msg_resp_conv_in0",
      "msg_resp_conv_in4",
    ];
    for (const order of ["asc", "desc"] as const) {
      for (const limit of [1, 3, 100]) {
        for (const after of cursors) {
          for (const before of cursors) {
            const options: ListOptions = {
              limit,
              order,
              ...(after !== undefined && { after }),
              ...(before !== undefined && { before }),
            };
            const expected = pageBy(whole, options, (id) => id);
            const readBefore = itemRowsRead();
            const actual = tables.listInputItems("resp_conv", options);
            const read = itemRowsRead() - readBefore;
            assert.ok(actual);
            assert.deepEqual({ ...actual, data: ids(actual) }, expected, JSON.stringify(options));
            assert.ok(read <= limit + 1, `${JSON.stringify(options)} read ${read} item rows`);
          }
        }
      }
    }
  });
});
