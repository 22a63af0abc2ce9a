// Relais: what every staff and public page does on a phone (loaded by base.html).
// - the main navigation folds behind a "Menu" button on narrow screens;
// - each data table can read as a list of cards: every cell is given its column's name; a table
//   wider than the page scrolls inside its own frame;
// - after a form is sent back with errors, the first wrong field gets the focus.
// Without JavaScript the navigation wraps and wide tables scroll inside themselves (relais.css).
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  var header = document.querySelector(".site-header");
  var toggle = header && header.querySelector(".menu-toggle");
  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = header.classList.toggle("menu-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("main table"), function (table) {
    var head = table.tHead && table.tHead.rows[table.tHead.rows.length - 1];
    if (!head || table.classList.contains("not-stacked")) return;
    var names = [];
    Array.prototype.forEach.call(head.cells, function (cell) {
      for (var i = 0; i < (cell.colSpan || 1); i++) names.push(cell.textContent.trim());
    });
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          var name = names[column];
          if (name && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", name);
          column += cell.colSpan || 1;
        });
      });
    });
    table.classList.add("stacked");
  });

  // Between a phone and a wide screen, a table wider than the page scrolls inside its own frame.
  Array.prototype.forEach.call(document.querySelectorAll("main table"), function (table) {
    if (table.parentElement.classList.contains("table-frame")) return;
    var frame = document.createElement("div");
    frame.className = "table-frame";
    table.parentNode.insertBefore(frame, table);
    frame.appendChild(table);
  });

  var wrong = document.querySelector("main [aria-invalid=true]");
  if (wrong && !document.querySelector("[autofocus]")) {
    wrong.focus();
  }
})();
