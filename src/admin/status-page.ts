// The status page: one self-contained HTML document (no external script, style or font) that polls
// /status.json every second and redraws. Text goes in with textContent only: shard names and orgs come
// from config and tenants, never markup.
export const statusPageHtml = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>kcp-edge status</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1b1f24; }
  h1 { font-size: 1.3rem; margin: 0 0 .3rem; } h2 { font-size: 1.05rem; margin: 1.4rem 0 .4rem; }
  table { border-collapse: collapse; min-width: 30rem; }
  th, td { text-align: left; padding: .25rem .8rem .25rem 0; border-bottom: 1px solid #d0d7de; }
  td.n { text-align: right; font-variant-numeric: tabular-nums; }
  .up { color: #1a7f37; font-weight: 600; } .down { color: #cf222e; font-weight: 600; } .unknown { color: #6e7781; }
  #meta, .empty { color: #57606a; } #error { color: #cf222e; } #worker { color: #9a6700; }
</style>
</head>
<body>
<h1>kcp-edge status</h1>
<div id="meta">loading…</div>
<div id="worker"></div>
<div id="error"></div>
<h2>Shards</h2>
<table id="shards"><thead><tr><th>Shard</th><th>State</th><th>Health</th><th>Routes</th><th>Open watches</th><th>URL</th></tr></thead><tbody></tbody></table>
<h2>Open watches by shard and org</h2>
<table id="watches"><thead><tr><th>Shard</th><th>Org</th><th>Open</th></tr></thead><tbody></tbody></table>
<h2>Rate-limit priority levels</h2>
<table id="ratelimit"><thead><tr><th>Level</th><th>In flight</th><th>Open watches</th><th>429s (5 min)</th></tr></thead><tbody></tbody></table>
<script>
'use strict';
function cell(row, text, cls) {
  const td = document.createElement('td');
  td.textContent = text === null || text === undefined ? '–' : String(text);
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}
function fill(id, rows, columns, rowAttrs) {
  const body = document.querySelector('#' + id + ' tbody');
  const next = document.createElement('tbody');
  for (const r of rows) {
    const tr = document.createElement('tr');
    for (const [key, cls] of columns) cell(tr, r[key], typeof cls === 'function' ? cls(r) : cls);
    if (rowAttrs) for (const [k, v] of Object.entries(rowAttrs(r))) tr.setAttribute(k, v);
    next.appendChild(tr);
  }
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    cell(tr, 'none', 'empty').colSpan = columns.length;
    next.appendChild(tr);
  }
  body.replaceWith(next);
}
async function refresh() {
  try {
    const res = await fetch('status.json', { cache: 'no-store' });
    if (!res.ok) throw new Error('status.json: HTTP ' + res.status);
    const s = await res.json();
    document.getElementById('meta').textContent =
      'host ' + s.host + ' (pid ' + s.pid + ') · config revision ' + s.configRevision + ' · routing ' +
      (s.routingReady ? 'ready' : 'NOT ready') + (s.replicasSeen === null ? '' : ' · ' + s.replicasSeen + ' replicas in Redis') + ' · ' + s.requestsInFlight + ' requests in flight · updated ' + s.generatedAt;
    // With workers, whoever the kernel picked answered: say so, the counts are that worker's alone.
    document.getElementById('worker').textContent = s.worker === null ? '' :
      'answered by worker ' + (s.worker.slot + 1) + ' of ' + s.worker.count + ' (pid ' + s.pid + '): watches, requests and 429s below count this worker alone; a refresh may reach another';
    document.getElementById('error').textContent = '';
    fill('shards', s.shards, [['name'], ['state'], ['health', (r) => r.health], ['routes', 'n'], ['openWatches', 'n'], ['url']],
      (r) => ({ 'data-shard': r.name, 'data-health': r.health }));
    fill('watches', s.watches, [['shard'], ['org'], ['open', 'n']], (r) => ({ 'data-shard': r.shard, 'data-org': r.org }));
    fill('ratelimit', s.rateLimit, [['level'], ['inFlight', 'n'], ['openWatches', 'n'], ['rejectedLast5m', 'n']], (r) => ({ 'data-level': r.level }));
    document.body.setAttribute('data-generated-at', s.generatedAt);
  } catch (err) {
    document.getElementById('error').textContent = 'refresh failed: ' + err.message;
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
`;
