// Deadlines are shown in Belgian time; a reader in another time zone also sees their own.
(function () {
  var yours = document.body.getAttribute("data-your-time") || "your time";
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (!zone || zone === "Europe/Brussels") return;
  var lang = document.documentElement.lang || "en";
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (isNaN(when)) return;
    var text = new Intl.DateTimeFormat(lang, {dateStyle: "medium", timeStyle: "short", timeZoneName: "short"}).format(when);
    var span = document.createElement("span");
    span.className = "your-time";
    span.textContent = " (" + text + ", " + yours + ")";
    el.after(span);
  });
})();
