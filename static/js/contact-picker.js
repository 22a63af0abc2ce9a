// Relais: choose contacts by name. Typing in the search box asks the contact search (JSON) and lists
// the matches; choosing one adds a ticked checkbox `contact_ids` to "Contacts choisis". Without
// JavaScript the "Chercher" button does the same by reloading the form.
(function () {
  "use strict";
  var picker = document.querySelector(".contact-picker");
  if (!picker) return;
  var input = picker.querySelector("#contact-search");
  var results = picker.querySelector("#contact-results");
  var chosen = picker.querySelector("#contacts-chosen");
  var none = picker.querySelector("#contacts-none");
  var url = picker.dataset.searchUrl;
  var timer = null;
  var asked = 0;

  function chosenIds() {
    var ids = {};
    chosen.querySelectorAll("input[name=contact_ids]").forEach(function (box) { ids[box.value] = box; });
    return ids;
  }

  function choose(item) {
    var ids = chosenIds();
    if (ids[item.id]) { ids[item.id].checked = true; return; }
    var li = document.createElement("li");
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox"; box.name = "contact_ids"; box.value = item.id; box.checked = true;
    label.appendChild(box);
    label.appendChild(document.createTextNode(" " + item.label));
    li.appendChild(label);
    chosen.appendChild(li);
    none.hidden = true;
  }

  function show(items) {
    results.textContent = "";
    var ids = chosenIds();
    items.forEach(function (item) {
      if (ids[item.id] && ids[item.id].checked) return;
      var li = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "secondary outline";
      button.setAttribute("role", "option");
      button.textContent = "+ " + item.label;
      button.addEventListener("click", function () {
        choose(item);
        li.remove();
        input.focus();
      });
      li.appendChild(button);
      results.appendChild(li);
    });
  }

  function ask() {
    var text = input.value.trim();
    var mine = ++asked;
    if (text.length < 2) { show([]); return; }
    var sep = url.indexOf("?") === -1 ? "?" : "&";
    fetch(url + sep + "q=" + encodeURIComponent(text), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (answer) { return answer.ok ? answer.json() : { items: [] }; })
      .then(function (data) { if (mine === asked) show(data.items || []); })
      .catch(function () { if (mine === asked) show([]); });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 200);
  });
  input.addEventListener("keydown", function (event) {
    if (event.key !== "Enter") return;
    event.preventDefault();  // Enter picks the first match instead of sending the whole form
    var first = results.querySelector("button");
    if (first) first.click();
  });
})();
