// The board's pages: say so when the live stream drops, and stop saying it once it is back.
(function () {
  "use strict";

  function markStale(stale) {
    document.querySelectorAll(".stale").forEach(function (marker) {
      marker.hidden = !stale;
    });
    document.body.classList.toggle("is-stale", stale);
  }

  document.addEventListener("htmx:sseError", function () { markStale(true); });
  document.addEventListener("htmx:sseClose", function () { markStale(true); });
  document.addEventListener("htmx:sseOpen", function () { markStale(false); });
})();
