// Streamlit's own English texts (placeholders, the upload box, dropdown helpers, table toolbar) in Norwegian.
// Streamlit has no locale setting for these, so the texts are replaced in the page as they appear.
(function () {
  if (window.__qualcodeNorsk) return;
  window.__qualcodeNorsk = true;
  var EXACT = {
    "Choose an option": "Velg …",
    "Choose options": "Velg …",
    "Select all": "Velg alle",
    "Clear all": "Fjern alle",
    "No results": "Ingen treff",
    "No options to select": "Ingen valg",
    "Drag and drop files here": "Dra og slipp filer hit",
    "Drag and drop file here": "Dra og slipp filen hit",
    "Browse files": "Velg filer",
    "Upload": "Last opp",
    "Press Enter to apply": "Trykk Enter for å bruke",
    "Press Enter to submit form": "Trykk Enter for å sende",
    "Press ⌘+Enter to apply": "Trykk ⌘+Enter for å bruke",
    "Press Ctrl+Enter to apply": "Trykk Ctrl+Enter for å bruke",
    "Download as CSV": "Last ned som CSV",
    "Search": "Søk",
    "Fullscreen": "Fullskjerm",
    "Close fullscreen": "Lukk fullskjerm",
    "Show/hide columns": "Vis/skjul kolonner",
    "Add row": "Legg til rad",
    "Delete row(s)": "Slett rad(er)",
    "Page not found": "Fant ikke siden",
    "Running...": "Arbeider …",
    "Stop": "Stopp",
    "Copy to clipboard": "Kopier",
    "empty": "tom"
  };
  var PATTERNS = [
    [/^(?:Limit )?(\d+)\s?MB per file(.*)$/, function (m, n, rest) { return "Maks " + n + " MB per fil" + rest; }],
    [/^Select (\d+) match(es)?$/, function (m, n) { return "Velg " + n + " treff"; }],
    [/^(\d+) selected$/, function (m, n) { return n + " valgt"; }]
  ];
  function translate(text) {
    var trimmed = text.trim();
    if (!trimmed) return null;
    if (Object.prototype.hasOwnProperty.call(EXACT, trimmed)) return text.replace(trimmed, EXACT[trimmed]);
    for (var i = 0; i < PATTERNS.length; i++) {
      if (PATTERNS[i][0].test(trimmed)) return text.replace(trimmed, trimmed.replace(PATTERNS[i][0], PATTERNS[i][1]));
    }
    return null;
  }
  function fix(root) {
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    var node;
    while ((node = walker.nextNode())) {
      var parent = node.parentElement;
      if (parent && parent.closest("[data-testid='stHtml'], textarea, pre, code")) continue;
      var out = translate(node.nodeValue);
      if (out !== null && out !== node.nodeValue) node.nodeValue = out;
    }
    var elements = root.querySelectorAll ? root.querySelectorAll("[placeholder], [aria-label], [title]") : [];
    elements.forEach(function (el) {
      ["placeholder", "aria-label", "title"].forEach(function (attr) {
        var value = el.getAttribute(attr);
        var out = value && translate(value);
        if (out && out !== value) el.setAttribute(attr, out);
      });
    });
  }
  var pending = false;
  new MutationObserver(function () {
    if (pending) return;
    pending = true;
    window.requestAnimationFrame(function () { pending = false; fix(document.body); });
  }).observe(document.body, { childList: true, subtree: true, characterData: true });
  fix(document.body);
})();
