// Relais: the mailing page's live progress. Polls the JSON endpoint while the mailing is active.
(function () {
  "use strict";
  var section = document.getElementById("progress");
  if (!section) return;
  var url = section.dataset.url;
  var bar = document.getElementById("progress-bar");
  var text = document.getElementById("progress-text");
  var badge = document.getElementById("mailing-status");
  var reason = document.getElementById("mailing-reason");
  var active = ["scheduled", "sending"];
  var startedActive = active.indexOf(section.dataset.status) !== -1;

  function render(data) {
    var stats = data.stats;
    bar.max = stats.total || 1;
    bar.value = data.done;
    text.textContent = data.done + " / " + stats.total;
    Object.keys(stats).forEach(function (key) {
      var cell = section.querySelector('[data-count="' + key + '"]');
      if (cell) cell.textContent = stats[key];
    });
    badge.textContent = data.status_label;
    badge.className = "badge status-" + data.status;
    section.dataset.status = data.status;
    reason.textContent = data.status_reason || "";
    reason.hidden = !data.status_reason;
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) {
        render(data);
        if (active.indexOf(data.status) !== -1) {
          window.setTimeout(poll, 1000);
        } else if (startedActive) {
          startedActive = false;
          window.location.reload(); // the delivery log and the actions change with the status
        }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }

  if (startedActive) poll();
})();
