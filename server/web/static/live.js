// Live regions without reloading the page: an element with data-live-url is refreshed
// with the HTML fragment at that URL every data-live-every seconds (default 15) while
// the page is visible. No framework, no CDN; the page works without it (reload).
(function () {
  "use strict";
  function refresh(region, status) {
    fetch(region.dataset.liveUrl, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        region.innerHTML = html;
        if (status) { status.textContent = status.dataset.updated + " " + new Date().toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit", second: "2-digit" }); }
      })
      .catch(function () {
        if (status) { status.textContent = status.dataset.failed; }
      });
  }
  function start(region) {
    var every = Math.max(2, parseInt(region.dataset.liveEvery || "15", 10)) * 1000;
    var status = region.dataset.liveStatus ? document.getElementById(region.dataset.liveStatus) : null;
    setInterval(function () { if (!document.hidden) { refresh(region, status); } }, every);
    document.addEventListener("visibilitychange", function () { if (!document.hidden) { refresh(region, status); } });
  }
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-live-url]"), start);
  });
})();
