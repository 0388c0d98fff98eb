// The dashboard (GET /): one static page whose script reads only the public surfaces — GET /api/statistics and
// the WebSocket event API (docs/event-api.md) — so an operator's own tool can show the same. Kept as strings in
// a module so the compiled package carries it (tsc copies no other files). uPlot is served from node_modules.

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>equigate</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="/dashboard/uPlot.min.css">
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d232b; }
  header { background: #1d232b; color: #fff; padding: 10px 20px; display: flex; gap: 24px; align-items: baseline; flex-wrap: wrap; }
  header h1 { font-size: 18px; margin: 0; }
  .pill { padding: 2px 8px; border-radius: 10px; background: #555; }
  .pill.ok { background: #2e7d32; } .pill.bad { background: #c62828; }
  main { padding: 16px 20px; display: grid; grid-template-columns: minmax(0, 2fr) minmax(0, 1fr); gap: 16px; }
  section { background: #fff; border-radius: 6px; padding: 12px 16px; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: 15px; margin: 0 0 8px; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid #eee; font-variant-numeric: tabular-nums; }
  td.num, th.num { text-align: right; }
  tr.worker td:first-child { padding-left: 24px; color: #555; }
  .accepted { color: #2e7d32; } .rejected { color: #c62828; }
  code { font-size: 12px; }
</style>
</head>
<body>
<header>
  <h1>equigate</h1>
  <span>node <span id="upstream" class="pill">…</span></span>
  <span>event API <span id="ws" class="pill">…</span></span>
  <span>hashrate <b id="hashrate">–</b> sol/s</span>
  <span>sessions <b id="sessions">–</b></span>
  <span>uptime <b id="uptime">–</b></span>
  <span id="version"></span>
</header>
<main>
  <section class="wide"><h2>Pool hashrate (sol/s)</h2><div id="chart" data-points="0"></div></section>
  <section><h2>Miners and workers</h2>
    <table id="miners"><thead><tr><th>miner / worker</th><th class="num">10 min</th><th class="num">1 h</th><th class="num">accepted</th><th class="num">reject %</th><th class="num">blocks</th><th>last share</th></tr></thead><tbody></tbody></table>
  </section>
  <section><h2>Recent shares</h2>
    <p><span class="accepted">accepted <b id="accepted">0</b></span> · <span class="rejected">rejected <b id="rejected">0</b></span> <span id="rejectCodes"></span></p>
    <table id="shares"><thead><tr><th>time</th><th>worker</th><th>outcome</th><th class="num">difficulty</th></tr></thead><tbody></tbody></table>
  </section>
  <section class="wide"><h2>Blocks</h2>
    <table id="blocks"><thead><tr><th>time</th><th class="num">height</th><th>status</th><th>found by</th><th>blockhash</th></tr></thead><tbody></tbody></table>
  </section>
</main>
<script src="/dashboard/uPlot.iife.min.js"></script>
<script src="/dashboard/app.js"></script>
</body>
</html>
`;

export const DASHBOARD_JS = `'use strict';
(function () {
  var token = new URLSearchParams(location.search).get('token') || '';
  var MAX_POINTS = 720, MAX_SHARES = 15, MAX_BLOCKS = 20;
  var live = { t: [], avg: [] };
  var buckets = { t: [], v: [] };
  var miners = new Map();
  var counts = { accepted: 0, rejected: 0, codes: {} };
  var blocks = [];
  var chart;
  function $(id) { return document.getElementById(id); }
  function fmt(n) { return n >= 1000 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2); }
  function clock(ms) { return ms ? new Date(Number(ms)).toLocaleTimeString() : '–'; }
  function td(text, cls) { var c = document.createElement('td'); c.textContent = text; if (cls) c.className = cls; return c; }
  function pill(el, text, ok) { el.textContent = text; el.className = 'pill ' + (ok ? 'ok' : 'bad'); }

  function makeChart() {
    var width = Math.max(300, $('chart').clientWidth - 10);
    chart = new uPlot({ width: width, height: 260, series: [{}, { label: '10 s buckets', stroke: '#90a4ae', width: 1, spanGaps: true }, { label: '10 min average', stroke: '#1565c0', width: 2, spanGaps: true }], scales: { y: { range: function (u, min, max) { return [0, max > 0 ? max * 1.15 : 1]; } } }, axes: [{}, { size: 60 }] }, [[], [], []], $('chart'));
  }
  function redraw() {
    var xs = Array.from(new Set(buckets.t.concat(live.t))).sort(function (a, b) { return a - b; });
    var bi = new Map(buckets.t.map(function (t, i) { return [t, buckets.v[i]]; }));
    var li = new Map(live.t.map(function (t, i) { return [t, live.avg[i]]; }));
    var data = [xs, xs.map(function (x) { return bi.has(x) ? bi.get(x) : null; }), xs.map(function (x) { return li.has(x) ? li.get(x) : null; })];
    chart.setData(data);
    $('chart').dataset.points = String(xs.length);
    $('chart').dataset.livePoints = String(live.t.length);
  }

  function renderMiners() {
    var body = $('miners').tBodies[0];
    body.textContent = '';
    var list = Array.from(miners.values()).sort(function (a, b) { return b.hashrate10m - a.hashrate10m; });
    list.forEach(function (m) {
      body.appendChild(row(m.miner, m, 'miner'));
      (m.workers || []).forEach(function (w) { if (w.worker) body.appendChild(row(w.worker, w, 'worker')); });
    });
    $('miners').dataset.rows = String(list.length);
  }
  function row(name, s, cls) {
    var tr = document.createElement('tr');
    tr.className = cls;
    var rejected = Object.values(s.rejectedByCode || {}).reduce(function (a, b) { return a + b; }, 0);
    var total = s.accepted + rejected;
    tr.append(td(name), td(fmt(s.hashrate10m), 'num hashrate'), td(fmt(s.hashrate1h), 'num'), td(String(s.accepted), 'num'),
      td(total ? (100 * rejected / total).toFixed(1) : '0.0', 'num'), td(String(s.blocks), 'num'), td(clock(s.lastShareAt)));
    return tr;
  }
  function renderCounts() {
    $('accepted').textContent = counts.accepted;
    $('rejected').textContent = counts.rejected;
    $('rejectCodes').textContent = Object.keys(counts.codes).map(function (c) { return c + ': ' + counts.codes[c]; }).join(', ');
  }
  function addShare(time, s) {
    if (s.outcome === 'accepted') counts.accepted++; else { counts.rejected++; counts.codes[s.code] = (counts.codes[s.code] || 0) + 1; }
    var body = $('shares').tBodies[0];
    var tr = document.createElement('tr');
    tr.append(td(clock(time)), td(s.worker ? s.miner + '.' + s.worker : s.miner), td(s.outcome === 'accepted' ? 'accepted' : s.code + ' ' + s.reason, s.outcome), td(s.difficulty > 0 ? fmt(s.difficulty) : '–', 'num'));
    body.insertBefore(tr, body.firstChild);
    while (body.rows.length > MAX_SHARES) body.deleteRow(body.rows.length - 1);
  }
  function renderBlocks() {
    var body = $('blocks').tBodies[0];
    body.textContent = '';
    blocks.slice(0, MAX_BLOCKS).forEach(function (b) {
      var tr = document.createElement('tr');
      var hash = document.createElement('td'); var code = document.createElement('code'); code.textContent = b.blockhash || ''; hash.appendChild(code);
      tr.append(td(clock(b.at)), td(String(b.height), 'num'), td(b.status), td(b.worker ? b.miner + '.' + b.worker : b.miner), hash);
      body.appendChild(tr);
    });
  }

  function loadStatistics() {
    return fetch('/api/statistics', { cache: 'no-store' }).then(function (r) { return r.json(); }).then(function (s) {
      buckets = { t: s.series.t, v: s.series.hashrate };
      s.miners.forEach(function (m) { miners.set(m.miner, m); });
      if (blocks.length === 0) blocks = s.pool.recentBlocks.map(function (b) { return { at: b.at, height: b.height, status: b.status, miner: b.miner, worker: b.worker, blockhash: b.blockHash }; });
      pill($('upstream'), s.upstream, s.upstream === 'logged-in');
      renderMiners(); renderBlocks(); redraw();
      return s;
    });
  }

  function connect(info) {
    if (!info.port) { pill($('ws'), 'off', false); return; }
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.hostname + ':' + info.port + '/' + (token ? '?token=' + encodeURIComponent(token) : '');
    var ws = new WebSocket(url);
    ws.onopen = function () {
      pill($('ws'), 'connected', true);
      ['telemetry', 'share', 'block', 'miner', 'heartbeat'].forEach(function (topic) { ws.send(JSON.stringify({ action: 'subscribe', topic: topic, ack: true, id: topic })); });
    };
    ws.onclose = function () { pill($('ws'), 'reconnecting', false); setTimeout(function () { connect(info); }, 2000); };
    ws.onmessage = function (e) {
      var m = JSON.parse(e.data);
      if (!m.topic) return;
      var msg = m.message;
      if (m.topic === 'telemetry') {
        $('hashrate').textContent = fmt(msg.hashrate);
        $('sessions').textContent = Object.keys(msg.sessions).map(function (k) { return k + ' ' + msg.sessions[k]; }).join(', ');
        $('uptime').textContent = Math.floor(msg.uptime / 60) + ' min';
        $('version').textContent = 'v' + msg.version;
        pill($('upstream'), msg.upstream, msg.upstream === 'logged-in');
        live.t.push(Number(m.time) / 1000); live.avg.push(msg.hashrate);
        if (live.t.length > MAX_POINTS) { live.t.shift(); live.avg.shift(); }
        redraw();
      } else if (m.topic === 'miner') {
        miners.set(msg.miner, msg); renderMiners();
      } else if (m.topic === 'share') {
        addShare(m.time, msg); renderCounts();
      } else if (m.topic === 'block') {
        var i = blocks.findIndex(function (b) { return b.height === msg.height && b.miner === msg.miner && b.worker === msg.worker; });
        var entry = { at: Number(m.time), height: msg.height, status: msg.status, miner: msg.miner, worker: msg.worker, blockhash: msg.blockhash };
        if (i >= 0) blocks[i] = entry; else blocks.unshift(entry);
        renderBlocks();
      }
    };
  }

  makeChart();
  loadStatistics().then(function (s) { connect(s.eventApi); }, function () { pill($('upstream'), 'unknown', false); });
  setInterval(function () { loadStatistics().catch(function () {}); }, 10000);
})();
`;
