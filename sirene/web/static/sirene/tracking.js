// The tracking list: tick boxes, bulk bar and keys (loaded as a file: the CSP allows no inline scripts).
(function () {
  const rows = Array.from(document.querySelectorAll("tr.case-row"));
  const ticks = Array.from(document.querySelectorAll("input.tick"));
  const count = document.getElementById("bulk-count");
  const action = document.getElementById("bulk-action");
  const value = document.getElementById("bulk-value");
  const label = document.getElementById("bulk-count").dataset.label;
  let cursor = -1;
  function update() {
    const n = ticks.filter(t => t.checked).length;
    count.textContent = n + " " + label;
  }
  function showValues() {
    value.querySelectorAll("optgroup").forEach(g => { g.hidden = g.dataset.action !== action.value; g.disabled = g.dataset.action !== action.value; });
    const first = value.querySelector('optgroup:not([disabled]) option:not([disabled])');
    value.value = first ? first.value : "";
  }
  function focusRow(i) {
    if (!rows.length) return;
    cursor = Math.max(0, Math.min(rows.length - 1, i));
    rows.forEach((r, k) => r.classList.toggle("cursor", k === cursor));
    rows[cursor].querySelector("a.case-link").focus();
  }
  ticks.forEach(t => t.addEventListener("change", update));
  document.getElementById("tick-all").addEventListener("change", e => { ticks.forEach(t => { t.checked = e.target.checked; }); update(); });
  action.addEventListener("change", showValues);
  document.addEventListener("keydown", e => {
    const tag = (e.target.tagName || "").toLowerCase();
    if (["input", "select", "textarea"].includes(tag) || e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.key === "/") { e.preventDefault(); document.getElementById("case-search").focus(); }
    else if (e.key === "j") { e.preventDefault(); focusRow(cursor + 1); }
    else if (e.key === "k") { e.preventDefault(); focusRow(cursor - 1); }
    else if (e.key === "x" && cursor >= 0) { e.preventDefault(); const t = ticks[cursor]; t.checked = !t.checked; update(); }
  });
  showValues(); update();
})();
