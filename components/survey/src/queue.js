// The tablet's outbox: surveys started (no answers) and completed (whole, with their token), kept in
// localStorage until the server acknowledges their token. A dropped connection, a reload or a server
// restart loses nothing, and a survey sent twice is stored once (the token is unique).
//
// No DOM here: the storage is passed in (window.localStorage in the browser), so Node can test it.

export const QUEUE_KEY = "sipas.kiosk.queue.v1";
export const TABLET_KEY = "sipas.kiosk.tablet";
export const RESEND_MS = 4000; // resend pending entries this often once the last send was answered
export const LOST_MS = 30000; // a send with no render back for this long is taken as lost

export function uuid4(fillRandom) {
  // crypto.randomUUID needs a secure context (https); a LAN tablet uses plain http.
  const b = new Uint8Array(16);
  fillRandom(b);
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export class SurveyQueue {
  constructor(storage) {
    this.storage = storage;
    this.memory = null; // what a full (or missing) storage could not keep
  }

  load() {
    try {
      const q = JSON.parse(this.storage.getItem(QUEUE_KEY) || "[]");
      return Array.isArray(q) ? q : [];
    } catch (_e) {
      return [];
    }
  }

  save(q) {
    try {
      this.storage.setItem(QUEUE_KEY, JSON.stringify(q));
    } catch (_e) {
      /* storage full: the entry stays in memory until sent */
    }
    this.memory = q;
  }

  entries() {
    const q = this.load();
    return q.length || !this.memory ? q : this.memory;
  }

  pendingSurveys() {
    return this.entries().filter((e) => e.survey);
  }

  addStart(token, at) {
    const q = this.entries();
    q.push({ token, at, survey: null });
    this.save(q);
  }

  // A completed survey replaces any entry with its token (its start is then acknowledged with it).
  putSurvey(token, at, payload) {
    const q = this.entries().filter((e) => e.token !== token);
    q.push({ token, at, survey: payload });
    this.save(q);
  }

  // Marks every entry queued so far as made before this tablet's enrolment (no server-issued token):
  // the enrolled tablet sends them once as "legacy" and the server decides (sipas.survey.tablet).
  markLegacy() {
    const q = this.entries();
    if (!q.some((e) => !e.legacy)) return 0;
    this.save(q.map((e) => Object.assign({}, e, { legacy: true })));
    return q.length;
  }

  // Drops what the server acknowledged: "r:<token>" a stored survey, "s:<token>" a counted start.
  dropAcked(acked) {
    const q = this.entries();
    const kept = q.filter((e) => {
      if (e.survey) return !acked.has(`r:${e.token}`);
      return !acked.has(`s:${e.token}`) && !acked.has(`r:${e.token}`);
    });
    if (kept.length !== q.length) this.save(kept);
  }
}

export function tabletId(storage, newId) {
  let id = null;
  try {
    id = storage.getItem(TABLET_KEY);
    if (!id) {
      id = newId().slice(0, 8);
      storage.setItem(TABLET_KEY, id);
    }
  } catch (_e) {
    id = "khong-luu";
  }
  return id;
}

// Whether to send now. One message at a time: while the server is still working on the last one (a
// locked database waits its busy timeout), a new one would only interrupt it and the tablet would
// never hear back.
export function shouldSend({ force, now, lastSend, inflight, queued }) {
  if (force) return true;
  if (now - lastSend < RESEND_MS) return false;
  if (!queued) return false;
  return !(inflight && now - lastSend < LOST_MS);
}

export function syncMessage(q, now, tablet, extra) {
  const mark = (e) => (e.legacy ? { legacy: true } : {});
  const starts = q.filter((e) => !e.survey).map((e) => Object.assign({ token: e.token, ago_ms: now - e.at }, mark(e)));
  const surveys = q
    .filter((e) => e.survey)
    .map((e) => Object.assign({}, e.survey, { completed_ago_ms: now - e.at }, mark(e)));
  return Object.assign({ starts, surveys, pending: surveys.length, tablet, sent_at: now }, extra || {});
}

// ------------------------------------------------------------------ enrolment and start tokens

export const DEVICE_KEY = "sipas.kiosk.device"; // {name, secret}: given once by the enrolment link
export const STOCK_KEY = "sipas.kiosk.tokens"; // {tokens: [...], spent: [...]}: server-issued start tokens
export const STOCK_LOW = 100; // ask for more below this (the server tops the stock up to 200)
export const MAX_BODY = 200000; // characters; the server refuses a message over 256 KB

function readJSON(storage, key) {
  try {
    return JSON.parse(storage.getItem(key) || "null");
  } catch (_e) {
    return null;
  }
}

function writeJSON(storage, key, value) {
  try {
    storage.setItem(key, JSON.stringify(value));
  } catch (_e) {
    /* storage refused: kept in memory by the caller */
  }
}

export function enrolledDevice(storage) {
  const d = readJSON(storage, DEVICE_KEY);
  return d && typeof d.name === "string" && typeof d.secret === "string" ? d : null;
}

export function saveDevice(storage, device) {
  writeJSON(storage, DEVICE_KEY, { name: device.name, secret: device.secret });
}

// A new device secret (a first enrolment, or a re-enrolment): what the queue holds was made before it.
export function enrolDevice(storage, device, queue) {
  const before = enrolledDevice(storage);
  if (before && before.name === device.name && before.secret === device.secret) return false;
  queue.markLegacy();
  saveDevice(storage, device);
  return true;
}

// The start tokens the server issued to this tablet. A token is taken for one survey and never again.
export class TokenStock {
  constructor(storage) {
    this.storage = storage;
    const s = readJSON(storage, STOCK_KEY) || {};
    this.state = { tokens: Array.isArray(s.tokens) ? s.tokens : [], spent: Array.isArray(s.spent) ? s.spent : [] };
  }

  size() {
    return this.state.tokens.length;
  }

  take() {
    const token = this.state.tokens.shift() || null;
    if (token) {
      this.state.spent.push(token);
      this.state.spent = this.state.spent.slice(-1000);
      writeJSON(this.storage, STOCK_KEY, this.state);
    }
    return token;
  }

  // The server's list of this tablet's unused tokens; those already taken here (their start not yet
  // received by the server) stay spent.
  replace(serverTokens) {
    if (!Array.isArray(serverTokens)) return;
    const spent = new Set(this.state.spent);
    this.state.tokens = serverTokens.filter((t) => typeof t === "string" && !spent.has(t));
    writeJSON(this.storage, STOCK_KEY, this.state);
  }
}

// The message body (JSON text) the tablet signs: as many queued surveys as fit in MAX_BODY (the
// rest go in the next message).
export function messageBody(q, now, device, extra) {
  let entries = q.slice();
  let body = JSON.stringify(syncMessage(entries, now, device, extra));
  while (body.length > MAX_BODY && entries.length > 1) {
    entries = entries.slice(0, Math.max(1, Math.floor(entries.length / 2)));
    body = JSON.stringify(syncMessage(entries, now, device, extra));
  }
  return body;
}
