// Dashboard: the print button, and every figures table opened on paper (the charts themselves
// are server-side SVG and need no script).
(function () {
  "use strict";
  var button = document.getElementById("print-dashboard");
  if (button) {
    button.addEventListener("click", function () { window.print(); });
  }
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.chart-table-details").forEach(function (details) {
      details.open = true;
    });
  });
  document.documentElement.classList.add("dashboard-ready");
})();
