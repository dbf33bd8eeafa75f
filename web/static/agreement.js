// Agreement pages — small enhancements; every form works without this file.
(function () {
  "use strict";

  // A problem's "line 12, column 5" link selects that place in the editor.
  var source = document.getElementById("source");
  if (!source) { return; }
  document.querySelectorAll("a.ag-goto[data-line]").forEach(function (link) {
    link.addEventListener("click", function (e) {
      var line = parseInt(link.getAttribute("data-line"), 10);
      var column = parseInt(link.getAttribute("data-column"), 10) || 1;
      if (!(line > 0)) { return; }
      e.preventDefault();
      var lines = source.value.split("\n");
      var start = 0;
      for (var i = 0; i < line - 1 && i < lines.length; i++) {
        start += lines[i].length + 1;
      }
      var text = lines[Math.min(line, lines.length) - 1] || "";
      var at = start + Math.min(Math.max(column - 1, 0), text.length);
      source.focus();
      source.setSelectionRange(at, start + text.length);
      var lineHeight = parseFloat(window.getComputedStyle(source).lineHeight) || 20;
      source.scrollTop = Math.max(0, (line - 4) * lineHeight);
    });
  });
})();
