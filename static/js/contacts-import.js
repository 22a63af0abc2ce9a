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

// Upload: send the file with XMLHttpRequest to show how much has gone; the server answers with a
// redirect to the mapping page, which the browser follows.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var box = document.getElementById("upload-progress");
  var bar = box.querySelector("progress");
  var text = box.querySelector("p");
  var sending = false;

  form.addEventListener("submit", function (event) {
    if (sending) return; // the plain submit below: let it through
    event.preventDefault();
    sending = true;
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action") || window.location.href);
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      box.hidden = false;
      bar.value = Math.round((100 * e.loaded) / e.total);
      text.textContent = "Envoi du fichier : " + bar.value + " %";
    });
    xhr.addEventListener("load", function () {
      if (xhr.status === 200 && xhr.responseURL && xhr.responseURL !== window.location.href) {
        window.location.assign(xhr.responseURL);
      } else {
        form.submit(); // the form has an error to show: an ordinary post displays it
      }
    });
    xhr.addEventListener("error", function () { form.submit(); });
    xhr.send(new FormData(form));
  });
})();
