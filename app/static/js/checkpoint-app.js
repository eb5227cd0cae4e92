/* The checkpoint app's pages: /check (what the phone holds, Scan, Sync now) and /check/enrol.
 * Also the helpers the offline verdict uses (self.PressDeskCheckpointPage): the page's words are
 * in its markup, translated by the server (<template> elements, data-slot places for values);
 * this fills in dates and times as app/i18n.py writes them, in the province's time zone.
 */
(function () {
  "use strict";

  const core = self.PressDeskCheckpoint;
  const configElement = document.getElementById("checkpoint-config");
  if (!core || !configElement) {
    return;
  }
  const config = {
    worker: configElement.dataset.worker,
    timeZone: configElement.dataset.timezone,
    locale: configElement.dataset.locale,
    app: configElement.dataset.app,
  };
  const PERMIT_PATH = /^\/v\/[A-Za-z0-9_-]{1,200}$/;
  const SCAN_INTERVAL_MS = 250;

  // --- words and values -------------------------------------------------------------------

  function parts(instant, options, timeZone) {
    const found = {};
    new Intl.DateTimeFormat(config.locale === "vi" ? "vi" : "en",
                            Object.assign({ timeZone: timeZone, hourCycle: "h23" }, options))
      .formatToParts(new Date(instant)).forEach(function (part) { found[part.type] = part.value; });
    return found;
  }

  function formatDate(found) {
    // app/i18n.py DATE_PATTERNS: "dd/MM/yyyy" in Vietnamese, "d MMM yyyy" in English.
    if (config.locale === "vi") {
      return found.day.padStart(2, "0") + "/" + found.month.padStart(2, "0") + "/" + found.year;
    }
    return String(Number(found.day)) + " " + found.month + " " + found.year;
  }

  /** A date (YYYY-MM-DD) as the server writes it. */
  function day(isoDate) {
    const [year, month, date] = isoDate.split("-").map(Number);
    const options = { year: "numeric", month: config.locale === "vi" ? "2-digit" : "short", day: "2-digit" };
    return formatDate(parts(Date.UTC(year, month - 1, date), options, "UTC"));
  }

  /** An instant (ms or ISO text) in the province's time, as the server's `when` filter writes it. */
  function when(instant) {
    const moment = typeof instant === "string" ? Date.parse(instant) : instant;
    const found = parts(moment, { year: "numeric", month: config.locale === "vi" ? "2-digit" : "short",
                                  day: "2-digit", hour: "2-digit", minute: "2-digit" }, config.timeZone);
    return formatDate(found) + (config.locale === "vi" ? " " : ", ") + found.hour + ":" + found.minute;
  }

  /** "2 hours ago", "5 phút trước": how old the data is. */
  function age(seconds) {
    const format = new Intl.RelativeTimeFormat(config.locale, { numeric: "auto" });
    if (seconds < 60) {
      return format.format(-seconds, "second");
    }
    if (seconds < 3600) {
      return format.format(-Math.floor(seconds / 60), "minute");
    }
    if (seconds < 48 * 3600) {
      return format.format(-Math.floor(seconds / 3600), "hour");
    }
    return format.format(-Math.floor(seconds / 86400), "day");
  }

  function fill(node, values) {
    node.querySelectorAll("[data-slot]").forEach(function (place) {
      const value = values[place.dataset.slot];
      if (value !== undefined && value !== null) {
        place.textContent = String(value);
      }
    });
    return node;
  }

  /** The content of <template id=...>, its slots filled. */
  function piece(id, values) {
    const template = document.getElementById(id);
    return fill(template.content.cloneNode(true), values || {});
  }

  function put(container, content) {
    container.replaceChildren(content);
  }

  /** Show the [data-when] children of `element` that match `state`, hide the others. */
  function choose(element, state) {
    Array.from(element.children).forEach(function (child) {
      if (child.dataset.when) {
        child.hidden = child.dataset.when !== state;
      }
    });
  }

  function telephone(number) {
    return "tel:" + number.replace(/\s+/g, "");
  }

  async function start() {
    // Service workers and WebCrypto exist only on https:// (or localhost): say so rather than fail later.
    const insecure = document.getElementById("insecure-address");
    if (insecure && !self.isSecureContext) {
      insecure.hidden = false;
    }
    if ("serviceWorker" in navigator) {
      navigator.serviceWorker.register(config.worker, { scope: "/" }).catch(function () {
        // Without a worker (a browser that refuses it), the page still works online.
      });
    }
    // The language the worker uses for an offline verdict opened without ?lang=.
    await core.store.put("language", config.locale).catch(function () {});
  }

  self.PressDeskCheckpointPage = { config: config, day: day, when: when, age: age, piece: piece, fill: fill,
                                   put: put, choose: choose, telephone: telephone, start: start };

  // --- /check ------------------------------------------------------------------------------

  const appRoot = document.getElementById("checkpoint-app");
  if (appRoot) {
    const syncMessage = document.getElementById("sync-message");
    const scanMessage = document.getElementById("scan-message");
    const syncButton = document.getElementById("sync-now");

    async function render() {
      const kept = await core.state();
      const now = Date.now();
      choose(document.getElementById("status-network"), navigator.onLine ? "online" : "offline");
      const deviceState = kept.device ? "enrolled" : (kept.notice === "wiped" ? "wiped" : "public");
      fill(document.getElementById("status-device"),
           { checkpoint: kept.device ? kept.device.checkpoint_name : "" });
      choose(document.getElementById("status-device"), deviceState);
      choose(appRoot.querySelector(".checkpoint-status"), kept.device ? "enrolled" : "none");
      const keys = document.getElementById("status-keys");
      if (!kept.keySet) {
        choose(keys, "missing");
      } else {
        fill(keys, { date: when(kept.keySet.valid_until) });
        choose(keys, Date.parse(kept.keySet.valid_until) <= now ? "expired" : "valid");
      }
      const revocations = document.getElementById("status-revocations");
      if (!kept.revocations) {
        choose(revocations, "missing");
      } else {
        const seconds = Math.max(0, Math.round((now - Date.parse(kept.revocations.issued_at)) / 1000));
        const hours = kept.keySet ? kept.keySet.max_data_age_hours : 0;
        fill(revocations, { age: age(seconds), time: when(kept.revocations.issued_at), hours: hours });
        choose(revocations, kept.keySet && seconds <= hours * 3600 ? "fresh" : "stale");
      }
      fill(document.getElementById("status-permits"), { count: kept.permits ? kept.permits.permits.length : 0 });
      fill(document.getElementById("status-queue"), { count: kept.queued });
    }

    async function syncNow() {
      if (!navigator.onLine) {
        put(syncMessage, piece("message-offline"));
        return render();
      }
      syncButton.disabled = true;
      put(syncMessage, piece("message-syncing"));
      try {
        await core.sync();
        put(syncMessage, piece("message-synced", { time: when(Date.now()) }));
      } catch (error) {
        put(syncMessage, piece(navigator.onLine ? "message-failed" : "message-offline"));
      } finally {
        syncButton.disabled = false;
      }
      return render();
    }

    // The app's own scanner, where the browser has one; otherwise the phone's camera app opens
    // the permit's address, which the worker answers.
    const scanStart = document.getElementById("scan-start");
    const scanStop = document.getElementById("scan-stop");
    const video = document.getElementById("scanner");
    let stream = null;

    function stopScan() {
      if (stream) {
        stream.getTracks().forEach(function (track) { track.stop(); });
      }
      stream = null;
      video.hidden = scanStop.hidden = true;
      scanStart.hidden = false;
    }

    async function scan(detector) {
      if (!stream) {
        return;
      }
      let codes = [];
      try {
        codes = await detector.detect(video);
      } catch (error) {
        codes = [];
      }
      for (const code of codes) {
        let address = null;
        try {
          address = new URL(code.rawValue, location.href);
        } catch (error) {
          address = null;
        }
        // Only the path counts: the token is checked against this site's keys wherever it points.
        if (address && PERMIT_PATH.test(address.pathname)) {
          stopScan();
          location.assign(address.pathname + "?lang=" + config.locale);
          return;
        }
        put(scanMessage, piece("message-not-permit"));
      }
      setTimeout(function () { scan(detector); }, SCAN_INTERVAL_MS);
    }

    async function startScan() {
      scanMessage.replaceChildren();
      try {
        const detector = new self.BarcodeDetector({ formats: ["qr_code"] });
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
        video.srcObject = stream;
        video.hidden = scanStop.hidden = false;
        scanStart.hidden = true;
        await video.play();
        scan(detector);
      } catch (error) {
        stopScan();
        put(scanMessage, piece("message-camera"));
      }
    }

    if ("BarcodeDetector" in self && navigator.mediaDevices) {
      scanStart.hidden = false;
      document.getElementById("scan-unavailable").hidden = true;
      scanStart.addEventListener("click", startScan);
      scanStop.addEventListener("click", stopScan);
    }
    syncButton.addEventListener("click", syncNow);
    self.addEventListener("online", syncNow);
    self.addEventListener("offline", render);
    start().then(render).then(syncNow);
  }

  // --- /check/enrol --------------------------------------------------------------------

  const enrolRoot = document.getElementById("checkpoint-enrol");
  if (enrolRoot) {
    const form = document.getElementById("enrol-form");
    const input = document.getElementById("enrol-code");
    const message = document.getElementById("enrol-message");

    async function enrol(event) {
      if (event) {
        event.preventDefault();
      }
      const code = input.value.trim();
      if (!code) {
        put(message, piece("message-empty"));
        input.focus();
        return;
      }
      if (!navigator.onLine) {
        put(message, piece("message-offline"));
        return;
      }
      put(message, piece("message-enrolling"));
      let response;
      try {
        response = await core.enrol(code, config.locale);
      } catch (error) {
        put(message, piece("message-offline"));
        return;
      }
      if (response.status !== 201) {
        const said = response.body && typeof response.body.error === "string" ? response.body.error : null;
        put(message, said ? document.createTextNode(said) : piece("message-failed"));
        return;
      }
      input.value = "";
      form.hidden = true; // enrolled: the next step is the app, not another code
      const name = { checkpoint: response.body.checkpoint_name };
      try {
        await core.sync();
        put(message, piece("message-enrolled", name));
      } catch (error) {
        put(message, piece("message-enrolled-unsynced", name));
      }
    }

    form.addEventListener("submit", enrol);
    start().then(function () {
      // The staff page's QR code carries the code after "#": the server never sees it, and it
      // leaves the address (and the history) at once.
      const fromAddress = decodeURIComponent(location.hash.replace(/^#/, ""));
      if (fromAddress) {
        history.replaceState(null, "", location.pathname + location.search);
        input.value = fromAddress;
        enrol(null);
      }
    });
  }
})();
