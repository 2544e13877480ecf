// The tablet's storage (src/store.js): the queue kept in IndexedDB and in localStorage, merged at start.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { QUEUE_KEY } from "../src/queue.js";
import { mergeQueues, mergeValues, PAGE_KEY } from "../src/store.js";

const start = (token) => ({ token, at: 1, survey: null });
const done = (token) => ({ token, at: 2, survey: { token, overall: 5 } });

describe("mergeQueues", () => {
  test("keeps every token of either store once, a completed survey over its start", () => {
    const idb = JSON.stringify([start("a"), done("b")]);
    const local = JSON.stringify([done("a"), start("c")]);
    const merged = JSON.parse(mergeQueues(idb, local));
    assert.deepEqual(
      merged.map((e) => [e.token, Boolean(e.survey)]),
      [
        ["a", true],
        ["b", true],
        ["c", false],
      ],
    );
  });

  test("a survey only one store has is never lost (a write that did not reach the other)", () => {
    assert.equal(JSON.parse(mergeQueues("[]", JSON.stringify([done("x")])))[0].survey.overall, 5);
    assert.equal(JSON.parse(mergeQueues(JSON.stringify([done("x")]), null))[0].token, "x");
  });

  test("made before the enrolment in either store stays so", () => {
    const merged = JSON.parse(
      mergeQueues(JSON.stringify([{ ...done("a"), legacy: true }]), JSON.stringify([done("a")])),
    );
    assert.equal(merged.length, 1);
    assert.equal(merged[0].legacy, true);
  });

  test("broken or foreign content is ignored, not thrown", () => {
    assert.equal(mergeQueues("{not json", '{"a": 1}'), "[]");
    assert.equal(
      mergeQueues(JSON.stringify([null, 3, { token: 7 }, start("ok")]), "[]"),
      JSON.stringify([start("ok")]),
    );
  });
});

describe("mergeValues", () => {
  test("the queue is merged; any other key is IndexedDB's, else localStorage's", () => {
    const q = mergeValues(QUEUE_KEY, JSON.stringify([start("a")]), JSON.stringify([start("b")]));
    assert.equal(JSON.parse(q).length, 2);
    assert.equal(mergeValues(PAGE_KEY, '{"v":1}', '{"v":2}'), '{"v":1}');
    assert.equal(mergeValues(PAGE_KEY, undefined, '{"v":2}'), '{"v":2}');
    assert.equal(mergeValues(PAGE_KEY, undefined, null), null);
  });
});
