/* The search page: reads the Pagefind index written by `syndicate build` and lists what
   matches, as the visitor types. Paths are relative, so a site under a sub-path works. */
(function () {
  "use strict";
  var form = document.getElementById("search-form");
  var input = document.getElementById("search-query");
  var status = document.getElementById("search-status");
  var list = document.getElementById("search-results");
  if (!form || !input || !status || !list) return;
  var root = new URL(form.getAttribute("data-root") || "./", document.baseURI);
  var loading = null;
  var latest = 0;
  var timer = 0;

  function pagefind() {
    if (!loading) {
      loading = import(new URL("pagefind/pagefind.js", root).href).then(function (pf) {
        return pf.init().then(function () { return pf; });
      });
    }
    return loading;
  }

  /* Pagefind's excerpt is text with <mark> around the matches: keep exactly that. */
  function excerpt(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    var out = document.createElement("p");
    holder.content.childNodes.forEach(function (node) {
      if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        out.appendChild(mark);
      } else {
        out.appendChild(document.createTextNode(node.textContent));
      }
    });
    return out;
  }

  function show(query, results) {
    list.textContent = "";
    results.forEach(function (data) {
      var item = document.createElement("li");
      var heading = document.createElement("h2");
      var link = document.createElement("a");
      link.href = new URL(data.url.replace(/^\//, ""), root).href;
      link.textContent = (data.meta && data.meta.title) || data.url;
      heading.appendChild(link);
      item.appendChild(heading);
      if (data.meta && data.meta.byline) {
        var byline = document.createElement("p");
        byline.className = "meta";
        byline.textContent = data.meta.byline;
        item.appendChild(byline);
      }
      item.appendChild(excerpt(data.excerpt || ""));
      list.appendChild(item);
    });
    var count = results.length;
    status.textContent = count ? count + (count === 1 ? " result" : " results") + " for \u201c" + query + "\u201d"
                               : "Nothing found for \u201c" + query + "\u201d.";
  }

  function run() {
    var query = input.value.trim();
    var ticket = ++latest;
    var address = new URL(window.location.href);
    if (query) { address.searchParams.set("q", query); } else { address.searchParams.delete("q"); }
    window.history.replaceState(null, "", address.href);
    if (!query) { list.textContent = ""; status.textContent = ""; return; }
    status.textContent = "Searching\u2026";
    pagefind().then(function (pf) {
      return pf.search(query);
    }).then(function (search) {
      return Promise.all(search.results.slice(0, 20).map(function (r) { return r.data(); }));
    }).then(function (results) {
      if (ticket === latest) show(query, results);
    }).catch(function () {
      if (ticket === latest) status.textContent = "Search is not available right now.";
    });
  }

  form.addEventListener("submit", function (event) { event.preventDefault(); run(); });
  input.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(run, 180); });
  var initial = new URL(window.location.href).searchParams.get("q");
  if (initial) { input.value = initial; run(); }
})();
