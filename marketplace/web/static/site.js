// On a phone the menu folds behind a "Menu" button; without this script it simply stays open.
(function () {
  document.documentElement.classList.add("js");
  var button = document.querySelector(".menu-toggle");
  var menu = document.getElementById("site-menu");
  if (!button || !menu) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var open = menu.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });
})();

// Deadlines are shown in Belgian time; a reader in another time zone also sees their own.
(function () {
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || zone === "Europe/Brussels") return;
  var yours = document.body.getAttribute("data-your-time") || "your time";
  var format = new Intl.DateTimeFormat(document.documentElement.lang || "en", {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZoneName: "short"});
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    var span = document.createElement("span");
    span.className = "your-time";
    span.textContent = " (" + format.format(when) + ", " + yours + ")";
    el.after(span);
  });
})();
