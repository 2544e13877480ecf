// The counter tablet's survey, run entirely in the browser.
//
// `render(component)` draws it from `component.data` (questions of the next survey, labels, settings, and
// the tokens the server acknowledged) and sends one message, `component.setTriggerValue("sync", msg)`:
// surveys started (no answers) and surveys completed (whole, with their token), taken from the queue
// (queue.js). Two hosts call it: the tablet's own web app (standalone.js, served by tablet_web.py, which
// posts the message to /api/tablet/sync and keeps the queue in IndexedDB) and the staff preview, a
// Streamlit component (main.js).

import { el } from "./dom.js";
import { surveyPayload } from "./payload.js";
import { enrolDevice, enrolledDevice, messageBody, STOCK_LOW, SurveyQueue, shouldSend, TokenStock } from "./queue.js";
import {
  closedScreen,
  pausedScreen,
  phoneMessageScreen,
  questionScreen,
  thanksScreen,
  unenrolledScreen,
  welcomeScreen,
} from "./screens.js";
import { hmacHex } from "./sign.js";
import { findVoice, speak, spokenText } from "./speech.js";
import { advanceAfterTap, radioChecked, SETTLE_MS, TapGuard, Timers, tapAnswer, tapMulti } from "./taps.js";

// Module state survives re-renders (the function below runs on every server render).
const S = {
  comp: null,
  data: null,
  root: null,
  screenEl: null,
  phase: "loading", // welcome | survey | thanks | paused | closed
  survey: null, // {token, plan, answers, index, startedAt}
  timers: new Timers(window),
  queue: null,
  lastSend: 0,
  lastActivity: Date.now(),
  voice: null,
  acked: new Set(),
  guard: new TapGuard(),
};

// localStorage read at each use, so that a browser refusing storage fails inside queue.js's guards. The
// tablet's own app replaces it by its IndexedDB store (store.js) before the first render.
let storage = {
  getItem: (key) => window.localStorage.getItem(key),
  setItem: (key, value) => window.localStorage.setItem(key, value),
};

export function useStorage(store) {
  storage = store;
  S.queue = null;
  S.stock = null;
}

function outbox() {
  if (!S.queue) S.queue = new SurveyQueue(storage);
  return S.queue;
}

function stock() {
  if (!S.stock) S.stock = new TokenStock(storage);
  return S.stock;
}

// ------------------------------------------------------------------ sending and acknowledgements

// A logged-in staff member's preview ("Xem màn hình khảo sát"): the survey runs as on a tablet, but
// nothing leaves the browser or goes into its queue (no start, no token, no survey).
function previewing() {
  return Boolean(S.data?.preview);
}

// A citizen's own phone opened from a single-use QR code (/q/<code>): no tablet, no queue of many surveys;
// the one survey goes to the server with the code (standalone.js), under a token of this phone's own.
function onPhone() {
  return Boolean(S.data?.phone);
}

function applyAcks(acks) {
  if (!Array.isArray(acks) || !acks.length) return;
  for (const a of acks) S.acked.add(a);
  outbox().dropAcked(S.acked);
}

function sync(force, extra) {
  if (previewing() || onPhone()) return;
  const device = enrolledDevice(storage);
  if (!device) return; // not enrolled: nothing to send, and the server would refuse it
  const q = outbox().entries();
  const now = Date.now();
  if (!shouldSend({ force, now, lastSend: S.lastSend, inflight: S.inflight, queued: q.length > 0 })) return;
  S.lastSend = now;
  S.inflight = true;
  // Signed with the device secret: the server stores nothing a tablet it enrolled did not sign.
  // The single-use QR code for a phone, only where the screens show it (welcome, thank-you).
  const wants = { want_tokens: stock().size() < STOCK_LOW, want_qr: S.phase !== "survey" };
  const body = messageBody(q, now, device.name, Object.assign(wants, extra));
  const msg = { device: device.name, body, sig: hmacHex(device.secret, body) };
  try {
    S.comp.setTriggerValue("sync", msg);
  } catch (_e) {
    /* not connected: the timer sends it again */
  }
  showPending();
}

function showPending() {
  const mark = S.root.querySelector(".pending");
  const n = previewing() ? 0 : outbox().pendingSurveys().length;
  mark.hidden = n === 0;
  mark.textContent = n ? `• ${n} phiếu chờ gửi` : "";
}

// ------------------------------------------------------------------ screens

// Something new is visible: its controls are inert for SETTLE_MS (taps.js). data-settled says when
// they take taps (tests wait for it as a person's eyes would).
function newlyShown() {
  S.guard.shown(performance.now());
  S.root.setAttribute("data-settled", "0");
  S.timers.later("settle", SETTLE_MS, () => S.root.setAttribute("data-settled", "1"));
}

function setScreen(name, node) {
  // The same welcome, closed or paused screen drawn again with fresh data is not a new screen; drawn again
  // exactly as it is, it is left in place (a finger on "Thử lại" or "Bắt đầu" never loses its button to
  // an answer of the server arriving meanwhile).
  if (name === S.phase && name !== "survey" && S.screenEl.firstElementChild?.outerHTML === node.outerHTML) return;
  if (name !== S.phase || name === "survey") newlyShown();
  S.phase = name;
  S.root.setAttribute("data-screen", name);
  S.screenEl.replaceChildren(node);
  if (window.speechSynthesis && S.voice) window.speechSynthesis.cancel();
}

function welcome() {
  S.timers.clear("advance");
  S.timers.clear("thanks");
  S.survey = null;
  const d = S.data;
  if (onPhone()) return phoneWelcome(d);
  if (!previewing() && (!enrolledDevice(storage) || S.refused)) return setScreen("unenrolled", unenrolledScreen(d));
  if (d.paused) return paused();
  if (d.closed) return closed();
  setScreen("welcome", welcomeScreen(d, { start }));
}

function phoneWelcome(d) {
  const p = d.phone;
  if (p.result === "stored") return setScreen("thanks", thanksScreen(d, { home: welcome }));
  if (p.result === "sending") return setScreen("sending", phoneMessageScreen(d, d.texts.phone_sending));
  if (p.result === "offline") {
    return setScreen(
      "offline",
      phoneMessageScreen(d, d.texts.phone_offline, { retry: () => S.comp.setTriggerValue("submit", null) }),
    );
  }
  if (p.state !== "ok") return setScreen("qr-stop", phoneMessageScreen(d, p.message || d.texts.phone_stop_title));
  setScreen("welcome", welcomeScreen(d, { start }));
}

function closed() {
  setScreen("closed", closedScreen(S.data));
}

function paused() {
  setScreen("paused", pausedScreen(S.data, { retry: () => sync(true, { retry: true }) }));
}

function thanks() {
  const d = S.data;
  setScreen("thanks", thanksScreen(d, { home: welcome }));
  if (!onPhone()) S.timers.later("thanks", d.thanks_seconds * 1000, welcome);
}

function start() {
  const plan = S.data.plan;
  if (!plan?.screens.length) return;
  if (previewing() || onPhone()) {
    // A phone's token is its own (standalone.js keeps it with the code): a survey sent twice is stored once.
    const token = onPhone() ? S.data.phone.token : null;
    S.survey = { token, plan, answers: {}, index: 0, startedAt: Date.now(), taps: 0 };
    touch();
    return question();
  }
  const token = stock().take(); // issued by the server to this tablet, used once
  if (!token) {
    sync(true);
    return paused(); // no start token left (offline for too long): staff are asked to help
  }
  S.survey = { token, plan, answers: {}, index: 0, startedAt: Date.now(), taps: 0 };
  outbox().addStart(token, Date.now());
  touch();
  question(); // first: the start's message then goes from the survey screen (no next survey's data asked)
  sync(true);
}

function touch() {
  S.lastActivity = Date.now();
}

function listenButton(textFn) {
  if (!S.data.read_aloud || !S.voice) return null;
  return el("button", {
    type: "button",
    class: "btn btn-quiet btn-listen",
    text: "🔊 Nghe",
    "aria-label": "Nghe đọc câu hỏi",
    onclick: () => speak(window, S.voice, textFn()),
  });
}

const handlers = {
  answer,
  next,
  back,
  submit,
  cancel: askCancel,
  toggle(sc, value) {
    touch();
    const now = tapMulti(S.survey.answers[sc.id], value, sc.max);
    S.survey.answers[sc.id] = now;
    return now;
  },
  type(sc, text) {
    S.survey.answers[sc.id] = text;
    touch();
  },
};

function question() {
  const sv = S.survey;
  const screens = sv.plan.screens;
  const sc = screens[sv.index];
  const d = S.data;
  const q = {
    d,
    root: S.root,
    sc,
    index: sv.index,
    count: screens.length,
    answers: sv.answers,
    listen: listenButton(() => spokenText(sc, d.scale)),
  };
  setScreen("survey", questionScreen(q, handlers));
  S.root.setAttribute("data-question", sc.item ? `${sc.id}:${sc.item}` : sc.id);
}

function answer(sc, value) {
  // A second tap on the chosen answer keeps it (it never clears); another face changes it.
  touch();
  S.survey.answers = tapAnswer(S.survey.answers, sc, value);
  for (const b of S.screenEl.querySelectorAll('[role="radio"]')) {
    b.setAttribute("aria-checked", String(radioChecked(b.getAttribute("data-value"), value)));
  }
  const index = S.survey.index;
  advanceAfterTap(S.timers, S.data.advance_ms, () => S.phase === "survey" && S.survey?.index === index, next);
}

function next() {
  S.timers.clear("advance");
  touch();
  const sv = S.survey;
  if (sv.index < sv.plan.screens.length - 1) {
    sv.index += 1;
    question();
  }
}

function back() {
  S.timers.clear("advance");
  touch();
  if (S.survey.index > 0) {
    S.survey.index -= 1;
    question();
  }
}

function askCancel() {
  touch();
  S.timers.clear("advance");
  S.root.querySelector(".confirm").hidden = false;
  newlyShown();
  S.root.querySelector('[data-act="cancel-no"]').focus();
}

function closeConfirm() {
  const box = S.root.querySelector(".confirm");
  if (box.hidden) return;
  box.hidden = true;
  newlyShown();
}

// Every tap on the tablet goes through the guard first (capture phase): a phantom tap never reaches
// its control's handler.
function guardTaps(root) {
  const control = (target) => (target instanceof Element ? target.closest("button, a") : null);
  root.addEventListener("pointerdown", (e) => S.guard.pointerDown(control(e.target), e.timeStamp), true);
  root.addEventListener(
    "click",
    (e) => {
      const c = control(e.target);
      if (!c || !root.contains(c)) return;
      if (!S.guard.accept(c, e.clientX, e.clientY, e.timeStamp, e.detail > 0)) {
        e.preventDefault();
        e.stopImmediatePropagation();
      }
    },
    true,
  );
}

function submit() {
  const sv = S.survey;
  if (!sv) return;
  S.timers.clear("advance");
  if (previewing()) {
    S.survey = null;
    return thanks(); // a preview keeps nothing and sends nothing
  }
  if (onPhone()) {
    const payload = surveyPayload(sv, Date.now());
    S.survey = null;
    setScreen("sending", phoneMessageScreen(S.data, S.data.texts.phone_sending));
    S.comp.setTriggerValue("submit", payload); // standalone.js keeps it, sends it and draws the answer
    return;
  }
  // Keep it first (survives a reload, a dropped connection, a server restart), thank at once.
  outbox().putSurvey(sv.token, Date.now(), surveyPayload(sv, Date.now()));
  S.survey = null;
  thanks();
  sync(true);
}

// ------------------------------------------------------------------ idle and resend

function tick() {
  const d = S.data;
  if (!d) return;
  if (S.phase === "survey" && S.survey) {
    const sc = S.survey.plan.screens[S.survey.index];
    const typing = sc.kind === "comment" || sc.kind === "text";
    const limit = (typing ? d.comment_idle_seconds : d.idle_seconds) * 1000;
    if (Date.now() - S.lastActivity >= limit) {
      closeConfirm();
      welcome(); // counted as abandoned: the start was sent, no answers are kept
    }
  }
  if (outbox().entries().length) sync(false);
  if ((S.phase === "welcome" || S.phase === "closed" || S.phase === "paused") && Date.now() - S.lastSend > 60000) {
    sync(true); // refresh: opening hours, rotation, settings
  }
}

// ------------------------------------------------------------------ entry point

export function render(component) {
  const { data, parentElement } = component;
  S.comp = component;
  S.data = data;
  S.inflight = false; // the server answered (every run renders the component)
  const root = parentElement.querySelector(".kiosk");
  const fresh = root !== S.root;
  S.root = root;
  S.screenEl = root.querySelector(".screen");
  if (fresh) {
    guardTaps(root);
    root.querySelector('[data-act="cancel-yes"]').addEventListener("click", () => {
      closeConfirm();
      welcome();
    });
    root.querySelector('[data-act="cancel-no"]').addEventListener("click", () => {
      closeConfirm();
      touch();
    });
    if (!S.interval) S.interval = setInterval(tick, 1000);
    window.addEventListener("online", () => sync(true));
    S.voice = findVoice(window);
    if ("speechSynthesis" in window && !S.voice) {
      window.speechSynthesis.addEventListener("voiceschanged", () => {
        S.voice = findVoice(window);
      });
    }
  }
  root.classList.toggle("preview", previewing());
  const mark = root.querySelector(".preview-mark");
  mark.hidden = !previewing();
  mark.textContent = previewing() ? data.texts.preview : "";
  if (data.enrolled && !previewing()) enrolDevice(storage, data.enrolled, outbox());
  if (data.tokens?.length && !previewing()) stock().replace(data.tokens);
  S.refused = data.refused === "unknown-device" || data.refused === "revoked" || data.refused === "bad-signature";
  applyAcks(data.acks);
  showPending();
  if (fresh || S.phase === "loading") {
    welcome();
    if (outbox().entries().length || stock().size() < STOCK_LOW) sync(true);
  } else if (["welcome", "closed", "paused", "unenrolled"].includes(S.phase) || (onPhone() && S.phase !== "survey")) {
    welcome(); // settings, opening hours or a fault may have changed
  }
  root.setAttribute("data-ready", "1");
}
