// The tablet's own storage: IndexedDB, with localStorage as a synchronous mirror.
//
// The queue (queue.js) reads and writes through a small synchronous interface (getItem/setItem). Here it is
// served from memory, loaded once at start from IndexedDB and from localStorage, and every write goes to
// both: localStorage at once (a survey is on disk before "Cảm ơn" shows, even if the browser is killed a
// moment later), IndexedDB in its own transaction (the store a browser keeps under storage pressure, and one
// a service worker can read). At start the two are merged: the queue is the union of both by token (a
// survey entry wins over its start), so neither a write that did not reach IndexedDB nor a cleared
// localStorage loses a survey; an entry both forgot was acknowledged, and one sent again is stored once.
//
// mergeQueues and mergeValues have no DOM: Node tests them.

import { QUEUE_KEY } from "./queue.js";

export const IDB_NAME = "sipas-tablet";
export const IDB_STORE = "kv";
export const PAGE_KEY = "sipas.kiosk.page"; // the last page data from the server (a reload offline shows it)

function parseList(text) {
  try {
    const v = JSON.parse(text || "[]");
    return Array.isArray(v) ? v : [];
  } catch (_e) {
    return [];
  }
}

// The union of two queues by token, in the order of the first seen; a completed survey beats its start,
// "legacy" (made before this tablet's enrolment) sticks.
export function mergeQueues(a, b) {
  const out = new Map();
  for (const e of [...parseList(a), ...parseList(b)]) {
    if (!e || typeof e.token !== "string") continue;
    const seen = out.get(e.token);
    if (!seen) out.set(e.token, e);
    else {
      const pick = seen.survey || !e.survey ? seen : e;
      out.set(e.token, Object.assign({}, pick, seen.legacy || e.legacy ? { legacy: true } : {}));
    }
  }
  return JSON.stringify([...out.values()]);
}

// One key's value from the two stores: the queue merged, anything else IndexedDB's if it has it.
export function mergeValues(key, fromIdb, fromLocal) {
  if (key === QUEUE_KEY && fromIdb != null && fromLocal != null) return mergeQueues(fromIdb, fromLocal);
  return fromIdb != null ? fromIdb : fromLocal;
}

function openIdb(win) {
  return new Promise((resolve) => {
    let req;
    try {
      req = win.indexedDB.open(IDB_NAME, 1);
    } catch (_e) {
      resolve(null); // no IndexedDB (a private window of some browsers): localStorage alone
      return;
    }
    req.onupgradeneeded = () => req.result.createObjectStore(IDB_STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => resolve(null);
    req.onblocked = () => resolve(null);
  });
}

function readAll(idb) {
  return new Promise((resolve) => {
    const out = new Map();
    if (!idb) return resolve(out);
    try {
      const tx = idb.transaction(IDB_STORE, "readonly");
      const cursor = tx.objectStore(IDB_STORE).openCursor();
      cursor.onsuccess = () => {
        const c = cursor.result;
        if (!c) return;
        out.set(String(c.key), c.value);
        c.continue();
      };
      tx.oncomplete = () => resolve(out);
      tx.onerror = () => resolve(out);
      tx.onabort = () => resolve(out);
    } catch (_e) {
      resolve(out);
    }
  });
}

// The storage the survey uses on the tablet. Resolves once both stores are read (a few milliseconds).
export async function openStorage(win) {
  const local = {
    get(key) {
      try {
        return win.localStorage.getItem(key);
      } catch (_e) {
        return null;
      }
    },
    set(key, value) {
      try {
        win.localStorage.setItem(key, value);
      } catch (_e) {
        /* full or refused: IndexedDB and memory keep it */
      }
    },
  };
  const idb = await openIdb(win);
  const stored = await readAll(idb);
  const memory = new Map();
  const keys = new Set(stored.keys());
  try {
    for (let i = 0; i < win.localStorage.length; i += 1) keys.add(win.localStorage.key(i));
  } catch (_e) {
    /* no localStorage */
  }
  const put = (key, value) => {
    if (!idb) return;
    try {
      idb.transaction(IDB_STORE, "readwrite").objectStore(IDB_STORE).put(value, key);
    } catch (_e) {
      /* IndexedDB closed or full: localStorage and memory keep it */
    }
  };
  for (const key of keys) {
    if (!key?.startsWith("sipas.")) continue;
    const value = mergeValues(key, stored.get(key), local.get(key));
    if (value == null) continue;
    memory.set(key, value);
    if (value !== stored.get(key)) put(key, value);
    if (value !== local.get(key)) local.set(key, value);
  }
  return {
    idb: Boolean(idb),
    getItem: (key) => (memory.has(key) ? memory.get(key) : null),
    setItem(key, value) {
      const text = String(value);
      memory.set(key, text);
      local.set(key, text);
      put(key, text);
    },
  };
}
