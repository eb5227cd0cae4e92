// The registration form, enhanced. Without this file everything works by page loads: each button
// of the form saves the draft and does its part on the server. With it:
// - "Add a day", "Attach the file" and "Yes, remove" send the same form in the background and put
//   the server's new itinerary or attachments section in place, without a page load (the server
//   has saved the whole draft, so the rest of the page already matches what is stored);
// - places are found by typing, and a border-area place says at once what that means;
// - each date shows, in words, the day it means, and the first itinerary day follows the first day;
// - choosing a file attaches it;
// - a refused submission's summary takes the focus.
(function () {
  "use strict";

  var form = document.getElementById("registration-form");
  if (!form) return;
  var status = document.getElementById("form-status");
  var locale = document.documentElement.lang || "en";

  function fold(text) {  // accent- and case-insensitive: "tan ninh" finds "Tân Ninh"
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").replace(/đ/g, "d").replace(/Đ/g, "D")
      .toLowerCase().trim();
  }

  // --- dates in words ---------------------------------------------------------
  function echoDate(input) {
    var hint = document.getElementById(input.id + "-hint2");
    if (!hint || !input.value) return;
    var parts = input.value.split("-").map(Number);
    if (parts.length !== 3 || parts.some(isNaN)) return;
    var when = new Date(Date.UTC(parts[0], parts[1] - 1, parts[2]));
    hint.textContent = new Intl.DateTimeFormat(locale, { dateStyle: "full", timeZone: "UTC" }).format(when);
  }

  // --- places: found by typing, border areas said at once --------------------
  function borderNote(select) {
    var day = select.closest("[data-itinerary-day]");
    var note = day && day.querySelector("[data-border-note]");
    if (!note) return;
    var option = select.options[select.selectedIndex];
    note.hidden = !(option && option.dataset.border === "true");
  }

  function placeList(select) {
    var list = document.getElementById("place-options");
    if (list) return list;
    list = document.createElement("datalist");
    list.id = "place-options";
    Array.prototype.forEach.call(select.options, function (option) {
      if (!option.value) return;
      var item = document.createElement("option");
      item.value = option.text;
      list.appendChild(item);
    });
    form.appendChild(list);
    return list;
  }

  function enhancePlace(select) {
    if (select.dataset.enhanced) return;
    select.dataset.enhanced = "true";
    var input = document.createElement("input");
    input.type = "text";
    input.className = "form-control";
    input.id = select.id + "-search";
    input.autocomplete = "off";
    input.setAttribute("list", placeList(select).id);
    ["aria-describedby", "aria-invalid", "aria-required"].forEach(function (name) {
      if (select.hasAttribute(name)) input.setAttribute(name, select.getAttribute(name));
    });
    if (select.selectedIndex > 0) input.value = select.options[select.selectedIndex].text;
    var label = form.querySelector('label[for="' + select.id + '"]');
    if (label) label.htmlFor = input.id;
    var help = document.createElement("div");
    help.className = "form-text";
    help.id = input.id + "-help";
    help.textContent = form.dataset.placeHelp || "";
    input.setAttribute("aria-describedby", ((input.getAttribute("aria-describedby") || "") + " " + help.id).trim());
    select.hidden = true;
    select.setAttribute("aria-hidden", "true");
    select.insertAdjacentElement("afterend", input);
    input.insertAdjacentElement("afterend", help);

    function choose(final) {
      var typed = fold(input.value);
      var options = Array.prototype.filter.call(select.options, function (option) { return option.value; });
      var exact = options.filter(function (option) { return fold(option.text) === typed; });
      var matches = exact.length ? exact : options.filter(function (option) {
        return typed && fold(option.text).indexOf(typed) !== -1;
      });
      if (matches.length === 1 && (exact.length || final)) {
        select.value = matches[0].value;
        if (final) input.value = matches[0].text;
        help.textContent = form.dataset.placeHelp || "";
      } else {
        select.value = "";
        if (final && typed) help.textContent = form.dataset.placeNotFound || "";
      }
      borderNote(select);
    }
    input.addEventListener("input", function () { choose(false); });
    input.addEventListener("change", function () { choose(true); });
  }

  function enhance(root) {
    root.querySelectorAll("select.place-select").forEach(function (select) {
      enhancePlace(select);
      borderNote(select);
    });
    root.querySelectorAll('input[type="date"]').forEach(function (input) {
      input.addEventListener("change", function () { echoDate(input); });
    });
  }

  // --- buttons that save and update one section, without a page load --------------
  function say(messages) {
    var box = document.getElementById("form-messages");
    if (!box) {
      box = document.createElement("div");
      box.id = "form-messages";
      box.setAttribute("role", "status");
      box.setAttribute("tabindex", "-1");
      form.insertAdjacentElement("beforebegin", box);
    }
    box.replaceChildren.apply(box, messages);
    status.textContent = messages.map(function (message) { return message.textContent; }).join(" ");
  }

  function inBackground(button, event) {
    var sectionId = button.dataset.section;
    event.preventDefault();
    var data = new FormData(form, button);
    button.disabled = true;
    fetch(form.action, { method: "POST", body: data, credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        var sameForm = new URL(response.url).pathname === new URL(form.action, location.href).pathname;
        if (!response.ok || !sameForm) throw new Error("fall back to a page load");
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById(sectionId);
        var version = page.querySelector('#registration-form input[name="version"]');
        if (!fresh || !version) throw new Error("fall back to a page load");
        var section = document.getElementById(sectionId);
        section.replaceWith(fresh);
        form.querySelector('input[name="version"]').value = version.value;
        // The flashed messages ("Draft saved. Attached: …"): the page's own notices have ids.
        say(Array.prototype.map.call(page.querySelectorAll("main > .alert:not([id])"), function (alert) {
          return document.importNode(alert, true);
        }));
        enhance(fresh);
        wire(fresh);
        var focus = sectionId === "itinerary"
          ? fresh.querySelector("[data-itinerary-day]:last-of-type input, [data-itinerary-day]:last-of-type select")
          : document.getElementById("form-messages");
        if (focus) focus.focus();
      })
      .catch(function () {
        button.disabled = false;
        form.dataset.plain = "true";  // the server answers with a page: let the browser show it
        form.requestSubmit(button);
      });
  }

  function wire(root) {
    root.querySelectorAll("[data-section]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        if (form.dataset.plain) return;
        inBackground(button, event);
      });
    });
  }

  // Choosing a file attaches it at once (one tap less on a phone); without this file, "Attach the file".
  form.addEventListener("change", function (event) {
    if (event.target.name !== "attachment_file" || !event.target.files.length) return;
    var attach = form.querySelector('[name="attach"]');
    if (attach) attach.click();
  });
  // The first day of the itinerary follows the first day of the programme until it is set by hand.
  var start = form.querySelector('input[name="start_date"]');
  if (start) {
    start.addEventListener("change", function () {
      var firstDay = form.querySelector('input[name="itinerary-0-day"]');
      if (firstDay && !firstDay.value && start.value) {
        firstDay.value = start.value;
        echoDate(firstDay);
      }
    });
  }

  enhance(form);
  wire(form);
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
