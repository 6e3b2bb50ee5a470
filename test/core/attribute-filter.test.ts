import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type AttributeFilter, matchesAttributeFilter } from "../../src/core/attribute-filter.js";

const file = { topic: "sea", year: 2020, public: true };

describe("matchesAttributeFilter (OpenAI's comparison and compound filters)", () => {
  const cases: Array<[AttributeFilter, boolean]> = [
    [{ type: "eq", key: "topic", value: "sea" }, true],
    [{ type: "eq", key: "topic", value: "Sea" }, false],
    [{ type: "eq", key: "public", value: true }, true],
    [{ type: "ne", key: "topic", value: "space" }, true],
    [{ type: "ne", key: "missing", value: "x" }, false],
    [{ type: "ne", key: "year", value: "2020" }, false],
    [{ type: "gt", key: "year", value: 2019 }, true],
    [{ type: "gte", key: "year", value: 2020 }, true],
    [{ type: "lt", key: "year", value: 2020 }, false],
    [{ type: "lte", key: "year", value: 2020 }, true],
    [{ type: "gt", key: "year", value: "2019" }, false],
    [{ type: "gt", key: "public", value: false }, false],
    [{ type: "in", key: "topic", value: ["sea", "sky"] }, true],
    [{ type: "nin", key: "topic", value: ["sea", "sky"] }, false],
    [{ type: "nin", key: "year", value: [2021] }, true],
    [{ type: "nin", key: "missing", value: [1] }, false],
    [
      {
        type: "and",
        filters: [
          { type: "eq", key: "topic", value: "sea" },
          { type: "gte", key: "year", value: 2021 },
        ],
      },
      false,
    ],
    [
      {
        type: "or",
        filters: [
          { type: "eq", key: "topic", value: "space" },
          { type: "gte", key: "year", value: 2020 },
        ],
      },
      true,
    ],
    [{ type: "or", filters: [] }, false],
    [{ type: "and", filters: [] }, true],
  ];
  for (const [filter, expected] of cases) {
    it(`${JSON.stringify(filter)} → ${expected}`, () => assert.equal(matchesAttributeFilter(file, filter), expected));
  }

  it("a file without attributes matches no comparison", () => {
    assert.equal(matchesAttributeFilter(undefined, { type: "eq", key: "topic", value: "sea" }), false);
  });
});
