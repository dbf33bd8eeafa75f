// Alinea — small progressive enhancements. Every page works without this
// file; it only saves clicks and keystrokes.
(function () {
  "use strict";

  // Filter forms apply a changed select at once (the Apply button stays
  // for keyboards and for browsers without JavaScript).
  document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
    form.querySelectorAll("select").forEach(function (select) {
      select.addEventListener("change", function () {
        if (typeof form.requestSubmit === "function") {
          form.requestSubmit();
        } else {
          form.submit();
        }
      });
    });
  });

  // "/" jumps to the search box, as in most web apps.
  var search = document.querySelector("[data-shortcut='/']");
  if (search) {
    document.addEventListener("keydown", function (e) {
      var t = e.target;
      var typing = t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
      if (e.key === "/" && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
        e.preventDefault();
        search.focus();
        search.select();
      }
    });
  }

  // Forms that change data are sent once: the button is disabled while the
  // page loads the answer.
  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.setAttribute("aria-busy", "true");
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  });

  // Ctrl+Enter (or Cmd+Enter) in a note sends it.
  document.querySelectorAll("textarea[data-submit-shortcut]").forEach(function (area) {
    area.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && area.form) {
        e.preventDefault();
        if (typeof area.form.requestSubmit === "function") {
          area.form.requestSubmit();
        } else {
          area.form.submit();
        }
      }
    });
  });

  // Stages that need a reason make the reason field required, so the
  // browser asks for it before the server has to.
  document.querySelectorAll("select[data-reason-for]").forEach(function (select) {
    var needs = select.getAttribute("data-reason-for").split(" ");
    var reason = select.form && select.form.querySelector("textarea[name=reason]");
    if (!reason) { return; }
    var update = function () { reason.required = needs.indexOf(select.value) >= 0; };
    select.addEventListener("change", update);
    update();
  });
})();
