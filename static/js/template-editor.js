// Relais: write a template without HTML. A contenteditable area over the template's HTML textarea:
// formatting from the toolbar, fields inserted from a French menu and shown as labelled chips
// (stored as {{ contact.first_name }}), answer buttons, links, images with their alternative text.
// The textarea stays the form's field: it is written on every change, and the "HTML" mode shows it.
// Written by hand (no framework, no build): a few hundred lines that the CSP (script-src 'self') allows.
(function () {
  "use strict";
  var root = document.getElementById("visual-editor");
  if (!root) return;
  var source = root.querySelector("textarea");
  var area = root.querySelector(".editor-area");
  var toolbar = root.querySelector(".editor-toolbar");
  var ask = root.querySelector(".editor-ask");
  var toggle = root.querySelector(".mode-toggle");
  var JINJA = /{{[\s\S]*?}}|{%[\s\S]*?%}|{#[\s\S]*?#}/g;
  var templated = root.dataset.templated !== "false"; // a press release is text, not a template: no chips
  var labels = {};
  var saved = null; // the selection, kept while a menu or the address panel has the focus
  var asking = null;

  Array.prototype.forEach.call(root.querySelectorAll(".field-insert"), function (button) {
    labels[button.dataset.field.replace(/\s+/g, "")] = button.textContent.trim();
  });

  // ---- stored HTML <-> what the area shows ------------------------------------------------------

  function chip(raw) {
    var span = document.createElement("span");
    var inner = raw.slice(2, -2).trim();
    span.className = "field-chip";
    span.contentEditable = "false";
    span.dataset.raw = raw;
    if (raw.charAt(1) === "{") {
      span.textContent = labels[inner.replace(/\s+/g, "")] || inner;
      span.title = raw;
    } else {
      span.className += " logic-chip"; // a condition or a loop: kept as written, shown greyed
      span.textContent = inner.split(/\s+/)[0] === "if" ? "si…" : inner.split(/\s+/)[0] === "for" ? "pour chaque…" : inner.indexOf("end") === 0 ? "fin" : inner.split(/\s+/)[0];
      span.title = raw;
    }
    return span;
  }

  function chips(node) {
    // text nodes only: a {{ }} inside an address (href) stays the address
    var walker = document.createTreeWalker(node, NodeFilter.SHOW_TEXT, null);
    var texts = [];
    while (walker.nextNode()) texts.push(walker.currentNode);
    texts.forEach(function (text) {
      var value = text.nodeValue;
      JINJA.lastIndex = 0;
      if (!JINJA.test(value)) return;
      var fragment = document.createDocumentFragment();
      var last = 0;
      value.replace(JINJA, function (match, offset) {
        if (offset > last) fragment.appendChild(document.createTextNode(value.slice(last, offset)));
        fragment.appendChild(chip(match));
        last = offset + match.length;
        return match;
      });
      if (last < value.length) fragment.appendChild(document.createTextNode(value.slice(last)));
      text.parentNode.replaceChild(fragment, text);
    });
  }

  function load() {
    var holder = document.createElement("div");
    holder.innerHTML = source.value.trim() ? source.value : "<p><br></p>";
    if (templated) chips(holder);
    area.innerHTML = "";
    while (holder.firstChild) area.appendChild(holder.firstChild);
  }

  function serialise() {
    var copy = area.cloneNode(true);
    var raws = [];
    Array.prototype.forEach.call(copy.querySelectorAll(".field-chip"), function (span) {
      raws.push(span.dataset.raw);
      span.parentNode.replaceChild(document.createTextNode("\u0001" + (raws.length - 1) + "\u0001"), span);
    });
    var html = copy.innerHTML
      .replace(/(<p><br><\/p>)+$/, "")
      .replace(/&nbsp;(?!&nbsp;)/g, " ") // the spaces the editing area keeps visible are plain spaces
      .replace(/\u0001(\d+)\u0001/g, function (_, i) {
        return raws[Number(i)];
      });
    return html;
  }

  function sync() {
    source.value = serialise();
    source.dispatchEvent(new Event("input", { bubbles: true })); // the live preview listens to the form
  }

  // ---- selection -----------------------------------------------------------------------------

  function keep() {
    var selection = window.getSelection();
    if (selection.rangeCount && area.contains(selection.getRangeAt(0).commonAncestorContainer)) {
      saved = selection.getRangeAt(0).cloneRange();
    }
  }

  function restore() {
    area.focus();
    var selection = window.getSelection();
    selection.removeAllRanges();
    if (saved) {
      selection.addRange(saved);
    } else {
      var range = document.createRange();
      range.selectNodeContents(area);
      range.collapse(false);
      selection.addRange(range);
    }
  }

  function caretAfter(node) {
    var range = document.createRange();
    range.setStartAfter(node);
    range.collapse(true);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    saved = range.cloneRange();
  }

  function insertInline(node) {
    // through the Range API, not execCommand: a chip lands exactly at the caret, inside its paragraph
    restore();
    var range = window.getSelection().getRangeAt(0);
    range.deleteContents();
    range.insertNode(node);
    caretAfter(node);
    sync();
  }

  function currentBlock() {
    var node = saved ? saved.startContainer : null;
    while (node && node.parentNode !== area) node = node.parentNode;
    return node && node.parentNode === area ? node : null;
  }

  function insertBlock(html) {
    // a button row is a paragraph of its own, after the one the caret is in; writing goes on below it
    restore();
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var block = currentBlock();
    var empty = block && block.nodeType === 1 && !block.textContent.trim() && !block.querySelector("img, .field-chip");
    var next = document.createElement("p");
    next.appendChild(document.createElement("br"));
    var anchor = block ? block.nextSibling : null;
    while (holder.firstChild) area.insertBefore(holder.firstChild, anchor);
    area.insertBefore(next, anchor);
    if (empty) block.remove();
    var range = document.createRange();
    range.setStart(next, 0);
    range.collapse(true);
    window.getSelection().removeAllRanges();
    window.getSelection().addRange(range);
    saved = range.cloneRange();
    sync();
  }

  function fromHtml(html) {
    var holder = document.createElement("span");
    holder.innerHTML = html;
    return holder.firstChild;
  }

  function escapeHtml(text) {
    return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  }

  // ---- the toolbar -----------------------------------------------------------------------------

  toolbar.addEventListener("mousedown", function (event) {
    if (event.target.closest("button")) event.preventDefault(); // the area keeps its selection
  });

  toolbar.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button || button === toggle) return;
    if (button.dataset.command) {
      restore();
      document.execCommand(button.dataset.command, false, null);
    } else if (button.dataset.block) {
      restore();
      document.execCommand("formatBlock", false, button.dataset.block);
    } else if (button.dataset.field) {
      insertInline(chip("{{ " + button.dataset.field + " }}"));
      closeMenus();
      return;
    } else if (button.dataset.href) {
      insertBlock(
        '<p class="button-row"><a class="button" href="' + escapeHtml(button.dataset.href) + '">' +
          escapeHtml(button.dataset.text) + "</a></p>"
      );
      closeMenus();
      return;
    } else if (button.dataset.ask) {
      open(button.dataset.ask);
      return;
    }
    keep();
    sync();
  });

  function closeMenus() {
    Array.prototype.forEach.call(toolbar.querySelectorAll("details[open]"), function (menu) {
      menu.open = false;
    });
  }

  // ---- addresses: links and images -------------------------------------------------------------

  function field(name) {
    return ask.querySelector('[name="' + name + '"]');
  }

  function open(kind) {
    keep();
    asking = kind;
    ask.hidden = false;
    ask.querySelector(".ask-alt").hidden = kind !== "image";
    ask.querySelector(".ask-text").hidden = kind !== "link";
    ask.querySelector(".ask-problem").hidden = true;
    field("ask-url").value = "";
    field("ask-alt").value = "";
    field("ask-text").value = saved ? saved.toString() : "";
    field("ask-url").focus();
  }

  function problem(text) {
    var p = ask.querySelector(".ask-problem");
    p.textContent = text;
    p.hidden = false;
  }

  ask.querySelector(".ask-cancel").addEventListener("click", function () {
    ask.hidden = true;
    restore();
  });

  ask.querySelector(".ask-ok").addEventListener("click", function () {
    var url = field("ask-url").value.trim();
    if (!(templated ? /^(https?:\/\/|mailto:|tel:|{{)/ : /^(https?:\/\/|mailto:|tel:)/).test(url)) {
      problem(root.dataset.badAddress);
      return;
    }
    if (asking === "image") {
      var alt = field("ask-alt").value.trim();
      if (!alt) {
        problem(root.dataset.missingAlt);
        return;
      }
      ask.hidden = true;
      insertInline(fromHtml('<img src="' + escapeHtml(url) + '" alt="' + escapeHtml(alt) + '">'));
      return;
    }
    var text = field("ask-text").value.trim() || url;
    ask.hidden = true;
    insertInline(fromHtml('<a href="' + escapeHtml(url) + '">' + escapeHtml(text) + "</a>"));
  });

  ask.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault(); // not the template form's submit
      ask.querySelector(".ask-ok").click();
    } else if (event.key === "Escape") {
      ask.querySelector(".ask-cancel").click();
    }
  });

  // ---- typing and pasting ----------------------------------------------------------------------

  area.addEventListener("input", sync);
  area.addEventListener("keyup", keep);
  area.addEventListener("mouseup", keep);

  area.addEventListener("paste", function (event) {
    // a paste from Word or Google Docs keeps its words, lists and links, not its styles (the server
    // cleans what it stores in any case)
    var data = event.clipboardData;
    var html = data && data.getData("text/html");
    if (!html) return;
    event.preventDefault();
    var doc = new DOMParser().parseFromString(html, "text/html");
    Array.prototype.forEach.call(doc.querySelectorAll("script, style, meta, link, title, xml"), function (n) {
      n.remove();
    });
    Array.prototype.forEach.call(doc.body.querySelectorAll("*"), function (n) {
      Array.prototype.slice.call(n.attributes).forEach(function (attribute) {
        if (["href", "src", "alt"].indexOf(attribute.name) === -1) n.removeAttribute(attribute.name);
      });
    });
    document.execCommand("insertHTML", false, doc.body.innerHTML.replace(/<!--[\s\S]*?-->/g, ""));
    sync();
  });

  // ---- visual / HTML ---------------------------------------------------------------------------

  function visual(on) {
    area.hidden = !on;
    root.querySelector(".editor-source").hidden = on;
    Array.prototype.forEach.call(toolbar.querySelectorAll("button, details"), function (control) {
      if (control !== toggle) control.hidden = !on;
    });
    toggle.setAttribute("aria-pressed", on ? "false" : "true");
    toggle.textContent = on ? root.dataset.htmlMode : root.dataset.visualMode;
    if (on) load();
  }

  toggle.addEventListener("click", function () {
    visual(area.hidden);
  });

  document.execCommand("defaultParagraphSeparator", false, "p"); // Enter starts a paragraph, not a div
  toolbar.hidden = false;
  visual(true);
})();
