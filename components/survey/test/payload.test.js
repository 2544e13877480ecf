// What a completed survey sends (src/payload.js), the server's contract: the extra questions of the
// version (plan.extra) go under `extra`, answered ones only.

import assert from "node:assert/strict";
import { test } from "node:test";
import { surveyPayload } from "../src/payload.js";

const plan = {
  questionnaire: "sipas-2024",
  asked: ["TC1", "TC2", "TC3"],
  extra: ["harassment", "informal_payment", "expectations", "gender", "age_group", "ethnicity", "note"],
  screens: [],
};

function survey(answers) {
  return { token: "tok-1", plan, answers, startedAt: 10_000 };
}

test("the fixed fields stay at the top; the extra questions' answers go under extra", () => {
  const p = surveyPayload(
    survey({
      TC1: 5,
      TC2: null,
      overall: 4,
      wait_bucket: "lt15",
      field: "Hộ tịch",
      staff_code: "CB01",
      comment: "  Cán bộ tận tình.  ",
      harassment: "no",
      informal_payment: 2,
      expectations: { MM1: 4, MM7: 1 },
      gender: "Nữ",
      note: "  Ghi chú  ",
    }),
    52_345,
  );
  assert.deepEqual(p, {
    token: "tok-1",
    questionnaire: "sipas-2024",
    asked: ["TC1", "TC2", "TC3"],
    answers: { TC1: 5, TC2: null, TC3: null },
    overall: 4,
    wait_bucket: "lt15",
    field: "Hộ tịch",
    staff_code: "CB01",
    comment: "Cán bộ tận tình.",
    extra: {
      harassment: "no",
      informal_payment: 2,
      expectations: { MM1: 4, MM7: 1 },
      gender: "Nữ",
      note: "Ghi chú",
    },
    duration_seconds: 42.3,
  });
});

test("no hard-coded top-level harassment, demographics or expectations any more", () => {
  const p = surveyPayload(survey({ harassment: "yes", gender: "Nam", occupation: "Nông dân" }), 10_000);
  for (const old of [
    "harassment",
    "informal_payment",
    "expectations",
    "gender",
    "age_group",
    "education",
    "ethnicity",
    "occupation",
  ])
    assert.equal(Object.hasOwn(p, old), false, old);
  assert.deepEqual(p.extra, { harassment: "yes", gender: "Nam" }); // occupation: not in plan.extra
});

test("empty answers are left out: skipped, an empty grid, no option chosen, blank text", () => {
  const p = surveyPayload(
    survey({ harassment: null, expectations: {}, gender: [], age_group: undefined, note: "   " }),
    10_000,
  );
  assert.deepEqual(p.extra, {});
});

test("a multiple choice is sent as its list; a zero is an answer", () => {
  const p = surveyPayload(survey({ expectations: ["Rút ngắn thời gian"], informal_payment: 0 }), 10_000);
  assert.deepEqual(p.extra, { expectations: ["Rút ngắn thời gian"], informal_payment: 0 });
});

test("a plan without extra (an older server) sends an empty extra", () => {
  const p = surveyPayload({ ...survey({ harassment: "no" }), plan: { ...plan, extra: undefined } }, 10_000);
  assert.deepEqual(p.extra, {});
  assert.equal(p.overall, null);
  assert.equal(p.comment, null);
});
