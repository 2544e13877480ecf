// The counter tablet's survey, run entirely in the browser (st.components.v2).
//
// The server passes everything as `data` (questions of the next survey, labels, settings, and the
// tokens it has acknowledged); this code never puts data into HTML: every text goes in through
// textContent / attributes. One trigger, "sync", goes to the server: surveys started (no answers)
// and surveys completed (whole, with their token), taken from a localStorage queue. An entry
// leaves the queue only when the server acknowledges its token, so a dropped connection, a reload
// or a server restart loses nothing, and a survey sent twice is stored once (unique token).

const QUEUE_KEY = "sipas.kiosk.queue.v1";
const TABLET_KEY = "sipas.kiosk.tablet";
const RESEND_MS = 4000; // resend pending entries this often once the last send was answered
const LOST_MS = 30000; // a send with no render back for this long is taken as lost

// Module state survives re-renders (the function below runs on every server render).
const S = {
  comp: null,
  data: null,
  root: null,
  screenEl: null,
  phase: "loading", // welcome | survey | thanks | paused | closed
  survey: null, // {token, plan, answers, index, startedAt}
  timers: {},
  lastSend: 0,
  lastActivity: Date.now(),
  voice: null,
  acked: new Set(),
};

// ------------------------------------------------------------------ small helpers

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) if (c) node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
  return node;
}

function uuid4() {
  // crypto.randomUUID needs a secure context (https); a LAN tablet uses plain http.
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function loadQueue() {
  try {
    const q = JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]");
    return Array.isArray(q) ? q : [];
  } catch (e) {
    return [];
  }
}

function saveQueue(q) {
  try {
    localStorage.setItem(QUEUE_KEY, JSON.stringify(q));
  } catch (e) {
    /* storage full: the entry stays in memory until sent */
  }
  S.memQueue = q;
}

function queue() {
  const q = loadQueue();
  return q.length || !S.memQueue ? q : S.memQueue;
}

function tabletId() {
  let id = null;
  try {
    id = localStorage.getItem(TABLET_KEY);
    if (!id) {
      id = uuid4().slice(0, 8);
      localStorage.setItem(TABLET_KEY, id);
    }
  } catch (e) {
    id = "khong-luu";
  }
  return id;
}

function clearTimer(name) {
  if (S.timers[name]) {
    clearTimeout(S.timers[name]);
    delete S.timers[name];
  }
}

function later(name, ms, fn) {
  clearTimer(name);
  S.timers[name] = setTimeout(() => {
    delete S.timers[name];
    fn();
  }, ms);
}

function faceSvg(value) {
  const src = S.root.querySelector(`.faces-src [data-face="${value}"]`);
  const holder = el("span", { class: "img", "aria-hidden": "true" });
  if (src) holder.appendChild(src.firstElementChild.cloneNode(true));
  return holder;
}

// ------------------------------------------------------------------ sending and acknowledgements

function pendingSurveys() {
  return queue().filter((e) => e.survey);
}

function applyAcks(acks) {
  if (!Array.isArray(acks) || !acks.length) return;
  for (const a of acks) S.acked.add(a);
  const q = queue();
  const kept = q.filter((e) => {
    if (e.survey) return !S.acked.has("r:" + e.token);
    return !S.acked.has("s:" + e.token) && !S.acked.has("r:" + e.token);
  });
  if (kept.length !== q.length) saveQueue(kept);
}

function sync(force, extra) {
  const q = queue();
  const now = Date.now();
  if (!force && now - S.lastSend < RESEND_MS) return;
  if (!q.length && !force) return;
  // One message at a time: while the server is still working on the last one (a locked database
  // waits its busy timeout), a new one would only interrupt it and the tablet would never hear back.
  if (!force && S.inflight && now - S.lastSend < LOST_MS) return;
  S.lastSend = now;
  S.inflight = true;
  const starts = q.filter((e) => !e.survey).map((e) => ({ token: e.token, ago_ms: now - e.at }));
  const surveys = q
    .filter((e) => e.survey)
    .map((e) => Object.assign({}, e.survey, { completed_ago_ms: now - e.at }));
  const msg = Object.assign(
    { starts, surveys, pending: surveys.length, tablet: tabletId(), sent_at: now },
    extra || {},
  );
  try {
    S.comp.setTriggerValue("sync", msg);
  } catch (e) {
    /* not connected: the timer sends it again */
  }
  showPending();
}

function showPending() {
  const mark = S.root.querySelector(".pending");
  const n = pendingSurveys().length;
  mark.hidden = n === 0;
  mark.textContent = n ? `• ${n}` : "";
  if (n) mark.setAttribute("aria-label", `${n} phiếu chờ gửi`);
  else mark.removeAttribute("aria-label");
}

// ------------------------------------------------------------------ read aloud

function findVoice() {
  if (!("speechSynthesis" in window)) return null;
  const voices = window.speechSynthesis.getVoices() || [];
  return voices.find((v) => (v.lang || "").toLowerCase().startsWith("vi")) || null;
}

function speak(text) {
  if (!S.voice) return;
  window.speechSynthesis.cancel();
  const u = new SpeechSynthesisUtterance(text);
  u.voice = S.voice;
  u.lang = S.voice.lang;
  u.rate = 0.9;
  window.speechSynthesis.speak(u);
}

function listenButton(textFn) {
  if (!S.data.read_aloud || !S.voice) return null;
  return el("button", {
    type: "button",
    class: "btn btn-quiet btn-listen",
    text: "🔊 Nghe",
    "aria-label": "Nghe đọc câu hỏi",
    onclick: () => speak(textFn()),
  });
}

// ------------------------------------------------------------------ screens

function setScreen(name, node) {
  S.phase = name;
  S.root.setAttribute("data-screen", name);
  S.screenEl.replaceChildren(node);
  if (window.speechSynthesis && S.voice) window.speechSynthesis.cancel();
}

function welcome() {
  clearTimer("advance");
  clearTimer("thanks");
  S.survey = null;
  const d = S.data;
  if (d.paused) return paused();
  if (d.closed) return closed();
  const kids = [
    el("h1", { class: "title", text: d.texts.welcome_title }),
    el("p", { class: "lead" }, el("strong", { text: d.unit }), " " + d.texts.welcome_lead),
    el("p", { class: "lead", text: d.promise }),
    el("button", {
      type: "button",
      class: "btn btn-big btn-primary start",
      text: d.texts.start,
      "data-act": "start",
      onclick: start,
    }),
    el("p", { class: "note", text: d.texts.anonymous }),
  ];
  if (d.summary && d.summary.length) {
    const box = el("div", { class: "summary" }, el("p", {}, el("strong", { text: d.texts.summary_title })));
    for (const line of d.summary) box.appendChild(el("p", { text: "• " + line }));
    kids.push(box);
  }
  const center = el("div", { class: "center" }, ...kids);
  const wrap = el("div", { class: "center" }, center);
  if (d.login) wrap.appendChild(el("a", { class: "login", href: "login", text: d.texts.login }));
  setScreen("welcome", wrap);
}

function closed() {
  const d = S.data;
  setScreen(
    "closed",
    el(
      "div",
      { class: "center" },
      el("h1", { class: "title", text: d.texts.closed_title }),
      el("p", { class: "lead" }, el("strong", { text: d.unit }), " " + d.texts.closed_lead),
      d.login ? el("a", { class: "login", href: "login", text: d.texts.login }) : null,
    ),
  );
}

function paused() {
  const d = S.data;
  setScreen(
    "paused",
    el(
      "div",
      { class: "center" },
      el("h1", { class: "title", text: d.texts.paused_title }),
      el("p", { class: "lead", text: d.texts.paused_lead }),
      el("button", {
        type: "button",
        class: "btn btn-big btn-primary",
        text: d.texts.retry,
        onclick: () => sync(true, { retry: true }),
      }),
    ),
  );
}

function thanks() {
  const d = S.data;
  setScreen(
    "thanks",
    el(
      "div",
      { class: "center" },
      el("h1", { class: "title", text: d.texts.thanks_title }),
      el("p", { class: "lead", text: d.texts.thanks_lead }),
      el("button", { type: "button", class: "btn btn-big", text: d.texts.home, onclick: welcome }),
    ),
  );
  later("thanks", d.thanks_seconds * 1000, welcome);
}

function start() {
  const plan = S.data.plan;
  if (!plan || !plan.screens.length) return;
  const token = uuid4();
  S.survey = { token, plan, answers: {}, index: 0, startedAt: Date.now(), taps: 0 };
  const q = queue();
  q.push({ token, at: Date.now(), survey: null });
  saveQueue(q);
  sync(true);
  touch();
  question();
}

function touch() {
  S.lastActivity = Date.now();
}

function progress(i, n) {
  const pct = Math.round(((i + 1) / n) * 100);
  return el(
    "div",
    { class: "progress" },
    el("div", { class: "progress-text", text: `Câu ${i + 1}/${n}` }),
    el(
      "div",
      {
        class: "bar",
        role: "progressbar",
        "aria-label": "Tiến độ",
        "aria-valuemin": "0",
        "aria-valuemax": String(n),
        "aria-valuenow": String(i + 1),
      },
      el("span", { style: `width:${pct}%` }),
    ),
  );
}

function question() {
  const sv = S.survey;
  const screens = sv.plan.screens;
  const sc = screens[sv.index];
  const d = S.data;
  const listen = listenButton(() => {
    const parts = [sc.text];
    if (sc.kind === "scale") for (const s of d.scale) parts.push(s.label);
    else if (sc.options) for (const o of sc.options) parts.push(o.label);
    return parts.join(". ");
  });
  const top = el(
    "div",
    { class: "top" },
    progress(sv.index, screens.length),
    listen,
    el("button", { type: "button", class: "btn btn-quiet", text: d.texts.cancel, "data-act": "cancel", onclick: askCancel }),
  );
  const body = el("div", { class: "body" });
  if (sc.heading) body.appendChild(el("h2", { class: "element", text: sc.heading }));
  if (sc.topic) body.appendChild(el("p", { class: "topic", text: sc.topic }));
  body.appendChild(el("p", { class: "question", id: "q-text", text: sc.text }));
  if (sc.kind === "scale") body.appendChild(scale(sc));
  else if (sc.kind === "choice") body.appendChild(choice(sc));
  else if (sc.kind === "multi") body.appendChild(multi(sc));
  else if (sc.kind === "comment") body.appendChild(comment(sc));

  const bottom = el("div", { class: "bottom" });
  if (sv.index > 0)
    bottom.appendChild(
      el("button", { type: "button", class: "btn btn-big", text: d.texts.back, "data-act": "back", onclick: back }),
    );
  bottom.appendChild(el("span", { class: "spacer" }));
  if (sc.kind === "choice" && sc.skip)
    bottom.appendChild(el("button", { type: "button", class: "btn btn-big btn-quiet", text: sc.skip, onclick: () => answer(sc, null) }));
  if (sc.kind === "multi")
    bottom.appendChild(el("button", { type: "button", class: "btn btn-big btn-primary", text: d.texts.next, onclick: next }));
  if (sc.kind === "comment")
    bottom.appendChild(
      el("button", { type: "button", class: "btn btn-big btn-primary", text: d.texts.submit, "data-act": "submit", onclick: submit }),
    );
  setScreen("survey", el("div", { class: "screen-inner", style: "display:contents" }, top, body, bottom));
  S.root.setAttribute("data-question", sc.item ? `${sc.id}:${sc.item}` : sc.id);
}

function selected(sc) {
  const a = S.survey.answers;
  if (sc.item) {
    // One item of a question asked item by item (sipas-2024, Câu 10): answers[id] is item -> value.
    const given = a[sc.id] || {};
    return Object.prototype.hasOwnProperty.call(given, sc.item) ? given[sc.item] : undefined;
  }
  return Object.prototype.hasOwnProperty.call(a, sc.id) ? a[sc.id] : undefined;
}

function scale(sc) {
  const d = S.data;
  const current = selected(sc);
  const wrap = el("div", { class: "scale" });
  const row = el("div", { class: "faces", role: "radiogroup", "aria-labelledby": "q-text" });
  for (const s of d.scale) {
    const b = el(
      "button",
      {
        type: "button",
        class: "btn face",
        role: "radio",
        "aria-checked": String(current === s.value),
        "aria-label": s.label,
        "data-value": String(s.value),
        onclick: () => answer(sc, s.value),
      },
      faceSvg(s.value),
      el("span", { class: "label", text: s.label }),
      el("span", { class: "tick", text: "✔", "aria-hidden": "true" }),
    );
    row.appendChild(b);
  }
  wrap.appendChild(row);
  const none = el("button", {
    type: "button",
    class: "btn btn-big no-opinion",
    role: "radio",
    "aria-checked": String(current === null),
    text: d.no_opinion,
    "data-value": "none",
    onclick: () => answer(sc, null),
  });
  const holder = el("div", { style: "display:flex;justify-content:center;margin-top:clamp(8px,2vmin,28px)" }, none);
  wrap.appendChild(holder);
  return wrap;
}

function choice(sc) {
  const current = selected(sc);
  const list = el("div", {
    class: "options" + (sc.options.length > 5 ? " two" : ""),
    role: "radiogroup",
    "aria-labelledby": "q-text",
  });
  for (const o of sc.options) {
    const kids = [el("span", { class: "mark", "aria-hidden": "true" })];
    if (o.photo) kids.push(el("img", { src: o.photo, alt: "" }));
    kids.push(el("span", { text: o.label }));
    list.appendChild(
      el(
        "button",
        {
          type: "button",
          class: "btn option",
          role: "radio",
          "aria-checked": String(current === o.value),
          "data-value": o.value === null ? "none" : String(o.value),
          onclick: () => answer(sc, o.value),
        },
        ...kids,
      ),
    );
  }
  return list;
}

function multi(sc) {
  const list = el("div", { class: "options" + (sc.options.length > 5 ? " two" : ""), role: "group", "aria-labelledby": "q-text" });
  const chosen = () => S.survey.answers[sc.id] || [];
  for (const o of sc.options) {
    const b = el(
      "button",
      {
        type: "button",
        class: "btn option multi",
        role: "checkbox",
        "aria-checked": String(chosen().includes(o.value)),
        onclick: () => {
          touch();
          let now = chosen().slice();
          if (now.includes(o.value)) now = now.filter((x) => x !== o.value);
          else if (now.length < (sc.max || 99)) now.push(o.value);
          S.survey.answers[sc.id] = now;
          for (const btn of list.children) btn.setAttribute("aria-checked", String(now.includes(btn.__value)));
        },
      },
      el("span", { class: "mark", "aria-hidden": "true" }),
      el("span", { text: o.label }),
    );
    b.__value = o.value;
    list.appendChild(b);
  }
  return list;
}

function comment(sc) {
  const box = el("textarea", {
    maxlength: String(sc.max || 2000),
    "aria-labelledby": "q-text",
    placeholder: sc.placeholder || "",
    rows: "4",
  });
  box.value = S.survey.answers[sc.id] || "";
  box.addEventListener("input", () => {
    S.survey.answers[sc.id] = box.value;
    touch();
  });
  return box;
}

function answer(sc, value) {
  // A second tap on the chosen answer keeps it (it never clears); another face changes it.
  touch();
  if (sc.item) {
    const given = Object.assign({}, S.survey.answers[sc.id] || {});
    if (value === null) delete given[sc.item]; // "Bỏ qua": the item is not answered
    else given[sc.item] = value;
    S.survey.answers[sc.id] = given;
  } else S.survey.answers[sc.id] = value;
  const screen = S.screenEl;
  for (const b of screen.querySelectorAll('[role="radio"]')) {
    const v = b.getAttribute("data-value");
    const mine = value === null ? v === "none" : v === String(value);
    b.setAttribute("aria-checked", String(mine));
  }
  const index = S.survey.index;
  later("advance", S.data.advance_ms, () => {
    if (S.phase === "survey" && S.survey && S.survey.index === index) next();
  });
}

function next() {
  clearTimer("advance");
  touch();
  const sv = S.survey;
  if (sv.index < sv.plan.screens.length - 1) {
    sv.index += 1;
    question();
  }
}

function back() {
  clearTimer("advance");
  touch();
  if (S.survey.index > 0) {
    S.survey.index -= 1;
    question();
  }
}

function askCancel() {
  touch();
  clearTimer("advance");
  S.root.querySelector(".confirm").hidden = false;
  S.root.querySelector('[data-act="cancel-no"]').focus();
}

function closeConfirm() {
  S.root.querySelector(".confirm").hidden = true;
}

function expectationsAnswer(v) {
  // Options chosen (a list), or item -> level (an object); nothing chosen is no answer.
  if (Array.isArray(v)) return v.length ? v : null;
  return v && Object.keys(v).length ? v : null;
}

function submit() {
  const sv = S.survey;
  if (!sv) return;
  clearTimer("advance");
  const a = sv.answers;
  const plan = sv.plan;
  const answers = {};
  for (const code of plan.asked) answers[code] = Object.prototype.hasOwnProperty.call(a, code) ? a[code] : null;
  const text = (a.comment || "").trim();
  const payload = {
    token: sv.token,
    questionnaire: plan.questionnaire,
    asked: plan.asked,
    answers,
    overall: a.overall ?? null,
    harassment: a.harassment ?? null,
    informal_payment: a.informal_payment ?? null,
    wait_bucket: a.wait_bucket ?? null,
    field: a.field ?? null,
    staff_code: a.staff_code ?? null,
    comment: text || null,
    expectations: expectationsAnswer(a.expectations),
    gender: a.gender ?? null,
    age_group: a.age_group ?? null,
    education: a.education ?? null,
    ethnicity: a.ethnicity ?? null,
    occupation: a.occupation ?? null,
    duration_seconds: Math.round((Date.now() - sv.startedAt) / 100) / 10,
  };
  // Keep it first (survives a reload, a dropped connection, a server restart), thank at once.
  const q = queue().filter((e) => e.token !== sv.token);
  q.push({ token: sv.token, at: Date.now(), survey: payload });
  saveQueue(q);
  S.survey = null;
  thanks();
  sync(true);
}

// ------------------------------------------------------------------ Streamlit's own words

// The page around the component is Streamlit's: its few English words (the skip link for
// keyboard users) are said in Vietnamese on the tablet.
const PAGE_WORDS = { "Skip to main content": "Chuyển đến nội dung chính" };

function vietnamesePage() {
  if (document.documentElement.lang !== "vi") document.documentElement.lang = "vi";
  for (const a of document.querySelectorAll("a, button")) {
    if (S.root && S.root.contains(a)) continue;
    const t = (a.textContent || "").trim();
    if (PAGE_WORDS[t]) a.textContent = PAGE_WORDS[t];
    const label = a.getAttribute("aria-label");
    if (label && PAGE_WORDS[label]) a.setAttribute("aria-label", PAGE_WORDS[label]);
  }
}

// ------------------------------------------------------------------ idle and resend

function tick() {
  vietnamesePage();
  const d = S.data;
  if (!d) return;
  if (S.phase === "survey" && S.survey) {
    const sc = S.survey.plan.screens[S.survey.index];
    const limit = (sc.kind === "comment" ? d.comment_idle_seconds : d.idle_seconds) * 1000;
    if (Date.now() - S.lastActivity >= limit) {
      closeConfirm();
      welcome(); // counted as abandoned: the start was sent, no answers are kept
    }
  }
  if (queue().length) sync(false);
  if ((S.phase === "welcome" || S.phase === "closed" || S.phase === "paused") && Date.now() - S.lastSend > 60000) {
    sync(true); // refresh: opening hours, rotation, settings
  }
}

// ------------------------------------------------------------------ entry point

export default function (component) {
  const { data, parentElement } = component;
  S.comp = component;
  S.data = data;
  S.inflight = false; // the server answered (every run renders the component)
  const root = parentElement.querySelector(".kiosk");
  const fresh = root !== S.root;
  S.root = root;
  S.screenEl = root.querySelector(".screen");
  if (fresh) {
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
    S.voice = findVoice();
    if ("speechSynthesis" in window && !S.voice) {
      window.speechSynthesis.addEventListener("voiceschanged", () => {
        S.voice = findVoice();
      });
    }
  }
  applyAcks(data.acks);
  showPending();
  if (fresh || S.phase === "loading") {
    welcome();
    if (queue().length) sync(true);
  } else if (S.phase === "welcome" || S.phase === "closed" || S.phase === "paused") {
    welcome(); // settings, opening hours or a fault may have changed
  }
  vietnamesePage();
  root.setAttribute("data-ready", "1");
}
