// Reload the phone page when the set of payment requests for this phone changes (a push arrived).
(function () {
  var pending = document.getElementById("pending");
  if (!pending || !pending.dataset.phone) { return; }
  var key = function (refs) { return refs.filter(Boolean).sort().join(","); };
  var shown = key(pending.dataset.references.split(","));
  var url = "/_sandbox/api/phones/" + encodeURIComponent(pending.dataset.phone) + "/pending";
  setInterval(function () {
    fetch(url).then(function (r) { return r.json(); }).then(function (list) {
      if (key(list.map(function (p) { return p.reference; })) !== shown) { window.location.reload(); }
    }).catch(function () {});
  }, 2000);
})();
