// imepipe console: refreshes the page's <main> every data-refresh seconds
// while agents report, without a reload. The new markup comes from the
// same page of the same origin, escaped by the server; it is parsed
// inertly (DOMParser runs no scripts) and the CSP allows no inline script.
(function () {
  "use strict";
  var secs = parseInt(document.body.getAttribute("data-refresh"), 10);
  if (!(secs > 0)) { return; }
  function tick() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (r.status === 401) { window.location.reload(); return null; }
      return r.ok ? r.text() : null;
    }).then(function (text) {
      if (text === null) { return; }
      var doc = new DOMParser().parseFromString(text, "text/html");
      var fresh = doc.getElementById("main"), cur = document.getElementById("main");
      if (fresh && cur) { cur.replaceWith(document.importNode(fresh, true)); }
    }).catch(function () {}).then(function () { window.setTimeout(tick, secs * 1000); });
  }
  window.setTimeout(tick, secs * 1000);
})();
