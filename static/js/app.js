/* GreenFin pages: small enhancements only; every page works without them. */
(function () {
  "use strict";

  // One open menu at a time; a click elsewhere or Escape closes it.
  function closeMenus(except) {
    document.querySelectorAll("details.nav-group[open]").forEach(function (d) {
      if (d !== except) { d.removeAttribute("open"); }
    });
  }

  // A table on a phone stacks its rows: each cell carries its column's heading as a label.
  function labelTables() {
    document.querySelectorAll(".table-wrap table:not(.wide)").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      if (!heads.length) { return; }
      table.classList.add("stack");
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        var col = 0;
        Array.prototype.forEach.call(tr.children, function (cell) {
          if (!cell.hasAttribute("data-label")) { cell.setAttribute("data-label", heads[col] || ""); }
          col += cell.colSpan || 1;
        });
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    labelTables();
    document.querySelectorAll("details.nav-group").forEach(function (d) {
      d.addEventListener("toggle", function () { if (d.open) { closeMenus(d); } });
    });
    document.addEventListener("click", function (event) {
      if (!event.target.closest("details.nav-group")) { closeMenus(null); }
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { closeMenus(null); }
    });
  });
}());
