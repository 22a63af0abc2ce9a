// Relais: the programme page tells each printed document's pages, paper and weight before download.
// One request at a time (a document not yet printed is printed once, then cached by data version).
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-print-info]"));
  var fr = document.documentElement.lang !== "en";

  function describe(info) {
    var pages = info.pages + (fr ? (info.pages > 1 ? " pages" : " page") : (info.pages > 1 ? " pages" : " page"));
    var kb = info.kb < 1024 ? info.kb + (fr ? " Ko" : " KB") : (info.kb / 1024).toFixed(1) + (fr ? " Mo" : " MB");
    return "PDF · " + pages + " " + info.paper + " · " + kb;
  }

  function next() {
    var item = items.shift();
    if (!item) return;
    var out = item.querySelector(".print-info");
    fetch(item.dataset.printInfo, { headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : null; })
      .then(function (info) { if (info) out.textContent = describe(info); })
      .catch(function () {})
      .then(next);
  }
  next();
})();
