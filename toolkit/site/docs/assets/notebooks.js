/* d2l-i18n: a chapter's notebook link downloads a notebook that carries its figures.
 *
 * The published .ipynb points at the site's one copy of each figure (../../figures/<digest>/x.svg),
 * so five languages and four frameworks share it. As the reader downloads a notebook, its
 * figures are fetched and embedded as cell attachments, so it shows them wherever it is opened.
 * Should anything fail, the plain file is downloaded (its figures then need the site).
 */
(function () {
  var TYPES = {svg: "image/svg+xml", png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif"};
  var IMAGE = /!\[([^\]]*)\]\(((?:\.\.\/)+figures\/[0-9a-f]+\/[^)\s]+)\)/g;

  function asBase64(blob) {
    return new Promise(function (resolve, reject) {
      var reader = new FileReader();
      reader.onload = function () { resolve(String(reader.result).split(",", 2)[1]); };
      reader.onerror = reject;
      reader.readAsDataURL(blob);
    });
  }

  function embed(notebook, base) {
    var jobs = [];
    notebook.cells.forEach(function (cell) {
      if (cell.cell_type !== "markdown") return;
      var source = Array.isArray(cell.source) ? cell.source.join("") : cell.source;
      var found = {};
      source.replace(IMAGE, function (whole, alt, url) { found[url] = true; return whole; });
      Object.keys(found).forEach(function (url) {
        var name = url.split("/").pop(), type = TYPES[name.split(".").pop().toLowerCase()];
        if (!type) return;
        jobs.push(fetch(new URL(url, base)).then(function (response) {
          if (!response.ok) throw new Error(url + ": " + response.status);
          return response.blob();
        }).then(asBase64).then(function (data) {
          cell.attachments = cell.attachments || {};
          cell.attachments[name] = {};
          cell.attachments[name][type] = data;
          source = source.split("](" + url + ")").join("](attachment:" + name + ")");
          cell.source = source;
        }));
      });
    });
    return Promise.all(jobs).then(function () { return notebook; });
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a.d2l-notebook");
    if (!link || link.dataset.d2lEmbedded) return;
    event.preventDefault();
    var url = new URL(link.getAttribute("href"), location.href);
    fetch(url).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.json();
    }).then(function (notebook) {
      return embed(notebook, url);
    }).then(function (notebook) {
      var blob = new Blob([JSON.stringify(notebook, null, 1) + "\n"], {type: "application/x-ipynb+json"});
      var save = document.createElement("a");
      save.href = URL.createObjectURL(blob);
      save.download = url.pathname.split("/").pop();
      document.body.appendChild(save);
      save.click();
      setTimeout(function () { URL.revokeObjectURL(save.href); save.remove(); }, 1000);
    }).catch(function () {
      link.dataset.d2lEmbedded = "no";  /* the plain file, as the link says */
      link.setAttribute("download", "");
      link.click();
    });
  });
})();
