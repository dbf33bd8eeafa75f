// Alinea settings pages — small enhancements. Every form works without
// this file; it asks before destructive actions and copies new secrets.
(function () {
  "use strict";

  // Deactivating a user or revoking a key asks first.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        e.preventDefault();
      }
    });
  });

  // A new secret: selected when focused, and copied with one click where
  // the browser allows it (the button stays hidden otherwise).
  document.querySelectorAll("input[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input || !navigator.clipboard || !window.isSecureContext) { return; }
    var label = button.textContent;
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = button.getAttribute("data-copied");
        window.setTimeout(function () { button.textContent = label; }, 2000);
      }, function () {
        input.focus();
        input.select();
      });
    });
  });
})();
