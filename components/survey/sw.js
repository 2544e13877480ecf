// The counter tablet's service worker (scope /tablet/, served by tablet_web.py with its version filled in).
// It keeps the tablet's page and its script and style, so that a reload, a browser restart or a tablet
// switched on while the server is down still opens the survey (the queue is in IndexedDB). The page is asked
// from the network first (it carries the next survey's data), with the kept copy after 2.5 s or at once when
// the server cannot be reached; the script and style have the version in their address and come from the
// cache. The JSON API is never cached.
const VERSION = "__VERSION__";
const CACHE = `sipas-tablet-${VERSION}`;
const PAGE = "/tablet/";
const ASSETS = [`/tablet/app.js?v=${VERSION}`, `/tablet/app.css?v=${VERSION}`];
const PAGE_TIMEOUT_MS = 2500;

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((c) => c.addAll([PAGE, ...ASSETS]))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(keys.filter((k) => k.startsWith("sipas-tablet-") && k !== CACHE).map((k) => caches.delete(k))),
      )
      .then(() => self.clients.claim()),
  );
});

function pageFromNetwork(request) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("slow")), PAGE_TIMEOUT_MS);
    fetch(request)
      .then((response) => {
        clearTimeout(timer);
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((c) => c.put(PAGE, copy));
        }
        resolve(response);
      })
      .catch((e) => {
        clearTimeout(timer);
        reject(e);
      });
  });
}

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname === PAGE) {
    event.respondWith(
      pageFromNetwork(event.request).catch(() => caches.match(PAGE).then((kept) => kept || Response.error())),
    );
  } else if (url.pathname === "/tablet/app.js" || url.pathname === "/tablet/app.css") {
    event.respondWith(caches.match(event.request).then((kept) => kept || fetch(event.request)));
  }
});
