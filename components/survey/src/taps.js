// What a tap does to the answers, and the named timers behind the automatic advance. No DOM here:
// answers are plain objects and the timers take the clock they run on (window's in the browser).

// Whether an answer object holds `key` (even a null answer: "Không ý kiến").
export function has(answers, key) {
  // biome-ignore lint/suspicious/noPrototypeBuiltins: Object.hasOwn needs Chrome 93; older tablets stay supported.
  return Object.prototype.hasOwnProperty.call(answers, key);
}

// The answer a screen shows as chosen: undefined when none was given, null for "Không ý kiến".
export function selectedAnswer(answers, sc) {
  if (sc.item) {
    // One item of a question asked item by item (sipas-2024, Câu 10): answers[id] is item -> value.
    const given = answers[sc.id] || {};
    return has(given, sc.item) ? given[sc.item] : undefined;
  }
  return has(answers, sc.id) ? answers[sc.id] : undefined;
}

// The answers after a tap on `value`. A second tap on the chosen answer keeps it (it never clears);
// another one changes it.
export function tapAnswer(answers, sc, value) {
  const out = Object.assign({}, answers);
  if (sc.item) {
    const given = Object.assign({}, answers[sc.id] || {});
    if (value === null)
      delete given[sc.item]; // "Bỏ qua": the item is not answered
    else given[sc.item] = value;
    out[sc.id] = given;
  } else out[sc.id] = value;
  return out;
}

// The options chosen after a tap on one of a multiple-choice question: a second tap unchooses it; a
// tap beyond the question's maximum does nothing.
export function tapMulti(chosen, value, max) {
  let now = (chosen || []).slice();
  if (now.includes(value)) now = now.filter((x) => x !== value);
  else if (now.length < (max || 99)) now.push(value);
  return now;
}

// Whether a radio button (its data-value) shows as chosen for `value` ("none" stands for null).
export function radioChecked(dataValue, value) {
  return value === null ? dataValue === "none" : dataValue === String(value);
}

// Named one-shot timers: setting one again restarts it.
export class Timers {
  constructor(clock) {
    this.clock = clock; // {setTimeout, clearTimeout}
    this.pending = {};
  }

  clear(name) {
    if (this.pending[name]) {
      this.clock.clearTimeout(this.pending[name]);
      delete this.pending[name];
    }
  }

  later(name, ms, fn) {
    this.clear(name);
    this.pending[name] = this.clock.setTimeout(() => {
      delete this.pending[name];
      fn();
    }, ms);
  }
}

// After a tap, the survey moves on by itself `ms` later, unless by then it has left that screen
// (Quay lại, Hủy, idle) or another tap restarted the wait.
export function advanceAfterTap(timers, ms, stillOn, next) {
  timers.later("advance", ms, () => {
    if (stillOn()) next();
  });
}

// ------------------------------------------------------------------ phantom taps

// A tap counts only when the finger went down and up on the same control, after its screen had been
// visible SETTLE_MS (a double tap that changed the screen never answers the next one unseen); a tap
// again on the same spot within REPEAT_MS of the last one is the same tap.
export const SETTLE_MS = 350;
export const REPEAT_MS = 600;
export const SAME_SPOT_PX = 40;

export class TapGuard {
  constructor() {
    this.shownAt = Number.NEGATIVE_INFINITY;
    this.down = null; // {control, at}
    this.last = null; // {x, y, at}: the last tap, counted or taken as its repeat
  }

  // A new screen (or a dialog over it) became visible at `at`.
  shown(at) {
    this.shownAt = at;
    this.down = null;
  }

  settled(at) {
    return at - this.shownAt >= SETTLE_MS;
  }

  pointerDown(control, at) {
    this.down = control ? { control, at } : null;
  }

  // Whether a click on `control` at (x, y) counts. `pointer`: it came from a finger or a mouse (a
  // keyboard's Enter has no pointer, and then only the settle and repeat rules apply).
  accept(control, x, y, at, pointer) {
    const down = this.down;
    this.down = null;
    const began = pointer ? down?.at : at;
    if (pointer && (!down || down.control !== control)) return false;
    if (began - this.shownAt < SETTLE_MS) return false;
    const last = this.last;
    if (last && began - last.at < REPEAT_MS && Math.hypot(x - last.x, y - last.y) <= SAME_SPOT_PX) {
      last.at = began; // a burst of taps on one spot is one tap
      return false;
    }
    this.last = { x, y, at: began };
    return true;
  }
}
