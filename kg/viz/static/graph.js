(function () {
  function tipElement(markup) {
    var d = document.createElement('div');
    d.className = 'kg-tip';
    d.innerHTML = markup;      // escaped on the server: only the page's own markup is live
    return d;
  }
  function tips(set) {
    var upd = [];
    set.forEach(function (item) {
      if (typeof item.title === 'string') upd.push({id: item.id, title: tipElement(item.title)});
    });
    set.update(upd);
  }
  tips(nodes);
  tips(edges);
  var base = {};
  nodes.forEach(function (n) { base[n.id] = n.color; });
  var input = document.getElementById('kg-search');
  var sel = document.getElementById('kg-status');
  var info = document.getElementById('kg-info');
  var total = nodes.length;
  function search() {
    var q = input.value.trim().toLowerCase();
    var hits = {}, ids = [], upd = [];
    if (q) nodes.forEach(function (n) {
      if (((n.search || '') + ' ' + (n.label || '')).toLowerCase().indexOf(q) >= 0) { hits[n.id] = 1; ids.push(n.id); }
    });
    nodes.forEach(function (n) {
      upd.push({id: n.id, color: (!q || hits[n.id]) ? base[n.id] : '#e4e4e4'});
    });
    nodes.update(upd);
    network.selectNodes(ids, true);
    if (ids.length === 1) network.focus(ids[0], {scale: 1.3, animation: false});
    else if (ids.length > 1) network.fit({nodes: ids, animation: false});
    else network.fit({animation: false});
    info.textContent = q ? ids.length + ' of ' + total + ' nodes match' : total + ' nodes, ' + edges.length + ' edges';
  }
  function filterStatus() {
    var s = sel.value, upd = [];
    edges.forEach(function (e) { if (e.status) upd.push({id: e.id, hidden: !!s && e.status !== s}); });
    edges.update(upd);
  }
  var timer = null;
  input.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(search, 200); });
  input.addEventListener('keydown', function (ev) { if (ev.key === 'Enter') { clearTimeout(timer); search(); } });
  sel.addEventListener('change', filterStatus);
  info.textContent = total + ' nodes, ' + edges.length + ' edges';
  document.documentElement.setAttribute('data-kg-ready', '1');
})();
