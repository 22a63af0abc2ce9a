// Check-in on the day: filter the list as one types a name (works offline of any framework).
(function () {
  "use strict";
  var input = document.getElementById("checkin-filter");
  var list = document.getElementById("checkin-list");
  if (!input || !list) return;
  function fold(text) { // as matching.fold on the server: accents, ligatures and case aside
    return text.replace(/[œŒ]/g, "oe").replace(/[æÆ]/g, "ae").replace(/ß/g, "ss").replace(/’/g, "'")
      .normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  input.addEventListener("input", function () {
    var words = fold(input.value).trim().split(/\s+/).filter(Boolean);
    Array.prototype.forEach.call(list.querySelectorAll("li[data-search]"), function (item) {
      var text = item.getAttribute("data-search");
      item.hidden = !words.every(function (word) { return text.indexOf(word) !== -1; });
    });
  });
})();
