/* The checkpoint app's shared code, for its pages and its service worker (DESIGN.md section 6):
 * what the phone keeps (IndexedDB), the signed trust data and how it is synced, the offline check
 * of a permit's token with WebCrypto's Ed25519, and the queue of offline checks sent up later.
 *
 * Everything signed arrives as an envelope {payload: base64url(JSON bytes), kid, signature}
 * (app/verification/tokens.py, KeyRing.sign_envelope); its signature is checked on the bytes
 * before the JSON is read. The token layout is the one described at the top of tokens.py.
 */
(function (root) {
  "use strict";

  const DB_NAME = "pressdesk-checkpoint";
  const DB_VERSION = 1;
  const URLS = {
    keys: "/check/trust/keys.json",
    revocations: "/check/trust/revocations.json",
    permits: "/check/api/permits",
    checks: "/check/api/checks",
    enrol: "/check/api/enrol",
  };
  const MAX_CHECKS_PER_UPLOAD = 500; // the server's limit (app/checkpoint/service.py)
  const TOKEN = /^[A-Za-z0-9_-]{103}$/;
  const KEY_ID = /^[A-Za-z0-9_-]{4}$/;
  const TOKEN_BYTES = 77;
  const SIGNED_BYTES = 13;
  const EPOCH_MS = Date.UTC(2000, 0, 1);
  const DAY_MS = 86400000;
  const ED25519 = { name: "Ed25519" };
  // Outcomes the server records for an offline check ("cannot check" answers are not checks).
  const LOGGED_OUTCOMES = ["valid", "not_yet_valid", "expired", "revoked", "unknown", "revocation_unknown"];

  // --- what the phone keeps -------------------------------------------------------------
  // Store "kv": keySet, revocations, device, permits, revokedHolders, notice, language.
  // Store "queue": offline checks not yet accepted by the server, by their random id.

  let opening = null;

  function openDatabase() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        const request = indexedDB.open(DB_NAME, DB_VERSION);
        request.onupgradeneeded = function () {
          request.result.createObjectStore("kv");
          request.result.createObjectStore("queue", { keyPath: "id" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { opening = null; reject(request.error); };
      });
    }
    return opening;
  }

  async function transaction(storeName, mode, work) {
    const database = await openDatabase();
    return new Promise(function (resolve, reject) {
      const tx = database.transaction(storeName, mode);
      const request = work(tx.objectStore(storeName));
      tx.oncomplete = function () { resolve(request ? request.result : undefined); };
      tx.onerror = tx.onabort = function () { reject(tx.error); };
    });
  }

  const store = {
    get: function (key) { return transaction("kv", "readonly", function (s) { return s.get(key); }); },
    put: function (key, value) { return transaction("kv", "readwrite", function (s) { return s.put(value, key); }); },
    remove: function (key) { return transaction("kv", "readwrite", function (s) { return s.delete(key); }); },
    queued: function () { return transaction("queue", "readonly", function (s) { return s.getAll(); }); },
    enqueue: function (check) { return transaction("queue", "readwrite", function (s) { return s.put(check); }); },
    dequeue: function (ids) {
      return transaction("queue", "readwrite", function (s) { ids.forEach(function (id) { s.delete(id); }); });
    },
    clearQueue: function () { return transaction("queue", "readwrite", function (s) { return s.clear(); }); },
  };

  async function state() {
    const [keySet, revocations, device, permits, revokedHolders, notice, queue] = await Promise.all([
      store.get("keySet"), store.get("revocations"), store.get("device"), store.get("permits"),
      store.get("revokedHolders"), store.get("notice"), store.queued()]);
    return { keySet: keySet || null, revocations: revocations || null, device: device || null,
             permits: permits || null, revokedHolders: revokedHolders || {}, notice: notice || null,
             queued: queue.length };
  }

  // --- base64url, envelopes, tokens -----------------------------------------------------

  function encode(bytes) {
    let binary = "";
    bytes.forEach(function (byte) { binary += String.fromCharCode(byte); });
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  /** The bytes of unpadded base64url text; null unless the text is their one canonical spelling. */
  function decode(text) {
    if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) {
      return null;
    }
    let binary;
    try {
      binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - text.length % 4) % 4));
    } catch (error) {
      return null;
    }
    const bytes = Uint8Array.from(binary, function (character) { return character.charCodeAt(0); });
    return encode(bytes) === text ? bytes : null;
  }

  async function verifySignature(key, signature, bytes) {
    try {
      return await crypto.subtle.verify(ED25519, key, signature, bytes);
    } catch (error) {
      return false;
    }
  }

  /** The Ed25519 keys of a key set document, by key id (WebCrypto keys, for verifying only). */
  async function importKeys(keyList) {
    const keys = new Map();
    for (const entry of Array.isArray(keyList) ? keyList : []) {
      if (!entry || entry.kty !== "OKP" || entry.crv !== "Ed25519" || (entry.use || "sig") !== "sig"
          || !KEY_ID.test(entry.kid)) {
        continue;
      }
      const raw = decode(entry.x);
      if (raw && raw.length === 32) {
        keys.set(entry.kid, await crypto.subtle.importKey("raw", raw, ED25519, false, ["verify"]));
      }
    }
    return keys;
  }

  function readJson(bytes) {
    try {
      const document = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
      return document && typeof document === "object" && !Array.isArray(document) ? document : null;
    } catch (error) {
      return null;
    }
  }

  /** The document of an envelope signed by one of `keys`, if it is of `type`; null for anything else. */
  async function openEnvelope(envelope, keys, type) {
    if (!envelope || typeof envelope !== "object") {
      return null;
    }
    const key = keys.get(envelope.kid);
    const payload = decode(envelope.payload);
    const signature = decode(envelope.signature);
    if (!key || !payload || !signature || signature.length !== 64
        || !(await verifySignature(key, signature, payload))) {
      return null;
    }
    const document = readJson(payload);
    return document && document.type === type ? document : null;
  }

  /** The key set, which signs itself with a key it holds (it is trusted for coming from this site). */
  async function openKeySet(envelope) {
    const payload = envelope && decode(envelope.payload);
    const unverified = payload && readJson(payload);
    if (!unverified) {
      return null;
    }
    const keySet = await openEnvelope(envelope, await importKeys(unverified.keys), "pressdesk-key-set");
    if (!keySet || !Date.parse(keySet.valid_until) || !Date.parse(keySet.issued_at)) {
      return null;
    }
    return keySet;
  }

  function isoDay(days) {
    return new Date(EPOCH_MS + days * DAY_MS).toISOString().slice(0, 10);
  }

  /** What a token claims, before its signature is checked; null if it is not a token at all. */
  function parseToken(token) {
    if (typeof token !== "string" || !TOKEN.test(token)) {
      return null;
    }
    const raw = decode(token);
    if (!raw || raw.length !== TOKEN_BYTES || raw[0] !== 1) {
      return null;
    }
    const keyId = String.fromCharCode.apply(null, raw.slice(1, 5));
    if (!KEY_ID.test(keyId)) {
      return null;
    }
    const view = new DataView(raw.buffer);
    const fromDays = view.getUint16(9);
    const untilDays = view.getUint16(11);
    return { keyId: keyId, permitId: view.getUint32(5), validFrom: isoDay(fromDays), validUntil: isoDay(untilDays),
             ordered: untilDays >= fromDays, body: raw.slice(0, SIGNED_BYTES), signature: raw.slice(SIGNED_BYTES) };
  }

  /** The province's date (YYYY-MM-DD) at an instant: validity is judged by it, as on the server. */
  function provinceDay(instant, timeZone) {
    const parts = {};
    new Intl.DateTimeFormat("en-CA", { timeZone: timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
      .formatToParts(new Date(instant)).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day;
  }

  function isoInstant(instant) {
    return new Date(instant).toISOString().replace(/\.\d{3}Z$/, "Z");
  }

  // --- the offline verdict --------------------------------------------------------------

  /**
   * The answer for a token from what the phone keeps, at `now` (ms), in the province's `timeZone`.
   * outcome: valid | not_yet_valid | expired | revoked | unknown | revocation_unknown (those are
   * logged), or keys_expired | no_keys (the phone cannot check). Never "valid" on a revocation list
   * older than the key set's max_data_age_hours.
   */
  async function verdict(token, now, timeZone) {
    const kept = await state();
    const result = { outcome: "unknown", claims: null, permit: null, revokedAt: null, revokedHolder: null,
                     keySet: kept.keySet, device: kept.device, checkedAt: now,
                     revocationsIssuedAt: null, dataAgeSeconds: null, maxDataAgeHours: null };
    if (kept.revocations) {
      result.revocationsIssuedAt = kept.revocations.issued_at;
      result.dataAgeSeconds = Math.max(0, Math.round((now - Date.parse(kept.revocations.issued_at)) / 1000));
    }
    if (!kept.keySet) {
      result.outcome = "no_keys";
      return result;
    }
    result.maxDataAgeHours = kept.keySet.max_data_age_hours;
    if (Date.parse(kept.keySet.valid_until) <= now) {
      result.outcome = "keys_expired";
      return result;
    }
    const claims = parseToken(token);
    const keys = await importKeys(kept.keySet.keys);
    const key = claims && keys.get(claims.keyId);
    if (!claims || !key || !(await verifySignature(key, claims.signature, claims.body))
        || claims.permitId === 0 || !claims.ordered) {
      return result; // unknown or forged
    }
    result.claims = claims;
    const permits = kept.device && kept.permits ? kept.permits.permits : [];
    const permit = permits.find(function (entry) { return entry.id === claims.permitId; }) || null;
    if (permit && (permit.valid_from !== claims.validFrom || permit.valid_until !== claims.validUntil)) {
      return result; // the server says "unknown" when the dates are not the permit's own
    }
    result.permit = permit;
    const revokedAt = kept.revocations ? kept.revocations.revoked[claims.permitId] : undefined;
    if (revokedAt) {
      result.outcome = "revoked";
      result.revokedAt = revokedAt;
      result.permit = null; // a revoked permit shows its number and holder's name, nothing more
      result.revokedHolder = kept.device ? (kept.revokedHolders[claims.permitId] || null) : null;
      return result;
    }
    const today = provinceDay(now, timeZone);
    if (today < claims.validFrom) {
      result.outcome = "not_yet_valid";
    } else if (today > claims.validUntil) {
      result.outcome = "expired";
    } else if (result.dataAgeSeconds === null || result.dataAgeSeconds > kept.keySet.max_data_age_hours * 3600) {
      result.outcome = "revocation_unknown";
    } else {
      result.outcome = "valid";
    }
    return result;
  }

  /** Log an enrolled device's offline check, to be sent up when there is a network. */
  async function recordCheck(answer) {
    if (!answer.device || LOGGED_OUTCOMES.indexOf(answer.outcome) < 0) {
      return null;
    }
    const check = { id: crypto.randomUUID(), permit_id: answer.claims ? answer.claims.permitId : null,
                    key_id: answer.claims ? answer.claims.keyId : null, outcome: answer.outcome,
                    checked_at: isoInstant(answer.checkedAt), data_age_seconds: answer.dataAgeSeconds };
    await store.enqueue(check);
    return check;
  }

  // --- syncing --------------------------------------------------------------------------

  async function fetchJson(url, options) {
    const response = await fetch(url, Object.assign({ cache: "no-store", credentials: "omit" }, options || {}));
    let body = null;
    try {
      body = await response.json();
    } catch (error) {
      body = null;
    }
    return { status: response.status, ok: response.ok, body: body };
  }

  function bearer(device) {
    return { Authorization: "Bearer " + device.token, Accept: "application/json" };
  }

  /** Forget the enrolment: the token, the permits with their photos, the unsent checks. */
  async function wipe() {
    await Promise.all([store.remove("device"), store.remove("permits"), store.remove("revokedHolders"),
                       store.clearQueue()]);
    await store.put("notice", "wiped");
  }

  async function syncKeySet() {
    const response = await fetchJson(URLS.keys);
    const keySet = response.ok ? await openKeySet(response.body) : null;
    if (!keySet) {
      throw new Error("key set refused");
    }
    await store.put("keySet", keySet);
    return keySet;
  }

  async function syncRevocations(keySet) {
    const kept = await store.get("revocations");
    const url = kept ? URLS.revocations + "?since=" + encodeURIComponent(kept.issued_at) : URLS.revocations;
    const response = await fetchJson(url);
    const list = response.ok
      ? await openEnvelope(response.body, await importKeys(keySet.keys), "pressdesk-revocations") : null;
    if (!list || !Date.parse(list.issued_at) || !Array.isArray(list.revoked)) {
      throw new Error("revocation list refused");
    }
    // An answer `since` adds to what the phone has (the overlap repeats a few: a set keeps one).
    const revoked = list.complete || !kept ? {} : Object.assign({}, kept.revoked);
    list.revoked.forEach(function (entry) { revoked[entry.id] = entry.revoked_at; });
    const merged = { issued_at: list.issued_at, revoked: revoked };
    await store.put("revocations", merged);
    return merged;
  }

  async function syncPermits(device, keySet, revocations) {
    const response = await fetchJson(URLS.permits, { headers: bearer(device) });
    if (response.status === 401 && response.body && response.body.wipe) {
      await wipe();
      return "wiped";
    }
    const permits = response.ok
      ? await openEnvelope(response.body, await importKeys(keySet.keys), "pressdesk-permits") : null;
    if (!permits || !Array.isArray(permits.permits)) {
      throw new Error("permits refused");
    }
    // A permit revoked since the last sync leaves the list; its number and holder's name stay,
    // for the "revoked" answer (no photo).
    const previous = (await store.get("permits")) || { permits: [] };
    const revokedHolders = Object.assign({}, (await store.get("revokedHolders")) || {});
    previous.permits.forEach(function (permit) {
      if (revocations.revoked[permit.id]) {
        revokedHolders[permit.id] = { register_number: permit.register_number, full_name: permit.holder.full_name };
      }
    });
    await store.put("permits", permits);
    await store.put("revokedHolders", revokedHolders);
    return "synced";
  }

  /** Send the queued offline checks; each is removed once the server has it (it drops repeats). */
  async function uploadChecks() {
    const device = await store.get("device");
    if (!device) {
      return 0;
    }
    let sent = 0;
    for (;;) {
      const batch = (await store.queued()).slice(0, MAX_CHECKS_PER_UPLOAD);
      if (!batch.length) {
        return sent;
      }
      const response = await fetchJson(URLS.checks, {
        method: "POST", headers: Object.assign({ "Content-Type": "application/json" }, bearer(device)),
        body: JSON.stringify({ checks: batch }) });
      if (response.status === 401 && response.body && response.body.wipe) {
        await wipe();
        return sent;
      }
      if (!response.ok) {
        throw new Error("checks refused: " + response.status);
      }
      await store.dequeue(batch.map(function (check) { return check.id; }));
      sent += batch.length;
    }
  }

  function exclusively(name, work) {
    // One sync at a time across the app's pages and its worker (the server drops repeats anyway).
    if (root.navigator && root.navigator.locks) {
      return root.navigator.locks.request(name, work);
    }
    return work();
  }

  /** Fetch the key set, the revocation list and (enrolled) the permits; send the offline checks. */
  function sync() {
    return exclusively("pressdesk-checkpoint-sync", async function () {
      const keySet = await syncKeySet();
      const revocations = await syncRevocations(keySet);
      const device = await store.get("device");
      let permits = null;
      if (device) {
        permits = await syncPermits(device, keySet, revocations);
      }
      const uploaded = permits === "wiped" ? 0 : await uploadChecks();
      await store.put("lastSync", Date.now());
      return { permits: permits, uploaded: uploaded };
    });
  }

  /** Enrol with a code; returns {status, body} as the server said, keeping the device token on 201. */
  async function enrol(code, language) {
    const response = await fetchJson(URLS.enrol + "?lang=" + encodeURIComponent(language), {
      method: "POST", headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ code: code }) });
    if (response.status === 201 && response.body && response.body.device_token) {
      await store.clearQueue();
      await Promise.all([store.remove("permits"), store.remove("revokedHolders"), store.remove("notice")]);
      await store.put("device", { token: response.body.device_token, id: response.body.device_id,
                                  checkpoint_name: response.body.checkpoint_name });
    }
    return response;
  }

  root.PressDeskCheckpoint = {
    store: store, state: state, decode: decode, parseToken: parseToken, openKeySet: openKeySet,
    openEnvelope: openEnvelope, importKeys: importKeys, provinceDay: provinceDay, verdict: verdict,
    recordCheck: recordCheck, sync: sync, enrol: enrol, wipe: wipe,
    uploadChecks: function () { return exclusively("pressdesk-checkpoint-sync", uploadChecks); },
  };
})(self);
