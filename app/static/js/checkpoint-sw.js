/* The checkpoint app's service worker, served at /check-sw.js with the scope "/" (app/checkpoint/pages.py
 * puts self.CHECKPOINT_SHELL before this: the version, the app's pages and the files it keeps).
 *
 * It answers only:
 *  - navigations to /v/<token>: the network first (the server's page is the truth), and when the
 *    network fails or is slower than NETWORK_TIMEOUT_MS, the offline verdict page kept here, whose
 *    script checks the token on the phone;
 *  - navigations to the app's pages (/check, /check/enrol, /check/offline): the network first, then
 *    the copy kept here, in the language asked (?lang=) or the one last used;
 *  - the app's own files, under their versioned addresses: the copy kept here.
 * Every other request goes to the network as if there were no worker: nothing else is kept.
 */
"use strict";

const SHELL = self.CHECKPOINT_SHELL;
importScripts(SHELL.core);

const CACHE_PREFIX = "pressdesk-checkpoint-";
const CACHE = CACHE_PREFIX + SHELL.version;
const NETWORK_TIMEOUT_MS = 3000;
const PERMIT_PATH = /^\/v\/[A-Za-z0-9_-]{1,200}$/;

function pageKey(path, language) {
  return path + "?lang=" + language;
}

self.addEventListener("install", function (event) {
  event.waitUntil((async function () {
    const cache = await caches.open(CACHE);
    const pages = [];
    SHELL.pages.forEach(function (path) {
      SHELL.languages.forEach(function (language) { pages.push(pageKey(path, language)); });
    });
    await cache.addAll(pages.concat(SHELL.assets));
    try {
      await self.PressDeskCheckpoint.sync(); // the trust data, so that the first offline check can answer
    } catch (error) {
      // No network now: the app's pages sync when they are next opened with one.
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", function (event) {
  event.waitUntil((async function () {
    for (const name of await caches.keys()) {
      if (name.startsWith(CACHE_PREFIX) && name !== CACHE) {
        await caches.delete(name);
      }
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") {
    return;
  }
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) {
    return;
  }
  if (request.mode === "navigate") {
    if (PERMIT_PATH.test(url.pathname)) {
      event.respondWith(networkFirst(request, function () { return keptPage(SHELL.verdict, url); }));
    } else if (SHELL.pages.indexOf(url.pathname) >= 0) {
      event.respondWith(networkFirst(request, function () { return keptPage(url.pathname, url); }));
    }
    return;
  }
  if (SHELL.assets.indexOf(url.pathname + url.search) >= 0) {
    event.respondWith(caches.match(url.pathname + url.search, { cacheName: CACHE }).then(function (kept) {
      return kept || fetch(request);
    }));
  }
});

/** The server's answer, unless the network fails, errs (5xx) or takes too long: then `fallback()`. */
async function networkFirst(request, fallback) {
  let timer;
  const timeout = new Promise(function (resolve) { timer = setTimeout(resolve, NETWORK_TIMEOUT_MS, null); });
  try {
    const response = await Promise.race([fetch(request), timeout]);
    if (response && response.status < 500) {
      return response;
    }
  } catch (error) {
    // offline: answer from the phone
  } finally {
    clearTimeout(timer);
  }
  const kept = await fallback();
  return kept || Response.error();
}

/** The kept copy of an app page, in the language of ?lang=, else the one the app last showed. */
async function keptPage(path, url) {
  let language = url.searchParams.get("lang");
  if (SHELL.languages.indexOf(language) < 0) {
    language = await self.PressDeskCheckpoint.store.get("language").catch(function () { return null; });
  }
  if (SHELL.languages.indexOf(language) < 0) {
    language = SHELL.default_language;
  }
  return caches.match(pageKey(path, language), { cacheName: CACHE });
}
