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

  // neighbour highlight: the clicked node and its neighbours keep their colours, the rest fades
  var root = document.documentElement;
  var edgeBase = {};
  edges.forEach(function (e) { edgeBase[e.id] = e.color; });
  var faded = false;
  var lastSize = 0;
  function font(n, color) {     // a node's whole font: an update replaces the object
    return {color: color, size: n.major && lastSize ? lastSize : 13};
  }
  function restore() {
    if (!faded) return;
    var nu = [], eu = [];
    nodes.forEach(function (n) { nu.push({id: n.id, color: base[n.id], font: font(n, '#343434')}); });
    edges.forEach(function (e) { eu.push({id: e.id, color: edgeBase[e.id]}); });
    nodes.update(nu); edges.update(eu);
    faded = false;
    root.removeAttribute('data-kg-highlight');
    root.removeAttribute('data-kg-neighbours');
  }
  function highlight(id) {
    restore();
    if (id === undefined || id === null || !nodes.get(id)) return 0;
    var keep = {}, near = network.getConnectedNodes(id), own = {}, eu = [];
    keep[id] = 1;
    near.forEach(function (n) { keep[n] = 1; });
    network.getConnectedEdges(id).forEach(function (e) { own[e] = 1; });
    network.getConnectedEdges(id).forEach(function (e) {   // the clicked node's edges at full strength
      var c = edgeBase[e];
      if (c && typeof c === 'object') eu.push({id: e, color: Object.assign({}, c, {opacity: 1})});
    });
    var nu = [];
    nodes.forEach(function (n) {
      if (!keep[n.id]) nu.push({id: n.id, color: '#ececec', font: font(n, '#d0d0d0')});
    });
    edges.forEach(function (e) {
      if (!own[e.id]) eu.push({id: e.id, color: {color: '#e8e8e8', highlight: '#e8e8e8', opacity: 0.15}});
    });
    nu.push({id: id, font: {color: '#000', size: Math.max(14, Math.round(13 / network.getScale()))}});
    nodes.update(nu); edges.update(eu);
    faded = true;
    root.setAttribute('data-kg-highlight', String(id));
    root.setAttribute('data-kg-neighbours', near.slice().sort().join(' '));
    return near.length;
  }
  window.kgHighlight = highlight;
  network.on('click', function (p) { if (p.nodes.length) highlight(p.nodes[0]); else restore(); });

  // node-type toggles
  Array.prototype.forEach.call(document.querySelectorAll('#kg-bar input[data-kind]'), function (box) {
    box.addEventListener('change', function () {
      var upd = [];
      nodes.forEach(function (n) { if (n.kind === box.dataset.kind) upd.push({id: n.id, hidden: !box.checked}); });
      nodes.update(upd);
    });
  });

  // labels on zoom: the major nodes' labels keep a readable size on screen at any zoom; the
  // others are drawn only from a zoom on (the option nodes.scaling.label.drawThreshold)
  var major = [];
  nodes.forEach(function (n) { if (n.major) major.push(n.id); });
  function labels() {
    if (!major.length) return;
    var size = Math.round(Math.min(60, Math.max(14, 13 / network.getScale())));
    if (size === lastSize) return;
    lastSize = size;
    nodes.update(major.map(function (id) {
      return {id: id, font: {size: size, color: faded && nodes.get(id).color === '#ececec' ? '#d0d0d0' : '#343434'}};
    }));
  }
  network.on('zoom', labels);
  network.once('afterDrawing', function () {
    labels();
    root.setAttribute('data-kg-drawn', String(Math.round(performance.now())));
  });
  root.setAttribute('data-kg-ready', '1');
})();
