// What a completed survey sends: built from the plan the server sent and the answers given.

import { has } from "./taps.js";

// An answer worth sending, or null: nothing chosen, an empty grid, a blank text are no answer
// (a text is sent trimmed).
export function givenAnswer(v) {
  if (v === null || v === undefined) return null;
  if (Array.isArray(v)) return v.length ? v : null;
  if (typeof v === "string") return v.trim() || null;
  if (typeof v === "object") return Object.keys(v).length ? v : null;
  return v;
}

// The version's extra questions (plan.extra) that were answered: code -> answer (an item grid as
// {item: level}, a multiple choice as a list); the others are left out.
export function extraAnswers(plan, answers) {
  const out = {};
  for (const code of plan.extra || []) {
    const v = has(answers, code) ? givenAnswer(answers[code]) : null;
    if (v !== null) out[code] = v;
  }
  return out;
}

export function surveyPayload(survey, now) {
  const a = survey.answers;
  const plan = survey.plan;
  const answers = {};
  for (const code of plan.asked) answers[code] = has(a, code) ? a[code] : null;
  const text = (a.comment || "").trim();
  return {
    token: survey.token,
    questionnaire: plan.questionnaire,
    asked: plan.asked,
    answers,
    overall: a.overall ?? null,
    wait_bucket: a.wait_bucket ?? null,
    field: a.field ?? null,
    staff_code: a.staff_code ?? null,
    comment: text || null,
    extra: extraAnswers(plan, a),
    duration_seconds: Math.round((now - survey.startedAt) / 100) / 10,
  };
}
