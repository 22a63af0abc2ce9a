// Relais: the template editor's live preview (in a sandboxed iframe) and the message weight.
(function () {
  "use strict";
  var form = document.getElementById("template-form");
  if (!form) return;
  var frame = document.getElementById("preview-frame");
  var subject = document.getElementById("preview-subject");
  var weight = document.getElementById("preview-kb");
  var problem = document.getElementById("preview-error");
  var contact = document.getElementById("preview-contact");
  var token = form.querySelector('input[name="csrf_token"]');
  var timer = null;
  var latest = 0; // only the answer to the newest request is shown: answers can arrive out of order

  function value(name) {
    var field = form.querySelector('[name="' + name + '"]');
    return field ? field.value : "";
  }

  function refresh() {
    var asked = ++latest;
    fetch(form.dataset.previewUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": token ? token.value : "" },
      body: JSON.stringify({
        subject: value("subject"),
        html: value("html"),
        text: value("text"),
        contact_id: contact.value
      })
    })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        if (asked !== latest) return;
        if (data.error) {
          problem.textContent = data.error;
          problem.hidden = false;
          return;
        }
        problem.hidden = true;
        subject.textContent = data.subject;
        weight.textContent = String(data.kb).replace(".", ",");
        frame.srcdoc = data.html;
      });
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(refresh, 400);
  }

  form.addEventListener("input", later);
  contact.addEventListener("change", refresh);
  refresh();
})();
