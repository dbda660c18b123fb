/* The receiving page's scan box: a barcode scanner types a SKU and Enter; each
   scan adds one to that line's "Received now" field, highlights the row and
   says "+1 SKU (n of m)". A SKU not on the purchase order gets a message.
   Without this script the box stays hidden and quantities are typed as usual.
   Event delegation on the document: htmx swaps the form in and out. */
(function () {
  "use strict";
  document.documentElement.classList.add("has-scan");

  function say(box, text, bad) {
    var status = box.querySelector(".scan-status");
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("scan-status-bad", Boolean(bad));
    status.classList.toggle("scan-status-ok", !bad);
  }

  function flash(row) {
    row.classList.remove("scan-hit");
    void row.offsetWidth; // restart the highlight on a second scan of the same line
    row.classList.add("scan-hit");
  }

  function scan(input) {
    var box = input.closest(".scan-box");
    var form = input.closest("form");
    var sku = input.value.trim();
    input.value = "";
    if (!box || !form || !sku) return;
    var wanted = sku.toUpperCase();
    var rows = form.querySelectorAll("tr[data-sku]");
    var row = null;
    for (var i = 0; i < rows.length; i++) {
      if (rows[i].getAttribute("data-sku").toUpperCase() === wanted) { row = rows[i]; break; }
    }
    var template = box.getAttribute(row ? "data-ok" : "data-unknown");
    if (!row) {
      say(box, template.replace("%(sku)s", sku), true);
      return;
    }
    var field = row.querySelector("input[type=number]");
    var outstanding = parseInt(field.getAttribute("max"), 10);
    var now = parseInt(field.value, 10);
    if (isNaN(now) || now < 0) now = 0;
    var label = row.getAttribute("data-sku");
    if (now >= outstanding) {
      say(box, box.getAttribute("data-full").replace("%(sku)s", label).replace("%(outstanding)s", outstanding), true);
      flash(row);
      return;
    }
    field.value = now + 1;
    flash(row);
    say(box, template.replace("%(sku)s", label).replace("%(count)s", now + 1).replace("%(outstanding)s", outstanding), false);
  }

  document.addEventListener("keydown", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.classList.contains("scan-input")) return;
    if (event.key !== "Enter") return;
    event.preventDefault(); // Enter scans; it never submits the receipt
    scan(input);
  });
})();
