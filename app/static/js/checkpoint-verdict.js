/* The offline verdict (templates/checkpoint/app/offline.html): the service worker answers /v/<token>
 * with that page when there is no network, and this checks the token on the phone
 * (PressDeskCheckpoint.verdict), says so with the data's age, shows the holder as approved if this
 * phone is an enrolled checkpoint device that keeps the permit, and logs the check for the server.
 */
(function () {
  "use strict";

  const core = self.PressDeskCheckpoint;
  const page = self.PressDeskCheckpointPage;
  const root = document.getElementById("checkpoint-verdict");
  if (!core || !page || !root) {
    return;
  }
  const language = page.config.locale;
  const SHOWS_HOLDER = ["valid", "not_yet_valid", "expired", "revocation_unknown"];

  function localised(names) {
    if (!names || typeof names !== "object") {
      return names || "";
    }
    return names[language] || names.vi || names.en || "";
  }

  function drop(node, field) {
    node.querySelectorAll('[data-field="' + field + '"]').forEach(function (element) { element.remove(); });
  }

  function holderDetails(permit, values) {
    const holder = permit.holder || {};
    const escort = permit.escort || {};
    const details = page.piece("details-holder", Object.assign({}, values, {
      holder: holder.full_name, nationality: localised(holder.nationality), role: localised(holder.role),
      outlet: holder.outlet, conditions: localised(permit.conditions), number: permit.register_number,
      "escort-name": escort.name, "escort-phone": escort.phone,
    }));
    const photo = details.querySelector('[data-field="photo"]');
    if (typeof permit.photo === "string" && permit.photo.startsWith("data:image/")) {
      photo.src = permit.photo;
      photo.alt = photo.dataset.alt.replace("%(name)s", holder.full_name || "");
      drop(details, "no-photo");
    } else {
      drop(details, "photo");
    }
    const places = details.querySelector('[data-field="places"]');
    (Array.isArray(permit.places) ? permit.places : []).forEach(function (place) {
      const days = Array.isArray(place.days) ? place.days : [];
      const item = page.piece("place-item", { place: localised(place), days: days.map(page.day).join(", ") });
      if (!place.border) {
        drop(item, "border");
      }
      if (!days.length) {
        drop(item, "days");
      }
      places.append(item);
    });
    if (!localised(permit.conditions)) {
      drop(details, "conditions");
    }
    if (!escort.name && !escort.phone) {
      drop(details, "escort");
    } else if (!escort.phone) {
      drop(details, "escort-phone");
    } else {
      details.querySelector('[data-field="escort-link"]').href = page.telephone(escort.phone);
    }
    return details;
  }

  function revokedDetails(answer) {
    const known = answer.revokedHolder || {};
    const details = page.piece("details-revoked", {
      number: known.register_number, holder: known.full_name, "revoked-at": page.when(answer.revokedAt) });
    if (!known.register_number) {
      drop(details, "number");
    }
    if (!known.full_name) {
      drop(details, "holder");
    }
    return details;
  }

  function render(answer) {
    const claims = answer.claims;
    const keySet = answer.keySet;
    const values = {
      "valid-from": claims ? page.day(claims.validFrom) : "",
      "valid-until": claims ? page.day(claims.validUntil) : "",
      "revoked-at": answer.revokedAt ? page.when(answer.revokedAt) : "",
      hours: answer.maxDataAgeHours,
      "keys-until": keySet ? page.when(keySet.valid_until) : "",
    };
    const dataAge = document.getElementById("data-age");
    if (answer.revocationsIssuedAt) {
      page.put(dataAge, page.piece("data-age-fresh", { age: page.age(answer.dataAgeSeconds),
                                                       time: page.when(answer.revocationsIssuedAt) }));
    } else {
      page.put(dataAge, page.piece("data-age-missing"));
    }
    page.put(document.getElementById("verdict-box"), page.piece("verdict-" + answer.outcome, values));
    const checkedAt = document.getElementById("checked-at");
    page.fill(checkedAt, { time: page.when(answer.checkedAt) });
    checkedAt.hidden = false;

    const instruction = document.getElementById("instruction");
    if (answer.outcome !== "no_token") {
      page.put(document.getElementById("instruction-text"), page.piece("instruction-" + answer.outcome, values));
      const hotline = document.getElementById("hotline");
      if (keySet && keySet.hotline) {
        hotline.textContent = hotline.dataset.label.replace("%(number)s", keySet.hotline);
        hotline.href = page.telephone(keySet.hotline);
        hotline.hidden = false;
      }
      instruction.hidden = false;
    }

    const details = document.getElementById("details");
    if (answer.outcome === "revoked") {
      page.put(details, revokedDetails(answer));
    } else if (SHOWS_HOLDER.indexOf(answer.outcome) >= 0) {
      if (answer.device && answer.permit) {
        page.put(details, holderDetails(answer.permit, values));
      } else {
        page.put(details, page.piece(answer.device ? "details-not-kept" : "details-public", values));
      }
    }
  }

  async function check() {
    const match = location.pathname.match(/^\/v\/([A-Za-z0-9_-]{1,200})$/);
    const now = Date.now();
    const answer = match
      ? await core.verdict(match[1], now, page.config.timeZone)
      : { outcome: "no_token", checkedAt: now, keySet: null };
    render(answer);
    root.dataset.outcome = answer.outcome; // for the browser tests, and for anyone reading the page
    if (match) {
      await core.recordCheck(answer);
    }
    if (navigator.onLine) {
      core.uploadChecks().catch(function () {});
    }
  }

  self.addEventListener("online", function () { core.sync().catch(function () {}); });
  page.start().then(check);
})();
