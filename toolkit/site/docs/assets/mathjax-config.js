// MathJax 3, served from this site (assets/mathjax): the site works offline.
//
// Formulas are translators' text: MathJax runs in its safe mode (ui/safe: no javascript: or
// data: URL in a link, only MathJax's own classes and ids, a few harmless styles), and the TeX
// commands that link, style or load (\href, \class, \cssId, \style from the html extension,
// \require) are not defined at all: such a formula shows an error, never live markup.
window.MathJax = {
  loader: {
    load: ["input/tex", "output/chtml", "a11y/assistive-mml", "ui/safe"]
  },
  tex: {
    inlineMath: [["\\(", "\\)"]],
    displayMath: [["\\[", "\\]"]],
    processEscapes: true,
    processEnvironments: true,
    tags: "none",
    packages: {"[-]": ["require", "html"]},
    autoload: {html: []}
  },
  options: {
    ignoreHtmlClass: ".*|",
    processHtmlClass: "arithmatex",
    safeOptions: {
      allow: {URLs: "safe", classes: "safe", cssIDs: "safe", styles: "safe"},
      safeProtocols: {http: true, https: true, file: false, javascript: false, data: false}
    }
  }
};

// MathJax itself (0.65 MB) is fetched only by a page that has math, and never blocks the page:
// this script runs at the end of the body, so the formulas are already in the document.
(function () {
  if (!document.querySelector(".arithmatex")) {
    return;
  }
  var script = document.createElement("script");
  script.src = new URL("mathjax/startup.js", document.currentScript.src).href;
  script.async = true;
  document.head.appendChild(script);
})();
