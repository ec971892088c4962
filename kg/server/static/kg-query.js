// The query page: YASGUI on this server's /sparql, with the project's prefixes and the chosen
// named query preloaded. Nothing here calls another host: autocompleters that look terms up on
// the web are switched off, and the page's Content-Security-Policy allows only this origin.
(function () {
  var cfg = JSON.parse(document.getElementById("kg-query-config").textContent);
  var prefixes = Object.keys(cfg.prefixes).map(function (p) {
    return "PREFIX " + p + ": <" + cfg.prefixes[p] + ">";
  }).join("\n");
  var text = cfg.query || (prefixes + "\n\nSELECT ?notation ?label WHERE {\n  ?m skos:notation ?notation ; skos:prefLabel ?label .\n} LIMIT 50\n");
  Yasgui.Yasqe.defaults.autocompleters = ["prefixes", "variables"];
  Yasgui.Yasqe.forkAutocompleter("prefixes", {name: "kg-prefixes", persistenceId: null,
    get: function () { return Object.keys(cfg.prefixes).map(function (p) { return p + ": <" + cfg.prefixes[p] + ">"; }); }});
  Yasgui.Yasqe.defaults.autocompleters = ["kg-prefixes", "variables"];
  var yasgui = new Yasgui(document.getElementById("yasgui"), {
    requestConfig: {endpoint: cfg.endpoint, method: "POST"},
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: {getData: function () { return [{endpoint: cfg.endpoint}]; }},
    persistenceId: null,
    populateFromUrl: false,
    yasqe: {value: text}
  });
  var tab = yasgui.getTab();
  if (tab && cfg.query) { tab.setQuery(cfg.query); }
  // /query?name=…&run=1 is a link to the results: run the query as the page opens
  if (tab && cfg.run) { tab.getYasqe().query(); }
  window.kgYasgui = yasgui;
})();
