// What a tap does (src/taps.js): the answers it leaves, and the automatic advance on a manual clock.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { advanceAfterTap, radioChecked, selectedAnswer, Timers, tapAnswer, tapMulti } from "../src/taps.js";

// setTimeout/clearTimeout on a clock that moves only when the test says so.
function manualClock() {
  let now = 0;
  let nextId = 1;
  const due = new Map();
  return {
    setTimeout(fn, ms) {
      const id = nextId++;
      due.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(id) {
      due.delete(id);
    },
    advance(ms) {
      now += ms;
      for (const [id, t] of [...due].sort((a, b) => a[1].at - b[1].at)) {
        if (t.at <= now && due.has(id)) {
          due.delete(id);
          t.fn();
        }
      }
    },
    waiting: () => due.size,
  };
}

const scale = { kind: "scale", id: "TC1" };
const grid = { kind: "choice", id: "expectations", item: "MM2" };

describe("tapping an answer", () => {
  test("a second tap on the chosen face keeps the answer", () => {
    const once = tapAnswer({}, scale, 4);
    const twice = tapAnswer(once, scale, 4);
    assert.deepEqual(twice, { TC1: 4 });
    assert.equal(selectedAnswer(twice, scale), 4);
  });

  test("another face changes it; 'Không ý kiến' is an answer of null, not no answer", () => {
    let a = tapAnswer({}, scale, 4);
    a = tapAnswer(a, scale, 2);
    assert.equal(selectedAnswer(a, scale), 2);
    a = tapAnswer(a, scale, null);
    assert.equal(selectedAnswer(a, scale), null);
    assert.equal(selectedAnswer({}, scale), undefined);
  });

  test("a tap leaves the answers it was given unchanged", () => {
    const before = { expectations: { MM1: 4 } };
    const after = tapAnswer(before, grid, 3);
    assert.deepEqual(before, { expectations: { MM1: 4 } });
    assert.deepEqual(after, { expectations: { MM1: 4, MM2: 3 } });
  });

  test("an item of a grid is stored under its item; 'Bỏ qua' leaves that item unanswered", () => {
    let a = tapAnswer({}, grid, 3);
    a = tapAnswer(a, { ...grid, item: "MM3" }, 1);
    assert.deepEqual(a, { expectations: { MM2: 3, MM3: 1 } });
    a = tapAnswer(a, grid, null);
    assert.deepEqual(a, { expectations: { MM3: 1 } });
    assert.equal(selectedAnswer(a, grid), undefined);
    assert.equal(selectedAnswer(a, { ...grid, item: "MM3" }), 1);
  });

  test("the button shown as chosen: its value, or 'none' for null", () => {
    assert.equal(radioChecked("4", 4), true);
    assert.equal(radioChecked("3", 4), false);
    assert.equal(radioChecked("none", null), true);
    assert.equal(radioChecked("none", 4), false);
    assert.equal(radioChecked("Nam", "Nam"), true);
  });

  test("multiple choice: a tap adds, a second tap removes, no more than the maximum", () => {
    let chosen = tapMulti(undefined, "a", 2);
    chosen = tapMulti(chosen, "b", 2);
    assert.deepEqual(chosen, ["a", "b"]);
    assert.deepEqual(tapMulti(chosen, "c", 2), ["a", "b"]);
    assert.deepEqual(tapMulti(chosen, "a", 2), ["b"]);
    assert.deepEqual(tapMulti(["a"], "b", undefined), ["a", "b"]); // no maximum given
  });
});

describe("automatic advance", () => {
  test("the survey moves on once, the given time after the tap", () => {
    const clock = manualClock();
    const timers = new Timers(clock);
    let moved = 0;
    advanceAfterTap(
      timers,
      400,
      () => true,
      () => moved++,
    );
    clock.advance(399);
    assert.equal(moved, 0);
    clock.advance(1);
    assert.equal(moved, 1);
    clock.advance(5000);
    assert.equal(moved, 1);
  });

  test("a second tap restarts the wait: one advance, counted from the last tap", () => {
    const clock = manualClock();
    const timers = new Timers(clock);
    let moved = 0;
    advanceAfterTap(
      timers,
      400,
      () => true,
      () => moved++,
    );
    clock.advance(300);
    advanceAfterTap(
      timers,
      400,
      () => true,
      () => moved++,
    );
    clock.advance(300);
    assert.equal(moved, 0);
    clock.advance(100);
    assert.equal(moved, 1);
    assert.equal(clock.waiting(), 0);
  });

  test("no advance once the screen was left before the time (Quay lại, Hủy, idle)", () => {
    const clock = manualClock();
    const timers = new Timers(clock);
    let onScreen = true;
    let moved = 0;
    advanceAfterTap(
      timers,
      400,
      () => onScreen,
      () => moved++,
    );
    onScreen = false;
    clock.advance(400);
    assert.equal(moved, 0);
  });

  test("clearing the advance (the buttons do) stops it", () => {
    const clock = manualClock();
    const timers = new Timers(clock);
    let moved = 0;
    advanceAfterTap(
      timers,
      400,
      () => true,
      () => moved++,
    );
    timers.clear("advance");
    clock.advance(1000);
    assert.equal(moved, 0);
    assert.equal(clock.waiting(), 0);
  });

  test("named timers are independent: the thank-you timer does not stop the advance", () => {
    const clock = manualClock();
    const timers = new Timers(clock);
    const fired = [];
    timers.later("thanks", 3000, () => fired.push("thanks"));
    advanceAfterTap(
      timers,
      400,
      () => true,
      () => fired.push("advance"),
    );
    timers.later("thanks", 3000, () => fired.push("thanks again"));
    clock.advance(3000);
    assert.deepEqual(fired, ["advance", "thanks again"]);
  });
});
