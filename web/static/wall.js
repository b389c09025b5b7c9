// The wall screen's clock: the time now, in the kabupaten's own zone, every second.
(function () {
  "use strict";
  var clock = document.getElementById("jam");
  if (!clock) return;
  var zone = document.body.dataset.zone || "Asia/Jakarta";
  var zoneName = document.body.dataset.zoneName || "WIB";
  function tick() {
    clock.textContent = new Date().toLocaleTimeString("id-ID", { hour12: false, timeZone: zone }) + " " + zoneName;
  }
  tick();
  setInterval(tick, 1000);
})();
