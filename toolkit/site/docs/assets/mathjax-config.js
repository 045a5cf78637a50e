// MathJax 3, served from this site (assets/mathjax): the site works offline.
//
// Formulas are translators' text: MathJax runs in its safe mode (ui/safe: no javascript: or
// data: URL in a link, only MathJax's own classes and ids, a few harmless styles), and the TeX
// commands that link, style or load (\href, \class, \cssId, \style from the html extension,
// \require) are not defined at all: such a formula shows an error, never live markup.
window.MathJax = {
  loader: {
    load: ["ui/safe"]
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
