// Smart-0DTE: the PAPER/LIVE banner, always on screen. The mode is the engine's (GET /smart0dte/mode);
// switching it is a person's action in the chat settings panel, never this script's.
(function () {
  var banner = document.createElement("div");
  banner.id = "smart0dte-mode-banner";
  banner.setAttribute("role", "status");
  banner.setAttribute("aria-live", "polite");
  banner.className = "smart0dte-mode-unknown";
  banner.textContent = "PAPER";
  function place() { if (!document.body.contains(banner)) document.body.appendChild(banner); }
  function show(mode) {
    var live = mode === "LIVE";
    banner.textContent = live ? "LIVE TRADING — real money" : "PAPER TRADING";
    banner.dataset.mode = live ? "LIVE" : "PAPER";
    banner.className = live ? "smart0dte-mode-live" : "smart0dte-mode-paper";
  }
  function poll() {
    fetch("/smart0dte/mode", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (d) { show(String(d.mode || "PAPER").toUpperCase()); })
      .catch(function () { /* keep the last known mode */ })
      .finally(place);
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", poll); else poll();
  setInterval(poll, 3000);
})();
