// What a tap does (src/taps.js): the answers it leaves, and the automatic advance on a manual clock.

import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  advanceAfterTap,
  REPEAT_MS,
  radioChecked,
  SETTLE_MS,
  selectedAnswer,
  TapGuard,
  Timers,
  tapAnswer,
  tapMulti,
} from "../src/taps.js";

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

describe("TapGuard: no phantom taps", () => {
  // A tap: finger down at `at`, up 60 ms later on `upOn` (the same control unless said).
  function tap(g, control, at, { x = 100, y = 100, upOn = control } = {}) {
    g.pointerDown(control, at);
    return g.accept(upOn, x, y, at + 60, true);
  }

  test("the thresholds are about 350 ms and 600 ms", () => {
    assert.equal(SETTLE_MS, 350);
    assert.equal(REPEAT_MS, 600);
  });

  test("a tap counts only once its screen has been visible 350 ms", () => {
    const g = new TapGuard();
    g.shown(1000);
    assert.equal(tap(g, "start", 1080), false); // 80 ms: a double tap's second touch
    assert.equal(tap(g, "start", 1250, { x: 300 }), false);
    assert.equal(tap(g, "start", 1350, { x: 500 }), true);
  });

  test("a double tap that changes the screen never answers the next screen (80, 250, 550 ms)", () => {
    for (const gap of [80, 250, 550]) {
      const g = new TapGuard();
      g.shown(0);
      assert.equal(tap(g, "start", 1000), true, `first tap, gap ${gap}`);
      g.shown(1060); // the tap showed the first question at once
      assert.equal(tap(g, "face-3", 1000 + gap), false, `second tap ${gap} ms later`);
    }
  });

  test("a slow double tap on a face: the next question appears after 400 ms and stays unanswered", () => {
    const g = new TapGuard();
    g.shown(0);
    assert.equal(tap(g, "face-4", 2000), true);
    g.shown(2460); // automatic advance
    for (const gap of [80, 250, 550]) assert.equal(tap(g, "face-4b", 2000 + gap), false, `${gap} ms`);
    assert.equal(tap(g, "face-4b", 2900), true); // a real, later tap on the new question
  });

  test("a repeated tap on the same spot within 600 ms is one tap; elsewhere it is another", () => {
    const g = new TapGuard();
    g.shown(0);
    assert.equal(tap(g, "a", 1000), true);
    assert.equal(tap(g, "a", 1550), false); // same spot, 550 ms
    assert.equal(tap(g, "b", 1700, { x: 400 }), true); // another spot
    assert.equal(tap(g, "b", 2400, { x: 400 }), true); // 700 ms after: a new tap
  });

  test("down on one control and up on another is no tap (a finger sliding)", () => {
    const g = new TapGuard();
    g.shown(0);
    assert.equal(tap(g, "face-1", 1000, { upOn: "face-2" }), false);
    assert.equal(g.accept("face-2", 100, 100, 2000, true), false); // an up with no down
  });

  test("a keyboard press (no pointer) still waits for the screen to settle", () => {
    const g = new TapGuard();
    g.shown(0);
    assert.equal(g.accept("start", 0, 0, 100, false), false);
    assert.equal(g.accept("start", 0, 0, 400, false), true);
  });
});
