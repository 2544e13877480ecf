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
  const starts = q.filter((e) => !e.survey).map((e) => ({ token: e.token, ago_ms: now - e.at }));
  const surveys = q.filter((e) => e.survey).map((e) => Object.assign({}, e.survey, { completed_ago_ms: now - e.at }));
  return Object.assign({ starts, surveys, pending: surveys.length, tablet, sent_at: now }, extra || {});
}
