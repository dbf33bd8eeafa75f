// Alinea — the lead inbox's live SLA countdowns. The page works without
// this file: the server writes each countdown as of when it was loaded.
//
// A countdown runs in business time, which only passes while the office is
// open. The server says whether it is open and in how many seconds that
// changes; between refreshes the countdown ticks in wall-clock time while
// open and stands still while closed. Every minute the page's data is read
// again, so it never drifts from the server for long.
(function () {
  "use strict";

  var root = document.getElementById("inbox");
  if (!root) { return; }
  var lang = document.documentElement.lang || undefined;
  var fmt = {
    h: root.dataset.fmtH, hm: root.dataset.fmtHm, m: root.dataset.fmtM,
    under: root.dataset.fmtUnder, left: root.dataset.fmtLeft, overdue: root.dataset.fmtOverdue
  };
  var office, clocks;

  function readOffice() {
    office = {
      known: root.dataset.known === "true",
      open: root.dataset.open === "true",
      changeIn: Number(root.dataset.changeIn) || 0,
      since: Date.now()
    };
  }

  function readClocks() {
    clocks = Array.prototype.map.call(root.querySelectorAll("[data-countdown]"), function (el) {
      var lead = el.closest(".lead");
      return {
        el: el, lead: lead,
        left: Number(el.dataset.left) || 0,
        total: Number(el.dataset.total) || 0,
        text: el.querySelector(".countdown-text"),
        fill: lead && lead.querySelector(".sla-bar .fill"),
        badge: lead && lead.querySelector(".overdue-badge")
      };
    });
  }

  // businessElapsed is the business time, in seconds, since the data was
  // read. Without a calendar (no agreement) deadlines are wall-clock time.
  function businessElapsed() {
    var secs = (Date.now() - office.since) / 1000;
    if (!office.known) { return secs; }
    if (office.open) { return Math.min(secs, office.changeIn); }
    // The office has opened since: count from then until the next refresh.
    return Math.max(0, secs - office.changeIn);
  }

  // duration writes hours and minutes as the server does: time left is
  // rounded up, as countdowns are, and time overdue down.
  function duration(secs, up) {
    var mins = up ? Math.ceil(secs / 60) : Math.floor(secs / 60);
    var h = String(Math.floor(mins / 60)), m = String(mins % 60);
    if (mins < 1) { return fmt.under; }
    if (mins < 60) { return fmt.m.replace("{m}", m); }
    if (mins % 60 === 0) { return fmt.h.replace("{h}", h); }
    return fmt.hm.replace("{h}", h).replace("{m}", m);
  }

  function tick() {
    var elapsed = businessElapsed();
    var overdue = 0;
    clocks.forEach(function (c) {
      var left = c.left - elapsed;
      var late = left <= 0;
      var text = late ? fmt.overdue.replace("{d}", duration(-left, false)) : fmt.left.replace("{d}", duration(left, true));
      if (c.text && c.text.textContent !== text) { c.text.textContent = text; }
      c.el.dataset.live = String(Math.round(left));
      if (c.lead) {
        c.lead.classList.toggle("is-overdue", late);
        c.lead.classList.toggle("is-soon", !late && left <= 3600);
      }
      if (c.badge) { c.badge.hidden = !late; }
      if (c.fill) {
        var pct = c.total > 0 && left > 0 ? left / c.total * 100 : 0;
        c.fill.setAttribute("width", pct.toFixed(2));
      }
      if (late) { overdue++; }
    });
    var count = document.getElementById("overdue-count");
    if (count && clocks.length) {
      var shown = overdue.toLocaleString(lang);
      if (count.textContent !== shown) { count.textContent = shown; }
      count.classList.toggle("is-overdue", overdue > 0);
    }
  }

  function leadIDs(scope) {
    return Array.prototype.map.call(scope.querySelectorAll(".lead[data-handoff]"), function (el) {
      return el.dataset.handoff;
    }).sort().join(",");
  }

  // refresh reads the inbox again and takes its countdowns and office
  // hours. Cards are not replaced under the reader's hands (a reject form
  // may be half filled in): when leads came or went, a notice offers to
  // reload.
  function refresh() {
    fetch(location.pathname, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var fresh = doc.getElementById("inbox");
        if (!fresh) { return; }
        if (leadIDs(fresh) !== leadIDs(root)) {
          var changed = document.getElementById("inbox-changed");
          if (changed) { changed.hidden = false; }
        }
        ["known", "open", "changeIn"].forEach(function (k) { root.dataset[k] = fresh.dataset[k]; });
        clocks.forEach(function (c) {
          var id = c.lead && c.lead.dataset.handoff;
          var next = id && fresh.querySelector("#lead-" + id + " [data-countdown]");
          if (next) {
            c.el.dataset.left = next.dataset.left;
            c.el.dataset.total = next.dataset.total;
          }
        });
        var banner = document.getElementById("office"), freshBanner = doc.getElementById("office");
        if (banner && freshBanner) {
          banner.className = freshBanner.className;
          banner.innerHTML = freshBanner.innerHTML;
        }
        readOffice();
        readClocks();
        tick();
      })
      .catch(function () { /* offline for a moment: the next refresh tries again */ });
  }

  readOffice();
  readClocks();
  tick();
  window.setInterval(tick, 1000);
  window.setInterval(refresh, 60000);
})();
