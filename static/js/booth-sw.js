// The booth page's service worker (served by the app at the booth's address with
// Service-Worker-Allowed, so its scope is the booth page alone): the page and what it loads
// (styles, scripts, fonts, photos) are kept in a cache as they come, so the page opens again
// while the connection is down; with a connection everything comes from the server as usual.
// The entries themselves never pass through here: the page keeps them (static/js/booth.js).
"use strict";
const CACHE = "bazarche-booth-1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("bazarche-booth-") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim()),
  );
});

const kept = (url) =>
  url.origin === self.location.origin && /^\/(static|media)\//.test(url.pathname);

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return; // entries go straight to the server
  const url = new URL(request.url);
  if (request.mode === "navigate") {
    // The page: from the server when it answers; the last copy when it cannot be reached.
    event.respondWith(
      fetch(request)
        .then((response) => {
          const copy = response.ok && !response.redirected ? response.clone() : null;
          caches.open(CACHE).then((cache) =>
            // Signed out, or gone: keep no copy of the page.
            copy ? cache.put(request, copy) : cache.delete(request),
          );
          return response;
        })
        .catch(() => caches.match(request).then((hit) => hit || Response.error())),
    );
    return;
  }
  if (!kept(url)) return;
  // Styles, scripts, fonts and photos: the server's copy, the cached one when offline.
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(() => caches.match(request).then((hit) => hit || Response.error())),
  );
});
