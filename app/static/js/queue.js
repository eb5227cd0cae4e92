// The queue's "Select all on this page" checkbox. Without JavaScript the box stays hidden and
// each row is selected by its own checkbox.
(function () {
  "use strict";
  var selectAll = document.querySelector("[data-select-all]");
  if (!selectAll) {
    return;
  }
  var rows = Array.prototype.slice.call(document.querySelectorAll("[data-row-select]"));
  if (!rows.length) {
    return;
  }
  var holder = document.querySelector("[data-select-all-holder]");
  if (holder) {
    holder.classList.remove("d-none");
  }
  function refresh() {
    var checked = rows.filter(function (row) { return row.checked; }).length;
    selectAll.checked = checked === rows.length;
    selectAll.indeterminate = checked > 0 && checked < rows.length;
  }
  selectAll.addEventListener("change", function () {
    rows.forEach(function (row) { row.checked = selectAll.checked; });
    refresh();
  });
  rows.forEach(function (row) { row.addEventListener("change", refresh); });
  refresh();
})();
