// Keyboard shortcuts of the review page (Gjennomgang), installed once per browser tab.
// The keys only press the page's own buttons (found by their Streamlit key class, st-key-…),
// so a shortcut does exactly what the click does. A focused suggestion row is outlined; after
// «Ferdig – neste» the next segment starts at the top of the page.
(function () {
  if (window.__qualcodeReviewKeys) return;
  window.__qualcodeReviewKeys = true;
  var focus = 0;
  var shownSegment = null;

  function page() { return document.querySelector(".st-key-review_page"); }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll("[class*='st-key-sug_']")); }
  function press(root, selector) {
    var button = root && root.querySelector(selector + " button");
    if (button && !button.disabled) { button.click(); return true; }
    return false;
  }
  function paint() {
    var all = rows();
    if (focus >= all.length) focus = Math.max(0, all.length - 1);
    all.forEach(function (row, i) { row.classList.toggle("qc-focus", i === focus); });
  }
  function toTop() {
    ["[data-testid='stMain']", "[data-testid='stAppViewContainer']", "section.main"].forEach(function (sel) {
      var el = document.querySelector(sel);
      if (el && el.scrollTo) el.scrollTo(0, 0);
    });
    window.scrollTo(0, 0);
  }
  function segmentShown() {
    var marker = document.querySelector("[class*='st-key-segment_']");
    if (!marker) return null;
    var match = marker.className.match(/st-key-segment_(\d+)/);
    return match ? match[1] : null;
  }
  new MutationObserver(function () {
    var now = segmentShown();
    if (now !== null && now !== shownSegment) {
      if (shownSegment !== null) toTop();
      shownSegment = now;
      focus = 0;
    }
    paint();
  }).observe(document.body, { childList: true, subtree: true });

  document.addEventListener("keydown", function (event) {
    var root = page();
    if (!root || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
      if (event.key === "Escape") target.blur();
      return;
    }
    var all = rows();
    var row = all[focus];
    var key = event.key.length === 1 ? event.key.toLowerCase() : event.key;
    var done = true;
    if (key === "ArrowDown") { focus = Math.min(focus + 1, all.length - 1); paint(); }
    else if (key === "ArrowUp") { focus = Math.max(focus - 1, 0); paint(); }
    else if (/^[1-9]$/.test(key) && Number(key) <= all.length) { focus = Number(key) - 1; paint(); }
    else if (key === "g") { if (press(row, "[class*='st-key-yes_']")) focus = Math.min(focus + 1, all.length - 1); }
    else if (key === "a") { if (press(row, "[class*='st-key-no_']")) focus = Math.min(focus + 1, all.length - 1); }
    else if (key === "Enter") press(root, ".st-key-nav_done");
    else if (key === "ArrowRight") press(root, ".st-key-nav_skip");
    else if (key === "ArrowLeft") press(root, ".st-key-nav_prev");
    else if (key === "u") press(root, ".st-key-nav_undo");
    else if (key === "l") {
      var box = root.querySelector("[class*='st-key-add_'] input");
      if (box) { box.focus(); box.click(); }
    }
    else done = false;
    if (done) event.preventDefault();
  }, true);
})();
