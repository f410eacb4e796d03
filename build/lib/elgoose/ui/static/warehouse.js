// The Warehouse page's only script: an opt-in reload every minute, remembered in this browser.
(function () {
  "use strict";
  var KEY = "elgoose-warehouse-auto-refresh";
  var box = document.getElementById("auto-refresh");
  if (!box) return;
  var timer = null;
  function apply() {
    if (timer) { clearTimeout(timer); timer = null; }
    if (box.checked) { timer = setTimeout(function () { window.location.reload(); }, 60000); }
  }
  try { box.checked = window.localStorage.getItem(KEY) === "on"; } catch (e) { /* storage may be blocked */ }
  box.addEventListener("change", function () {
    try { window.localStorage.setItem(KEY, box.checked ? "on" : "off"); } catch (e) { /* ignore */ }
    apply();
  });
  apply();
})();
