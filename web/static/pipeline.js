// Alinea — moving deals on the pipeline board without reloading the page.
// The board works without this file: every card has a form that moves the
// deal. With it, a deal moves by drag and drop, by the arrow keys on a
// focused card, or by the card's form; moving to won or lost asks for the
// reason in a dialog. The server answers with the board re-rendered
// (counts and totals included), which replaces the old one.
(function () {
  "use strict";

  var root = document.getElementById("pipeline");
  if (!root || !root.hasAttribute("data-movable")) { return; }
  var live = document.getElementById("pipeline-status");
  var dialog = document.getElementById("move-dialog");
  var dragged = null;
  var busy = false;

  function board() { return document.getElementById("pipeline-board"); }

  function element(node) {
    return node && node.nodeType === 1 ? node : node && node.parentElement;
  }

  function csrf() {
    var input = root.querySelector("input[name=csrf_token]") || document.querySelector("input[name=csrf_token]");
    return input ? input.value : "";
  }

  function columns() {
    return Array.prototype.slice.call(root.querySelectorAll(".col[data-drop-stage]"));
  }

  function column(stage) {
    return root.querySelector('.col[data-drop-stage="' + stage + '"]');
  }

  function kindOf(stage) {
    var col = column(stage);
    return col ? col.getAttribute("data-kind") : "";
  }

  // announce reads a message out: the live region is emptied first so that
  // the same message twice is still spoken.
  function announce(message) {
    if (!live) { return; }
    live.textContent = "";
    window.setTimeout(function () { live.textContent = message; }, 50);
  }

  function failed() {
    var message = root.getAttribute("data-error");
    var b = board();
    b.removeAttribute("aria-busy");
    var p = b.querySelector(".js-error");
    if (!p) {
      p = document.createElement("p");
      p.className = "form-error js-error";
      p.setAttribute("role", "alert");
      b.insertBefore(p, b.firstChild);
    }
    p.textContent = message;
    announce(message);
  }

  // swap puts the server's board in place of the old one and gives the
  // focus back to the deal that moved.
  function swap(html, dealID) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var fresh = tpl.content.querySelector("#pipeline-board");
    if (!fresh) { failed(); return; }
    board().replaceWith(fresh);
    syncDraggable(fresh);
    var message = fresh.querySelector("[data-announce]");
    announce(message ? message.textContent : "");
    var card = document.getElementById("deal-" + dealID);
    if (card) {
      card.focus({ preventScroll: false });
    } else {
      var error = document.getElementById("pipeline-error");
      if (error) { error.setAttribute("tabindex", "-1"); error.focus(); }
    }
  }

  function send(card, stage, reasonCode, reason) {
    if (busy) { return; }
    busy = true;
    var id = card.getAttribute("data-deal");
    var body = new URLSearchParams();
    body.set("csrf_token", csrf());
    body.set("stage", stage);
    body.set("reason_code", reasonCode || "");
    body.set("reason", reason || "");
    body.set("owner", root.getAttribute("data-owner") || "");
    board().setAttribute("aria-busy", "true");
    card.classList.add("is-moving");
    fetch("/pipeline/deals/" + encodeURIComponent(id) + "/stage", {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Alinea-Fragment": "board" }
    }).then(function (res) {
      // Anything but the board (a sign-in page after the session ended, an
      // error page) means the move could not be made here.
      if (res.headers.get("X-Alinea-Fragment") !== "board") { throw new Error("HTTP " + res.status); }
      return res.text();
    }).then(function (html) {
      swap(html, id);
    }).catch(function () {
      card.classList.remove("is-moving");
      failed();
    }).then(function () {
      busy = false;
    });
  }

  // moveTo moves a card to a stage, asking first why when the stage closes
  // the deal; a card's form has already asked about a win.
  function moveTo(card, stage, reasonCode, reason, fromForm) {
    if (!stage || stage === card.getAttribute("data-stage")) { return; }
    var kind = kindOf(stage);
    if ((kind === "won" && !reason && !fromForm) || (kind === "lost" && !reason && !reasonCode)) {
      ask(card, stage, kind, reasonCode, reason);
      return;
    }
    send(card, stage, kind === "lost" ? reasonCode : "", reason);
  }

  // The reason dialog.
  var pending = null;
  var dialogForm = dialog && dialog.querySelector("form");

  function ask(card, stage, kind, reasonCode, reason) {
    if (!dialog || typeof dialog.showModal !== "function") {
      // No dialog support: the card's own form asks instead.
      var details = card.querySelector("details.deal-move");
      if (details) {
        details.open = true;
        var select = details.querySelector("select[name=stage]");
        if (select) { select.value = stage; }
        var field = details.querySelector(kind === "lost" ? "select[name=reason_code]" : "input[name=reason]");
        if (field) { field.focus(); }
      }
      return;
    }
    pending = { card: card, stage: stage, kind: kind };
    dialog.querySelectorAll("[data-for]").forEach(function (el) {
      el.hidden = el.getAttribute("data-for") !== kind;
    });
    document.getElementById("move-dialog-deal").textContent = card.getAttribute("data-name");
    dialogForm.elements.reason_code.value = reasonCode || "";
    dialogForm.elements.reason.value = reason || "";
    document.getElementById("move-dialog-error").hidden = true;
    dialogForm.elements.reason.removeAttribute("aria-invalid");
    dialog.showModal();
    (kind === "lost" ? dialogForm.elements.reason_code : dialogForm.elements.reason).focus();
  }

  if (dialogForm) {
    dialogForm.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!pending) { dialog.close(); return; }
      var code = pending.kind === "lost" ? dialogForm.elements.reason_code.value : "";
      var reason = dialogForm.elements.reason.value.trim();
      if (pending.kind === "lost" && !code && !reason) {
        var error = document.getElementById("move-dialog-error");
        error.hidden = false;
        dialogForm.elements.reason.setAttribute("aria-invalid", "true");
        dialogForm.elements.reason_code.focus();
        return;
      }
      var p = pending;
      pending = null;
      dialog.close();
      send(p.card, p.stage, code, reason);
    });
    dialogForm.querySelector("[data-cancel]").addEventListener("click", function () {
      dialog.close();
    });
    dialog.addEventListener("close", function () {
      if (pending) {
        var card = document.getElementById("deal-" + pending.card.getAttribute("data-deal"));
        pending = null;
        if (card) { card.focus(); }
      }
    });
  }

  // Drag and drop.
  function dropTarget(e) {
    var el = element(e.target);
    return el && el.closest ? el.closest("[data-drop-stage]") : null;
  }

  function clearDrag() {
    root.classList.remove("is-dragging");
    root.querySelectorAll(".is-over").forEach(function (el) { el.classList.remove("is-over"); });
    root.querySelectorAll(".deal.is-dragging").forEach(function (el) { el.classList.remove("is-dragging"); });
  }

  root.addEventListener("dragstart", function (e) {
    var el = element(e.target);
    var card = el && el.closest('.deal[draggable="true"]');
    // Text dragged out of a card's form is not the card.
    if (!card || busy || el.closest(".move-form")) { return; }
    dragged = card;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.getAttribute("data-deal"));
    card.classList.add("is-dragging");
    root.classList.add("is-dragging");
  });

  root.addEventListener("dragover", function (e) {
    var col = dropTarget(e);
    if (!col || !dragged) { return; }
    e.preventDefault();
    e.dataTransfer.dropEffect = "move";
    if (!col.classList.contains("is-over")) {
      root.querySelectorAll(".is-over").forEach(function (el) { el.classList.remove("is-over"); });
      col.classList.add("is-over");
    }
  });

  root.addEventListener("dragleave", function (e) {
    var col = dropTarget(e);
    if (col && !col.contains(element(e.relatedTarget))) { col.classList.remove("is-over"); }
  });

  root.addEventListener("drop", function (e) {
    var col = dropTarget(e);
    if (!col) { return; }
    e.preventDefault();
    var card = dragged || document.getElementById("deal-" + e.dataTransfer.getData("text/plain"));
    dragged = null;
    clearDrag();
    if (card) { moveTo(card, col.getAttribute("data-drop-stage")); }
  });

  root.addEventListener("dragend", function () {
    dragged = null;
    clearDrag();
  });

  // The keyboard: ← and → move a focused card one stage, ↑ and ↓ go
  // through the cards of its column.
  root.addEventListener("keydown", function (e) {
    var card = element(e.target);
    if (!card || !card.matches('.deal[draggable="true"]') || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) { return; }
    if (e.key === "ArrowUp" || e.key === "ArrowDown") {
      var sibling = e.key === "ArrowUp" ? card.previousElementSibling : card.nextElementSibling;
      if (sibling) { e.preventDefault(); sibling.focus(); }
      return;
    }
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") { return; }
    e.preventDefault();
    var cols = columns();
    var at = cols.indexOf(column(card.getAttribute("data-stage")));
    var next = cols[at + (e.key === "ArrowRight" ? 1 : -1)];
    if (at >= 0 && next) { moveTo(card, next.getAttribute("data-drop-stage")); }
  });

  // While a card's form is open the card is not draggable, so that its
  // fields take text selection and clicks as usual.
  function syncDraggable(scope) {
    scope.querySelectorAll(".deal details.deal-move").forEach(function (details) {
      details.closest(".deal").setAttribute("draggable", details.open ? "false" : "true");
    });
  }
  root.addEventListener("toggle", function (e) {
    var details = element(e.target);
    if (details && details.matches && details.matches("details.deal-move")) {
      details.closest(".deal").setAttribute("draggable", details.open ? "false" : "true");
    }
  }, true);
  syncDraggable(root);

  // A card's form moves the deal in place too.
  root.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.classList || !form.classList.contains("move-form")) { return; }
    e.preventDefault();
    var card = form.closest(".deal");
    moveTo(card, form.elements.stage.value, form.elements.reason_code.value, form.elements.reason.value.trim(), true);
  });
})();
