// Check-in on the day: filter the list as one types a name (works offline of any framework).
(function () {
  "use strict";
  var input = document.getElementById("checkin-filter");
  var list = document.getElementById("checkin-list");
  if (!input || !list) return;
  input.addEventListener("input", function () {
    var words = input.value.toLowerCase().trim().split(/\s+/).filter(Boolean);
    Array.prototype.forEach.call(list.querySelectorAll("li[data-search]"), function (item) {
      var text = item.getAttribute("data-search");
      item.hidden = !words.every(function (word) { return text.indexOf(word) !== -1; });
    });
  });
})();
