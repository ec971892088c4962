/* The audit matrix: draws the rows of the JSON blob #kg-matrix-data (see kg/audit/matrix_page.py)
   a page at a time, grouped by province, filtered and sorted. No network: everything is in the page.
   window.kgMatrix.set({q, st, within, sort, dir, flat}) changes the view (tests call it); the same
   keys in the #fragment give the first view. */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("kg-matrix-data").textContent);
  var S = D.statuses, C = D.columns, R = D.regions, X = D.cells, PAGE = D.pageRows || 200;
  // a cell is one character: S[i] is the status whose "code" it is
  var BY_CODE = {};
  S.forEach(function (s) { BY_CODE[s.code] = s; });
  var NOT_REPORTED = S.findIndex(function (s) { return s.notation === D.none; });
  var NONE_CH = S[NOT_REPORTED].code;
  // sort ranks: "missing first" puts the latest status in display order first; a cell that does not
  // apply goes last whichever way the column is sorted

  var HAY = R.map(function (r) { return (r.name + " " + r.code + " " + r.prefecture + " " + r.province).toLowerCase(); });
  var GAPS = X.map(function (cells) { return cells.split(NONE_CH).length - 1; });
  var GROUP_ORDER = {};
  R.forEach(function (r, i) { if (!(r.province in GROUP_ORDER)) GROUP_ORDER[r.province] = i; });

  var state = {q: "", st: "", within: -1, sort: -1, dir: 1, flat: false};
  var collapsed = {};
  var items = [], drawn = 0, matched = 0;
  var main = document.getElementById("matrix"), bar = document.getElementById("bar");
  var tbody, more, counter;

  function esc(s) {
    return String(s).replace(/[&<>"]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]; });
  }
  function statusOf(ch) { return BY_CODE[ch]; }
  function cls(ch) { return "st-" + BY_CODE[ch].notation; }

  function readHash() {
    var h = location.hash.replace(/^#/, "");
    if (!h) return;
    h.split("&").forEach(function (kv) {
      var i = kv.indexOf("="), k = decodeURIComponent(i < 0 ? kv : kv.slice(0, i)), v = i < 0 ? "1" : decodeURIComponent(kv.slice(i + 1));
      if (k === "q" || k === "st") state[k] = v;
      else if (k === "within" || k === "sort" || k === "dir") state[k] = parseInt(v, 10);
      else if (k === "flat") state.flat = v === "1";
    });
    if (isNaN(state.within)) state.within = -1;
    if (isNaN(state.sort)) state.sort = -1;
    if (state.dir !== -1) state.dir = 1;
  }
  function writeHash() {
    var parts = [];
    if (state.q) parts.push("q=" + encodeURIComponent(state.q));
    if (state.st) parts.push("st=" + encodeURIComponent(state.st));
    if (state.within >= 0) parts.push("within=" + state.within);
    if (state.sort !== -1) parts.push("sort=" + state.sort, "dir=" + state.dir);
    if (state.flat) parts.push("flat=1");
    try { history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname + location.search); } catch (e) { /* file: pages in some browsers */ }
  }

  function keep(i) {
    if (state.q && HAY[i].indexOf(state.q.toLowerCase()) < 0) return false;
    if (!state.st) return true;
    var st = S.find(function (s) { return s.notation === state.st; }), want = st ? st.code : "";
    return state.within >= 0 ? X[i].charAt(state.within) === want : X[i].indexOf(want) >= 0;
  }
  function sortKey(i) {
    if (state.sort === -2) return -GAPS[i] * state.dir;
    var ch = X[i].charAt(state.sort);
    if (BY_CODE[ch].notation === D.na) return 1e6;
    return -BY_CODE[ch].order * state.dir;
  }
  function ordered(list) {
    if (state.sort === -1) return list;
    return list.map(function (i) { return [sortKey(i), i]; })
      .sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; })
      .map(function (p) { return p[1]; });
  }

  // the view as a list: {group, regions, missing per column} headers and region indices
  function makeItems() {
    var groups = {}, names = [], out = [];
    matched = 0;
    for (var i = 0; i < R.length; i++) {
      if (!keep(i)) continue;
      matched++;
      var g = state.flat ? "" : R[i].province;
      if (!(g in groups)) { groups[g] = []; names.push(g); }
      groups[g].push(i);
    }
    names.sort(function (a, b) { return (GROUP_ORDER[a] || 0) - (GROUP_ORDER[b] || 0); });
    names.forEach(function (g) {
      var rows = ordered(groups[g]);
      if (!state.flat) out.push({group: g, rows: rows});
      if (state.flat || !collapsed[g]) Array.prototype.push.apply(out, rows);
    });
    return out;
  }

  function groupHtml(item) {
    var miss = new Array(C.length).fill(0), gaps = 0;
    item.rows.forEach(function (i) {
      var cells = X[i];
      for (var c = 0; c < cells.length; c++) if (cells.charAt(c) === NONE_CH) miss[c]++;
      gaps += GAPS[i];
    });
    var open = !collapsed[item.group];
    var tip = ' title="regions of ' + esc(item.group) + ' that do not report it"';
    var tds = miss.map(function (m) { return "<td" + tip + ">" + (m || "") + "</td>"; }).join("");
    return '<tr class="grp" data-group="' + esc(item.group) + '"><th class="rn"><button class="tog" aria-expanded="' + open + '">' +
      (open ? "▾" : "▸") + "</button> " + esc(item.group) + ' <small>' + item.rows.length + (item.rows.length === 1 ? " region" : " regions") + "</small></th>" +
      '<td class="gap">' + (gaps || "") + "</td>" + tds + "</tr>";
  }
  function regionHtml(i) {
    var r = R[i], cells = X[i], tds = "";
    for (var c = 0; c < cells.length; c++) {
      var ch = cells.charAt(c);
      tds += '<td class="' + cls(ch) + '">' + esc(statusOf(ch).mark) + "</td>";
    }
    var name = D.link ? '<a href="' + esc(D.link.replace("{code}", encodeURIComponent(r.code))) + '">' + esc(r.name) + "</a>"
                      : '<span title="kg audit ' + esc(r.code) + ' --format html">' + esc(r.name) + "</span>";
    var where = r.prefecture ? esc(r.prefecture) + " · " : "";
    return '<tr data-i="' + i + '"><th class="rn">' + name + " <small>" + where + esc(r.code) + "</small></th>" +
      '<td class="gap">' + (GAPS[i] || "") + "</td>" + tds + "</tr>";
  }

  function drawMore() {
    var end = Math.min(items.length, drawn + PAGE), html = [];
    for (var k = drawn; k < end; k++) html.push(typeof items[k] === "number" ? regionHtml(items[k]) : groupHtml(items[k]));
    tbody.insertAdjacentHTML("beforeend", html.join(""));
    drawn = end;
    more.hidden = drawn >= items.length;
    more.textContent = "show " + Math.min(PAGE, items.length - drawn) + " more (" + (items.length - drawn) + " rows left)";
  }
  function redraw() {
    items = makeItems();
    drawn = 0;
    tbody.innerHTML = "";
    drawMore();
    counter.textContent = matched + " of " + R.length + " regions";
    document.documentElement.setAttribute("data-rows", String(matched));
    markSorted();
    writeHash();
  }

  function headHtml() {
    var th = C.map(function (c, k) {
      var tip = c.notation + " " + c.label + " — " + D.sets[c.set] + (c.citation ? " (" + c.citation + ")" : "");
      return '<th class="col" data-col="' + k + '" title="' + esc(tip) + '"><div class="cn">' + esc(c.notation) + (c.baseline ? "" : "*") +
        '</div><div class="cl">' + esc(c.label) + "</div></th>";
    }).join("");
    return '<thead><tr><th class="rn corner">region <small>(click a mechanism to sort)</small></th>' +
      '<th class="col gap" data-col="-2" title="requirements not reported"><div class="cn">' + esc(S[NOT_REPORTED].mark) +
      '</div><div class="cn">#</div></th>' + th + "</tr></thead>";
  }
  function markSorted() {
    Array.prototype.forEach.call(main.querySelectorAll("th.col"), function (th) {
      var k = parseInt(th.getAttribute("data-col"), 10);
      th.classList.toggle("sorted", k === state.sort);
      th.classList.toggle("up", k === state.sort && state.dir === -1);
    });
  }

  function controls() {
    var opts = '<option value="">any status</option>' + S.map(function (s) {
      return '<option value="' + esc(s.notation) + '">' + esc(s.mark + " " + s.label) + "</option>"; }).join("");
    var within = '<option value="-1">in any mechanism</option>' + C.map(function (c, k) {
      return '<option value="' + k + '">in ' + esc(c.notation + " " + c.label) + "</option>"; }).join("");
    document.getElementById("controls").innerHTML =
      '<input id="q" type="search" placeholder="filter: region, prefecture, province or code" size="34"> ' +
      '<select id="st">' + opts + '</select> <select id="within">' + within + "</select> " +
      '<label><input id="flat" type="checkbox"> no province groups</label> ' +
      '<button id="fold">collapse all</button> <button id="unfold">expand all</button> <span id="count"></span>';
    var q = document.getElementById("q"), st = document.getElementById("st"), wi = document.getElementById("within"),
        flat = document.getElementById("flat"), timer = null;
    q.value = state.q; st.value = state.st; wi.value = String(state.within); flat.checked = state.flat;
    q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { set({q: q.value}); }, 150); });
    st.addEventListener("change", function () { set({st: st.value}); });
    wi.addEventListener("change", function () { set({within: parseInt(wi.value, 10)}); });
    flat.addEventListener("change", function () { set({flat: flat.checked}); });
    document.getElementById("fold").addEventListener("click", function () {
      R.forEach(function (r) { collapsed[r.province] = true; }); redraw(); });
    document.getElementById("unfold").addEventListener("click", function () { collapsed = {}; redraw(); });
    counter = document.getElementById("count");
  }

  function set(patch) {
    for (var k in patch) if (Object.prototype.hasOwnProperty.call(patch, k)) state[k] = patch[k];
    var ids = {q: "value", st: "value", within: "value", flat: "checked"};
    for (var id in ids) { var el = document.getElementById(id); if (el) el[ids[id]] = id === "within" ? String(state[id]) : state[id]; }
    redraw();
    return matched;
  }

  function onClick(ev) {
    var th = ev.target.closest("th.col");
    if (th) {
      var k = parseInt(th.getAttribute("data-col"), 10);
      // first click: missing first; second: implemented first; third: back to the order by code
      if (state.sort !== k) set({sort: k, dir: 1});
      else if (state.dir === 1) set({dir: -1});
      else set({sort: -1, dir: 1});
      return;
    }
    var grp = ev.target.closest("tr.grp");
    if (grp) {
      var g = grp.getAttribute("data-group");
      collapsed[g] = !collapsed[g];
      redraw();
      return;
    }
    var td = ev.target.closest("td");
    if (td && D.link) {
      var tr = td.parentNode;
      if (tr.hasAttribute("data-i")) location.href = D.link.replace("{code}", encodeURIComponent(R[+tr.getAttribute("data-i")].code));
    }
  }
  // a cell's tooltip is written when the pointer reaches it: 10^5 titles would double the page
  function onOver(ev) {
    var td = ev.target.closest("td"), tr = td && td.parentNode;
    if (!td || td.title || !tr.hasAttribute("data-i")) return;
    var c = td.cellIndex - 2;
    if (c < 0) { td.title = GAPS[+tr.getAttribute("data-i")] + " requirements not reported"; return; }
    var i = +tr.getAttribute("data-i");
    td.title = R[i].name + " · " + C[c].notation + " " + C[c].label + ": " + statusOf(X[i].charAt(c)).label;
  }

  function stickyOffset() { main.style.setProperty("--bar", bar.offsetHeight + "px"); }

  readHash();
  controls();
  main.innerHTML = '<table class="matrix">' + headHtml() + "<tbody></tbody></table>" +
    '<p><button id="more" hidden></button></p>';
  tbody = main.querySelector("tbody");
  more = document.getElementById("more");
  more.addEventListener("click", drawMore);
  main.addEventListener("click", onClick);
  main.addEventListener("mouseover", onOver);
  stickyOffset();
  window.addEventListener("resize", stickyOffset);
  if ("IntersectionObserver" in window) {
    new IntersectionObserver(function (es) {
      if (es.some(function (e) { return e.isIntersecting; }) && drawn < items.length) drawMore();
    }, {rootMargin: "600px"}).observe(more);
  }
  redraw();
  window.kgMatrix = {set: set, filter: function (q) { return set({q: q}); }, state: state, data: D};
  document.documentElement.setAttribute("data-ready", String(Math.round(performance.now())));
  // the frame after the first rows: when they are on the screen (bench/matrix.py reads both)
  requestAnimationFrame(function () {
    setTimeout(function () { document.documentElement.setAttribute("data-painted", String(Math.round(performance.now()))); }, 0);
  });
})();
