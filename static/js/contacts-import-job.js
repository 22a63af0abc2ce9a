// Relais: a background import's page. Polls its JSON status while it is queued or running, moves the
// bar, and reloads once it has finished (the page then shows the report). Without script, the page
// refreshes itself (meta refresh).
(function () {
  "use strict";
  var section = document.getElementById("import-job");
  if (!section) return;
  var bar = document.getElementById("import-job-bar");
  var text = document.getElementById("import-job-text");
  var badge = document.getElementById("import-job-status");
  var labels = { queued: "en attente", running: "en cours", done: "terminé", failed: "échoué" };

  function poll() {
    fetch(section.dataset.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) {
        if (data.status === "done" || data.status === "failed") {
          window.location.reload();
          return;
        }
        bar.max = data.total || 1;
        bar.value = data.bytes;
        text.textContent = data.rows + " lignes lues, " + Math.floor(data.bytes / 1024) + " Ko sur " +
          Math.floor(data.total / 1024) + " Ko";
        badge.textContent = labels[data.status] || data.status;
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 10000); });
  }
  window.setTimeout(poll, 1000);
})();
