// Long checkbox lists (countries, languages: templates/products/_publication_fields.html): a box
// above each list that hides the options not matching what is typed, ignoring case and accents
// ("viet" finds "Việt Nam"), and a live count of the chosen ones. Without JavaScript the list is
// a plain, scrollable list of checkboxes. Hidden options stay in the form: a chosen one that the
// filter hides is still sent.
(function () {
  "use strict";

  // Lower case, without diacritics: "Đức" -> "duc", "Việt Nam" -> "viet nam".
  function fold(text) {
    return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().replace(/đ/g, "d");
  }

  function setUp(list, number) {
    var box = list.querySelector(".choice-list-box");
    if (!box) {
      return;
    }
    var items = Array.prototype.slice.call(box.querySelectorAll("li"));
    var groups = Array.prototype.slice.call(box.querySelectorAll("ul"));
    var keys = items.map(function (item) { return fold(item.getAttribute("data-search") || item.textContent); });

    var filterId = (list.id || "choice-list-" + number) + "-filter";
    var holder = document.createElement("div");
    holder.className = "mb-2";
    var label = document.createElement("label");
    label.className = "form-label small mb-1";
    label.htmlFor = filterId;
    label.textContent = list.getAttribute("data-filter-label");
    var input = document.createElement("input");
    input.type = "search";
    input.id = filterId;
    input.className = "form-control form-control-sm";
    input.autocomplete = "off";
    input.setAttribute("aria-controls", box.id);
    holder.appendChild(label);
    holder.appendChild(input);
    box.parentNode.insertBefore(holder, box);

    var nothing = document.createElement("p");
    nothing.className = "small text-body-secondary mb-0";
    nothing.setAttribute("role", "status");
    box.appendChild(nothing);

    function filter() {
      var words = fold(input.value).split(/\s+/).filter(function (word) { return word; });
      var shown = 0;
      items.forEach(function (item, index) {
        var matches = words.every(function (word) { return keys[index].indexOf(word) !== -1; });
        item.hidden = !matches;
        if (matches) {
          shown += 1;
        }
      });
      groups.forEach(function (group) {
        var visible = group.querySelector("li:not([hidden])") !== null;
        group.hidden = !visible;
        var heading = document.getElementById(group.getAttribute("aria-labelledby"));
        if (heading) {
          heading.hidden = !visible;
        }
      });
      nothing.textContent = shown ? "" : list.getAttribute("data-none-text");
    }

    var count = list.querySelector(".choice-count");
    function recount() {
      if (!count) {
        return;
      }
      var chosen = box.querySelectorAll("input[type=checkbox]:checked").length;
      count.textContent = list.getAttribute("data-count-text").replace("{count}", String(chosen));
    }

    input.addEventListener("input", filter);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault(); // Enter in the filter box must not send the form
      }
    });
    box.addEventListener("change", recount);
    if (count) {
      count.hidden = false;
    }
    recount();
  }

  Array.prototype.slice.call(document.querySelectorAll("[data-choice-filter]")).forEach(setUp);
})();
