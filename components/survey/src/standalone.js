// The counter tablet as a web app of its own (tablet_web.py serves it at /tablet/): no Streamlit on it.
//
// The page arrives with the data of its first screen in it (#sipas-page), so the welcome shows without a
// round trip; the survey (survey.js) runs as in the staff preview. Its one message, "sync", is posted to
// /api/tablet/sync, signed with the device secret; the answer (acknowledgements, start tokens, a refusal,
// and, when asked, the next survey's data) is drawn at once. The queue lives in IndexedDB (store.js) and a
// service worker (sw.js) keeps the page itself, so a reload, a browser restart or a server that is down
// loses nothing: the survey goes on, a small mark says what waits, and the tablet sends it when the server
// answers again. Nothing here ever shows a developer's message.

import { enrolledDevice, QUEUE_KEY, uuid4 } from "./queue.js";
import { openStorage, PAGE_KEY } from "./store.js";
import { render, useStorage } from "./survey.js";

export const API = "/api/tablet";
export const SYNC_TIMEOUT_MS = 40000; // longer than the database's busy timeout (15 s): a locked database answers "tạm dừng"

const T = { comp: null, page: null, storage: null, syncs: 0, refused: null, paused: false, qr: null, login: false };

function root() {
  return document.querySelector(".kiosk");
}

function parseJSON(text) {
  try {
    return JSON.parse(text || "null");
  } catch (_e) {
    return null;
  }
}

// The newest of the page data in the HTML and the one kept from the last answer.
function firstPage() {
  const inPage = parseJSON(document.getElementById("sipas-page")?.textContent);
  const kept = parseJSON(T.storage.getItem(PAGE_KEY));
  if (inPage && kept && (kept.generated_at || "") > (inPage.generated_at || "")) return kept;
  return inPage || kept;
}

function keepPage(page) {
  if (!page || typeof page !== "object") return;
  T.page = page;
  T.storage.setItem(PAGE_KEY, JSON.stringify(page));
}

function showData(extra) {
  const state = { refused: T.refused, paused: T.paused, qr: T.qr, login: T.login && !enrolledDevice(T.storage) };
  T.comp.data = Object.assign({}, T.page, state, extra || {});
  render(T.comp);
}

async function post(path, payload) {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), SYNC_TIMEOUT_MS);
  try {
    const r = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(payload),
      signal: ctl.signal,
      cache: "no-store",
      credentials: "same-origin",
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  } catch (_e) {
    return null; // no network, server down, or too slow: the queue keeps everything
  } finally {
    clearTimeout(timer);
  }
}

function connection(up) {
  root()?.setAttribute("data-connection", up ? "up" : "down");
}

function answered() {
  T.syncs += 1;
  root()?.setAttribute("data-syncs", String(T.syncs));
}

async function postSync(msg) {
  const screen = root()?.getAttribute("data-screen");
  T.sending = (T.sending || 0) + 1;
  root()?.setAttribute("data-sending", "1");
  // The next survey's data only where it can be used: not while a citizen is in the middle of one.
  const res = await post(`${API}/sync`, Object.assign({ want_page: screen !== "survey" }, msg));
  T.sending -= 1;
  if (!T.sending) root()?.removeAttribute("data-sending");
  if (!res?.body) {
    connection(false);
    showData({});
    return answered();
  }
  connection(true);
  const b = res.body;
  keepPage(b.page);
  if (res.status === 200 || res.status === 503) {
    T.refused = b.refused || null;
    T.paused = Boolean(b.paused);
    if (b.qr !== undefined) T.qr = b.qr;
  }
  showData({ acks: b.acks || [], tokens: b.tokens || [] });
  answered();
}

// The one-time enrolment link (/tablet/?device=NAME&enrol=CODE): the device secret comes once; the code
// leaves the address at once so that a bookmark never carries it.
async function enrolOnce() {
  const params = new URLSearchParams(window.location.search);
  const code = params.get("enrol");
  if (!code) return {};
  params.delete("enrol");
  const rest = params.toString();
  window.history.replaceState(null, "", window.location.pathname + (rest ? `?${rest}` : ""));
  const res = await post(`${API}/enrol`, { device: params.get("device") || "", code });
  if (res?.status === 200 && res.body?.secret) return { enrolled: { name: res.body.name, secret: res.body.secret } };
  return { enrol_failed: true };
}

// ------------------------------------------------------------------ a citizen's own phone (/q/<code>)

export const PHONE_KEY = "sipas.phone."; // + code: {token, payload, result} of this phone's one survey
export const PHONE_RETRY_MS = 10000;

function phoneCode() {
  const m = window.location.pathname.match(/^\/q\/([^/]+)$/);
  return m ? decodeURIComponent(m[1]) : null;
}

function phoneState() {
  const code = T.page.phone.code;
  const kept = parseJSON(T.storage.getItem(PHONE_KEY + code)) || {};
  if (typeof kept.token !== "string") kept.token = `phone-${uuid4((b) => crypto.getRandomValues(b))}`;
  return kept;
}

function keepPhone(kept) {
  T.storage.setItem(PHONE_KEY + T.page.phone.code, JSON.stringify(kept));
}

function showPhone(kept, change) {
  T.page.phone = Object.assign({}, T.page.phone, { token: kept.token, result: kept.result || null }, change || {});
  showData({});
}

// The phone's survey: kept on the phone first, then posted with the code; a lost answer is sent again with
// the same token (the server stores it once and says "stored" again).
async function sendPhone(payload) {
  const kept = phoneState();
  if (payload) kept.payload = payload;
  if (!kept.payload) return;
  kept.result = "sending";
  keepPhone(kept);
  showPhone(kept);
  const res = await post(`/api/qr/${encodeURIComponent(T.page.phone.code)}`, { survey: kept.payload });
  const state = res?.body?.state;
  if (state === "stored") {
    kept.result = "stored";
    kept.payload = null;
  } else if (state && res.status !== 503) {
    kept.result = null; // used, expired, unknown or refused: the server's sentence
    kept.payload = null;
    keepPhone(kept);
    return showPhone(kept, { state, message: res.body.message });
  } else {
    kept.result = "offline";
    T.retry = T.retry || setTimeout(retryPhone, PHONE_RETRY_MS);
  }
  keepPhone(kept);
  showPhone(kept);
  answered();
}

function retryPhone() {
  T.retry = null;
  if (phoneState().payload) sendPhone(null);
}

function bootPhone() {
  const kept = phoneState();
  keepPhone(kept);
  T.comp.setTriggerValue = (_name, payload) => sendPhone(payload);
  document.documentElement.classList.add("phone");
  showPhone(kept);
  if (kept.payload) sendPhone(null); // sent before the phone lost its connection or was closed
}

function registerWorker() {
  // Only in a secure context (https, or the server's own machine); a tablet on plain http keeps its queue
  // in IndexedDB all the same, but a reload while the server is down needs the page from the worker.
  if (!("serviceWorker" in navigator)) return;
  navigator.serviceWorker.register("/tablet/sw.js", { scope: "/tablet/" }).catch(() => {});
}

async function boot() {
  T.storage = await openStorage(window);
  useStorage(T.storage);
  T.comp = { data: null, parentElement: document.body, setTriggerValue: (_name, msg) => postSync(msg) };
  root().setAttribute("data-store", T.storage.idb ? "indexeddb" : "localstorage");
  if (phoneCode()) {
    T.page = parseJSON(document.getElementById("sipas-page")?.textContent) || {};
    if (T.page.phone) return bootPhone();
  }
  T.page = firstPage() || {};
  // The staff link only on a browser that is no counter tablet (the server says whether this one is locked).
  T.login = Boolean(T.page.login);
  const enrolment = await enrolOnce();
  showData(enrolment);
  root().setAttribute("data-queued", String(parseJSON(T.storage.getItem(QUEUE_KEY))?.length || 0));
  registerWorker();
}

export default function launch() {
  boot();
}

launch();
