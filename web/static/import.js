// Alinea — the import pages' enhancements. Each page works without this
// file: the server checks the file's size, every mapping column shows its
// property name field, and the progress page refreshes itself.
(function () {
  "use strict";

  // Upload: a file over the limit is refused before it is sent.
  var upload = document.querySelector("form[data-import-upload]");
  if (upload) {
    var file = upload.querySelector("input[type=file]");
    var error = upload.querySelector(".form-error");
    var max = parseInt(upload.getAttribute("data-max"), 10);
    upload.addEventListener("submit", function (e) {
      var f = file.files && file.files[0];
      if (f && max > 0 && f.size > max) {
        e.preventDefault();
        error.textContent = upload.getAttribute("data-too-large");
        error.hidden = false;
        file.setAttribute("aria-invalid", "true");
        file.focus();
        return;
      }
      upload.querySelectorAll("button[type=submit]").forEach(function (b) {
        b.setAttribute("aria-busy", "true");
      });
    });
  }

  // Mapping: a column's property name matters only when the column goes
  // to a custom property.
  document.querySelectorAll("select[data-import-target]").forEach(function (select) {
    var input = document.getElementById(select.getAttribute("data-import-target"));
    if (!input) { return; }
    var cell = input.closest("td");
    var update = function () {
      var off = select.value !== "property";
      input.hidden = off;
      if (cell) { cell.classList.toggle("import-prop-off", off); }
    };
    select.addEventListener("change", update);
    update();
  });

  // Mapping: the buttons are pressed once while the answer loads.
  var mapForm = document.querySelector("form.import-map");
  if (mapForm) {
    mapForm.addEventListener("submit", function (e) {
      var pressed = e.submitter;
      mapForm.querySelectorAll("button[type=submit]").forEach(function (b) {
        if (b === pressed) { b.setAttribute("aria-busy", "true"); }
        window.setTimeout(function () { b.disabled = true; }, 0);
      });
    });
  }

  // Progress: poll the import's status, move the bar and the counts, and
  // load the summary once it has finished. After repeated failures the
  // page reloads, as it would without this script.
  var job = document.querySelector("[data-import-job]");
  if (job && !job.hasAttribute("data-finished")) {
    var url = job.getAttribute("data-status-url");
    var bar = job.querySelector("progress");
    var text = job.querySelector("[data-import-text]");
    var label = job.querySelector("[data-import-label]");
    var failures = 0;
    var poll = function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (res) {
          if (!res.ok) { throw new Error("status " + res.status); }
          return res.json();
        })
        .then(function (s) {
          failures = 0;
          if (s.finished) {
            window.location.reload();
            return;
          }
          if (s.total > 0) {
            bar.max = s.total;
            bar.value = Math.min(s.rows, s.total);
          } else {
            bar.removeAttribute("value");
          }
          text.textContent = s.text;
          label.textContent = s.label;
          label.className = "import-status status-" + s.status;
          job.querySelectorAll("[data-count]").forEach(function (el) {
            var v = s.shown && s.shown[el.getAttribute("data-count")];
            if (v !== undefined) { el.textContent = v; }
          });
          window.setTimeout(poll, 1000);
        })
        .catch(function () {
          failures++;
          if (failures >= 5) {
            window.location.reload();
            return;
          }
          window.setTimeout(poll, 2000);
        });
    };
    window.setTimeout(poll, 700);
  }
})();
