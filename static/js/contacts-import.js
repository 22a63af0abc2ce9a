// Contact import: run the import with fetch and show its progress, read from the streamed
// NDJSON answer ({rows, bytes, total} lines, then {done, report_url} or {error}).
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form || !window.fetch || !window.TextDecoder) return;
  var box = document.getElementById(form.dataset.progress);
  var bar = box.querySelector("progress");
  var text = box.querySelector("p");

  function show(message) {
    box.hidden = false;
    text.textContent = message;
  }

  function handle(line) {
    if (!line.trim()) return;
    var data = JSON.parse(line);
    if (data.error) {
      show(data.error);
      bar.hidden = true;
      form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
    } else if (data.done) {
      bar.value = 100;
      window.location.assign(data.report_url);
    } else {
      if (data.total) bar.value = Math.min(100, Math.round((100 * data.bytes) / data.total));
      show(data.rows + " lignes traitées");
    }
  }

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || button.value === "preview") return; // the preview is an ordinary page load
    event.preventDefault();
    var body = new FormData(form, button);
    form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    show("Envoi…");
    fetch(form.getAttribute("action"), { method: "POST", body: body, headers: { Accept: "application/x-ndjson" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) { handle(buffer); return; }
            buffer += decoder.decode(chunk.value, { stream: true });
            var lines = buffer.split("\n");
            buffer = lines.pop();
            lines.forEach(handle);
            return pump();
          });
        }
        return pump();
      })
      .catch(function (error) {
        show("L'import n'a pas abouti : " + error.message);
        form.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      });
  });
})();
