// The survey's screens, built from the data the server sent. They hold no state: what a tap does
// is the handlers' business (main.js), so a screen is drawn again the same way from the same answers.

import { el, faceSvg } from "./dom.js";
import { selectedAnswer } from "./taps.js";

// "Đánh giá trên điện thoại của Ông/Bà": the single-use code the server gave this tablet (an image of an
// SVG the server drew, never markup put into the page).
export function qrBox(d) {
  if (!d.qr?.svg || d.preview) return null;
  return el(
    "div",
    { class: "qr-box", "data-qr": d.qr.url || "" },
    el("img", {
      class: "qr-img",
      alt: d.texts.qr_title,
      src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(d.qr.svg)}`,
    }),
    el("div", { class: "qr-text" }, el("strong", { text: d.texts.qr_title }), el("p", { text: d.texts.qr_lead })),
  );
}

export function welcomeScreen(d, on) {
  const kids = [
    el("h1", { class: "title", text: d.texts.welcome_title }),
    el("p", { class: "lead" }, el("strong", { text: d.unit }), ` ${d.texts.welcome_lead}`),
    el("p", { class: "lead", text: d.promise }),
    el("button", {
      type: "button",
      class: "btn btn-big btn-primary start",
      text: d.texts.start,
      "data-act": "start",
      onclick: on.start,
    }),
    el("p", { class: "note", text: d.texts.anonymous }),
    d.phone ? null : qrBox(d),
  ];
  if (d.summary?.length) {
    const box = el("div", { class: "summary" }, el("p", {}, el("strong", { text: d.texts.summary_title })));
    for (const line of d.summary) box.appendChild(el("p", { text: `• ${line}` }));
    kids.push(box);
  }
  const center = el("div", { class: "center" }, ...kids);
  const wrap = el("div", { class: "center" }, center);
  if (d.login) wrap.appendChild(el("a", { class: "login", href: "/login", text: d.texts.login }));
  return wrap;
}

export function closedScreen(d) {
  return el(
    "div",
    { class: "center" },
    el("h1", { class: "title", text: d.texts.closed_title }),
    el("p", { class: "lead" }, el("strong", { text: d.unit }), ` ${d.texts.closed_lead}`),
    d.hours ? el("p", { class: "lead hours", text: d.hours }) : null,
    d.login ? el("a", { class: "login", href: "/login", text: d.texts.login }) : null,
  );
}

// A browser that is not an enrolled tablet (or a revoked one): it never runs a survey.
export function unenrolledScreen(d) {
  return el(
    "div",
    { class: "center" },
    el("h1", { class: "title", text: d.texts.unenrolled_title }),
    el("p", { class: "lead", text: d.enrol_failed ? d.texts.enrol_failed : d.texts.unenrolled_lead }),
    d.login ? el("a", { class: "login", href: "/login", text: d.texts.login }) : null,
  );
}

export function pausedScreen(d, on) {
  return el(
    "div",
    { class: "center" },
    el("h1", { class: "title", text: d.texts.paused_title }),
    el("p", { class: "lead", text: d.texts.paused_lead }),
    el("button", { type: "button", class: "btn btn-big btn-primary", text: d.texts.retry, onclick: on.retry }),
  );
}

export function thanksScreen(d, on) {
  if (d.phone) {
    // On a citizen's own phone the survey is done: nothing to go back to, the code is used.
    return el(
      "div",
      { class: "center" },
      el("h1", { class: "title", text: d.texts.thanks_title }),
      el("p", { class: "lead", text: d.texts.phone_done }),
    );
  }
  return el(
    "div",
    { class: "center" },
    el("h1", { class: "title", text: d.texts.thanks_title }),
    el("p", { class: "lead", text: d.texts.thanks_lead }),
    el("button", { type: "button", class: "btn btn-big", text: d.texts.home, onclick: on.home }),
    qrBox(d),
  );
}

// A single-use code that cannot be used (used, expired, unknown) or a phone's survey the server refused:
// the server's Vietnamese sentence, as text.
export function phoneMessageScreen(d, message, on) {
  return el(
    "div",
    { class: "center" },
    el("h1", { class: "title", text: d.texts.phone_stop_title }),
    el("p", { class: "lead", text: message }),
    on?.retry
      ? el("button", { type: "button", class: "btn btn-big btn-primary", text: d.texts.retry, onclick: on.retry })
      : null,
  );
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

// One question: `q` is {d, root, sc, index, count, answers, listen}; `on` the handlers of its buttons.
export function questionScreen(q, on) {
  const { d, sc } = q;
  const top = el(
    "div",
    { class: "top" },
    progress(q.index, q.count),
    q.listen,
    el("button", {
      type: "button",
      class: "btn btn-quiet",
      text: d.texts.cancel,
      "data-act": "cancel",
      onclick: on.cancel,
    }),
  );
  const body = el("div", { class: "body" });
  if (sc.heading) body.appendChild(el("h2", { class: "element", text: sc.heading }));
  if (sc.topic) body.appendChild(el("p", { class: "topic", text: sc.topic }));
  body.appendChild(el("p", { class: "question", id: "q-text", text: sc.text }));
  if (sc.kind === "scale") body.appendChild(scale(q, on));
  else if (sc.kind === "choice") body.appendChild(choice(q, on));
  else if (sc.kind === "multi") body.appendChild(multi(q, on));
  else if (sc.kind === "comment" || sc.kind === "text") body.appendChild(textBox(q, on));

  const bottom = el("div", { class: "bottom" });
  if (q.index > 0)
    bottom.appendChild(
      el("button", { type: "button", class: "btn btn-big", text: d.texts.back, "data-act": "back", onclick: on.back }),
    );
  bottom.appendChild(el("span", { class: "spacer" }));
  if (sc.kind === "choice" && sc.skip)
    bottom.appendChild(
      el("button", {
        type: "button",
        class: "btn btn-big btn-quiet",
        text: sc.skip,
        onclick: () => on.answer(sc, null),
      }),
    );
  if (sc.kind === "multi" || sc.kind === "text")
    bottom.appendChild(
      el("button", { type: "button", class: "btn btn-big btn-primary", text: d.texts.next, onclick: on.next }),
    );
  if (sc.kind === "comment")
    bottom.appendChild(
      el("button", {
        type: "button",
        class: "btn btn-big btn-primary",
        text: d.texts.submit,
        "data-act": "submit",
        onclick: on.submit,
      }),
    );
  return el("div", { class: "screen-inner", style: "display:contents" }, top, body, bottom);
}

function scale(q, on) {
  const { d, sc } = q;
  const current = selectedAnswer(q.answers, sc);
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
        onclick: () => on.answer(sc, s.value),
      },
      faceSvg(q.root, s.value),
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
    onclick: () => on.answer(sc, null),
  });
  const holder = el("div", { style: "display:flex;justify-content:center;margin-top:clamp(8px,2vmin,28px)" }, none);
  wrap.appendChild(holder);
  return wrap;
}

function choice(q, on) {
  const { sc } = q;
  const current = selectedAnswer(q.answers, sc);
  const list = el("div", {
    class: `options${sc.options.length > 5 ? " two" : ""}`,
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
          onclick: () => on.answer(sc, o.value),
        },
        ...kids,
      ),
    );
  }
  return list;
}

function multi(q, on) {
  const { sc } = q;
  const list = el("div", {
    class: `options${sc.options.length > 5 ? " two" : ""}`,
    role: "group",
    "aria-labelledby": "q-text",
  });
  const chosen = q.answers[sc.id] || [];
  for (const o of sc.options) {
    const b = el(
      "button",
      {
        type: "button",
        class: "btn option multi",
        role: "checkbox",
        "aria-checked": String(chosen.includes(o.value)),
        onclick: () => {
          const now = on.toggle(sc, o.value);
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

// The comment, and any free-text question of the version: a box of at most `max` characters.
function textBox(q, on) {
  const { sc } = q;
  const box = el("textarea", {
    maxlength: String(sc.max || 2000),
    "aria-labelledby": "q-text",
    placeholder: sc.placeholder || "",
    rows: "4",
  });
  box.value = q.answers[sc.id] || "";
  box.addEventListener("input", () => on.type(sc, box.value));
  return box;
}
