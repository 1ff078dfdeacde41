/**
 * The web dashboard: one page, no build step, no network beyond this server. Vanilla JS over the HTTP API
 * (`api.ts`) with uPlot (inlined from node_modules) for the charts; live updates from the SSE event stream.
 * Tabs: services overview (rate, errors, p95 against baseline), incidents and their RCA, patterns, findings
 * with verdict buttons, declared changes, chaos and load runs, the knowledge graph, learnings.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let cached: string | undefined;

const CSS = `
:root{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#263238;background:#f5f7f8}
*{box-sizing:border-box} body{margin:0}
header{background:#263238;color:#fff;padding:10px 16px;display:flex;gap:16px;align-items:center;flex-wrap:wrap}
header h1{font-size:1.1rem;margin:0} header .live{font-size:.8rem;color:#b0bec5}
nav{display:flex;gap:4px;flex-wrap:wrap;padding:8px 16px;background:#fff;border-bottom:1px solid #e0e0e0}
nav button{border:0;background:none;padding:8px 10px;border-radius:6px;cursor:pointer;font-size:.95rem;color:#37474f}
nav button.active{background:#e3f2fd;color:#0d47a1;font-weight:600}
main{padding:12px 16px;max-width:1280px;margin:0 auto}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(300px,1fr));gap:12px}
.card{background:#fff;border:1px solid #e0e0e0;border-radius:8px;padding:10px}
.card h3{margin:0 0 6px;font-size:1rem;display:flex;justify-content:space-between}
.kpi{display:flex;gap:12px;font-size:.85rem;color:#546e7a;flex-wrap:wrap} .kpi b{color:#263238;font-size:1rem}
.bad{color:#c62828!important} .ok{color:#2e7d32}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem} th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #eceff1;vertical-align:top}
.sev{color:#fff;border-radius:4px;padding:1px 6px;font-size:.75rem}
.sev-critical{background:#b71c1c}.sev-high{background:#e65100}.sev-medium{background:#f9a825}.sev-low{background:#1565c0}.sev-info{background:#607d8b}
button.v{border:1px solid #b0bec5;background:#fff;border-radius:5px;padding:3px 8px;cursor:pointer;margin:2px}
button.v.confirm:hover,button.v.confirm.on{background:#2e7d32;color:#fff} button.v.reject:hover,button.v.reject.on{background:#c62828;color:#fff}
ol.chain{margin:4px 0;padding-left:20px;font-size:.88rem}
.muted{color:#78909c} .changed{font-size:.8rem;margin-top:2px} code{background:#eceff1;padding:0 3px;border-radius:3px;word-break:break-all}
.scroll{overflow-x:auto} .svgwrap svg{max-width:100%;height:auto}
@media (max-width:600px){main{padding:8px} .grid{grid-template-columns:1fr} th:nth-child(n+4),td:nth-child(n+4){display:none}}
`;

const CLIENT = `
(function(){
  'use strict';
  var $ = function(s){ return document.querySelector(s); };
  var esc = function(s){ return String(s == null ? '' : s).replace(/[&<>"']/g, function(c){ return {'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;',"'":'&#39;'}[c]; }); };
  var fmt = function(x, d){ return x == null || !isFinite(x) ? '–' : Number(x).toFixed(d == null ? 1 : d); };
  var api = function(path, init){ return fetch(path, Object.assign({credentials:'same-origin', headers:{'content-type':'application/json'}}, init||{})).then(function(r){ if(!r.ok) return r.json().catch(function(){return {};}).then(function(b){ throw new Error(b.error || r.statusText); }); return r.json(); }); };
  var tabs = ['services','incidents','findings','patterns','baselines','changes','chaos-load','graph','learning'];
  var titles = {services:'Services',incidents:'Incidents',findings:'Findings',patterns:'Patterns',baselines:'Baselines',changes:'Changes','chaos-load':'Chaos & load',graph:'Knowledge graph',learning:'Learning'};
  var current = (location.hash || '#services').slice(1); if (tabs.indexOf(current) < 0) current = 'services';
  var plots = [];
  function nav(){
    $('nav').innerHTML = tabs.map(function(t){ return '<button data-tab="'+t+'" class="'+(t===current?'active':'')+'">'+titles[t]+'</button>'; }).join('');
    Array.prototype.forEach.call(document.querySelectorAll('nav button'), function(b){ b.onclick = function(){ current = b.dataset.tab; location.hash = current; render(); }; });
  }
  function spark(el, xs, ys, label, colour, marks){
    var w = Math.max(240, el.clientWidth || 280);
    // Declared changes as dashed vertical lines, so a step in the curve can be read against them.
    var drawMarks = function(u){ if (!marks || !marks.length) return; var c = u.ctx; c.save(); c.strokeStyle = '#6a1b9a'; c.setLineDash([4, 3]); c.lineWidth = 1;
      marks.forEach(function(x){ if (x < xs[0] || x > xs[xs.length-1]) return; var px = Math.round(u.valToPos(x, 'x', true)); c.beginPath(); c.moveTo(px, u.bbox.top); c.lineTo(px, u.bbox.top + u.bbox.height); c.stroke(); }); c.restore(); };
    plots.push(new uPlot({width:w, height:90, legend:{show:false}, cursor:{show:false}, scales:{x:{time:true}}, axes:[{show:false},{size:40, font:'10px sans-serif'}], series:[{},{label:label, stroke:colour, width:1.5, spanGaps:true}], hooks:{draw:[drawMarks]}}, [xs, ys], el));
  }
  var ago = function(us){ var s = Math.max(0, (Date.now() - us/1000) / 1000); return s < 90 ? Math.round(s)+' s ago' : s < 5400 ? Math.round(s/60)+' min ago' : Math.round(s/3600)+' h ago'; };
  // A budget worth a curve: touched (an untouched one is a flat line at 100%) or firing.
  var burnedDown = function(x){ return x.burndown && x.burndown.length > 1 && (x.alerting.length || x.budget.remaining < 0.999); };
  var changeText = function(c){ return c.kind === 'deploy' ? 'deploy '+c.value : c.kind+' '+c.key+(c.value !== '' ? ' → '+c.value : ''); };
  function services(){
    return Promise.all([api('/api/services'), api('/api/changes?days=1'), api('/api/slos')]).then(function(r){
      var d = r[0], changesOf = {}, slosOf = {};
      r[1].changes.forEach(function(c){ (changesOf[c.service] = changesOf[c.service] || []).push(c); });
      r[2].services.forEach(function(x){ slosOf[x.service] = x.slos; });
      if (!d.services.length) return '<p class="muted">No telemetry yet. Point an OpenTelemetry SDK at this server (OTEL_EXPORTER_OTLP_ENDPOINT) or run <code>tswarm demo</code>.</p>';
      var html = '<div class="grid">' + d.services.map(function(s, i){
        var b = s.baseline || {};
        var p95bad = b.p95Ms && s.p95Ms > 2 * b.p95Ms, errbad = s.errorShare > Math.max(0.02, 2 * (b.errorShare || 0));
        return '<div class="card" data-service="'+esc(s.service)+'"><h3>'+esc(s.service)+'</h3><div class="kpi">'+
          '<span><b>'+fmt(s.requestsPerS)+'</b> req/s</span>'+
          '<span class="'+(errbad?'bad':'')+'"><b>'+fmt(100*s.errorShare)+'%</b> errors'+(b.errorShare!=null?' (base '+fmt(100*b.errorShare)+'%)':'')+'</span>'+
          '<span class="'+(p95bad?'bad':'')+'"><b>'+fmt(s.p95Ms)+' ms</b> p95'+(b.p95Ms!=null?' (base '+fmt(b.p95Ms)+')':'')+'</span></div>'+
          '<div class="sp" id="sp-'+i+'"></div>'+
          // Each SLO with its budget burn now (1 = spending exactly the budget); red while a burn-rate rule fires.
          // and, once the budget has been touched, its burn-down over the window (drawn below).
          (slosOf[s.service] || []).map(function(x, j){ return '<div class="slo muted'+(x.alerting.length?' bad':'')+'" title="'+esc(x.alerting.length ? 'firing: '+x.alerting.join(', ') : 'no burn-rate rule firing')+'">SLO '+esc(x.text)+': burn '+fmt(x.burn['1h'])+'× 1h, '+fmt(x.burn['5m'])+'× 5m · <span class="budget'+(x.budget.remaining<0?' bad':'')+'" title="'+esc(x.budgetText)+'">budget '+esc(x.budgetCell)+'</span></div>'+
            (burnedDown(x) ? '<div class="sp bd" id="bd-'+i+'-'+j+'" title="'+esc('error budget left over the window: '+x.budgetText)+'"></div>' : ''); }).join('')+
          ((changesOf[s.service] || []).length ? '<div class="muted changed">changed: '+changesOf[s.service].slice(0, 2).map(function(c){ return esc(changeText(c))+' ('+ago(c.atUs)+')'; }).join('; ')+'</div>' : '')+'</div>';
      }).join('') + '</div>';
      setTimeout(function(){ d.services.forEach(function(s, i){ (slosOf[s.service] || []).forEach(function(x, j){ var el = document.getElementById('bd-'+i+'-'+j); if (!el) return;
        spark(el, x.burndown.map(function(p){return p[0]/1e6;}), x.burndown.map(function(p){return 100*p[1];}), 'budget left %', x.budget.remaining < 0 ? '#c62828' : '#2e7d32'); }); }); }, 0);
      setTimeout(function(){ d.services.forEach(function(s, i){ var el = document.getElementById('sp-'+i); if (!el || !s.series.length) return;
        spark(el, s.series.map(function(p){return p[0]/1e6;}), s.series.map(function(p){return p[3];}), 'p95 ms', '#1565c0', (changesOf[s.service] || []).map(function(c){ return c.atUs/1e6; })); }); }, 0);
      return html;
    });
  }
  function hourPlot(el, byHour, label, colour){
    var w = Math.max(240, el.clientWidth || 280);
    var hs = byHour.map(function(_, h){ return h; });
    plots.push(new uPlot({width:w, height:90, legend:{show:false}, cursor:{show:false}, scales:{x:{time:false}}, axes:[{size:24, font:'10px sans-serif', values:function(u, v){ return v.map(function(h){ return h + 'h'; }); }},{size:40, font:'10px sans-serif'}], series:[{},{label:label, stroke:colour, width:1.5, spanGaps:true}]}, [hs, byHour], el));
  }
  var judged = function(s){ return s.judgedBy === 'flat level' ? 'one flat level (hour profile over '+fmt(s.days,1)+' of 2 days'+(s.days >= 2 ? ', strength '+fmt(s.strength,1) : '')+')' : 'judged by the '+esc(s.judgedBy)+' ('+fmt(s.days,1)+' days, strength '+fmt(s.strength,1)+')'; };
  var num = function(x){ return x == null ? '–' : Math.abs(x) >= 100 ? fmt(x,0) : Math.abs(x) >= 10 ? fmt(x,1) : String(Number(x.toPrecision(3))); };
  function baselines(){
    return api('/api/baselines').then(function(d){
      if (!d.services.length) return '<p class="muted">No baselines yet: they are learned by an analysis cycle over stored telemetry.</p>';
      var draw = [];
      var html = '<p class="muted">What the performance tester has learned is normal. Latency and traffic are judged by the hour once a profile has covered two days and its hours differ.</p>' + d.services.map(function(s, i){
        var l = s.latency, out = '<div class="card" data-baseline="'+esc(s.service)+'"><h3>'+esc(s.service)+'</h3>';
        out += '<div class="kpi">' + (l ? '<span><b>'+num(l.p50Ms)+' / '+num(l.p95Ms)+' / '+num(l.p99Ms)+' ms</b> p50 / p95 / p99</span>' : '') +
          (s.errorRate ? '<span><b>'+fmt(100*s.errorRate.median,2)+'%</b> errors</span>' : '') +
          (s.throughput ? '<span><b>'+num(s.throughput.rps)+'</b> req/s</span>' : '') + '</div>';
        var hours = l && l.seasonal.byHour && l.seasonal.byHour.filter(function(x){ return x != null; }).length > 1;
        if (l) out += '<p class="muted">latency: '+judged(l.seasonal)+(hours ? '; p95 ms by hour of day (UTC):' : '')+'</p>';
        if (hours) { out += '<div class="sp" id="bh-'+i+'"></div>'; draw.push([i, l.seasonal.byHour]); }
        if (s.operations.length) out += '<div class="scroll"><table><thead><tr><th>operation</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>errors</th><th>req/s</th></tr></thead><tbody>' + s.operations.map(function(o){
          return '<tr><td>'+esc(o.operation)+'</td><td>'+num(o.p50Ms)+'</td><td>'+num(o.p95Ms)+'</td><td>'+num(o.p99Ms)+'</td><td>'+fmt(100*(o.errorRate||0),2)+'%</td><td>'+num(o.rps)+'</td></tr>'; }).join('') + '</tbody></table></div>';
        if (s.metrics.length) out += '<div class="scroll"><table><thead><tr><th>metric series</th><th>normal</th><th>spread</th><th>points</th><th>hour profile</th></tr></thead><tbody>' + s.metrics.map(function(m){
          return '<tr><td><code>'+esc(m.series)+'</code></td><td>'+num(m.median)+(m.unit && m.unit !== '1' ? ' '+esc(m.unit) : '')+(m.view === 'rate' ? '/s' : '')+'</td><td>'+num(m.spread)+'</td><td>'+esc(m.n)+'</td><td>'+fmt(m.seasonal.days,1)+' days'+(m.seasonal.days >= 2 ? ', strength '+fmt(m.seasonal.strength,1) : '')+'</td></tr>'; }).join('') + '</tbody></table></div>';
        return out + '</div>';
      }).join('');
      setTimeout(function(){ draw.forEach(function(x){ var el = document.getElementById('bh-'+x[0]); if (el) hourPlot(el, x[1], 'p95 ms by hour (UTC)', '#1565c0'); }); }, 0);
      return html;
    });
  }
  function verdictButtons(f){
    return '<button class="v confirm'+(f.verdict==='confirmed'?' on':'')+'" data-id="'+esc(f.id)+'" data-v="confirmed">✓ confirm</button>'+
           '<button class="v reject'+(f.verdict==='rejected'?' on':'')+'" data-id="'+esc(f.id)+'" data-v="rejected">✗ reject</button>';
  }
  function findingRow(f){
    var chain = (f.evidence && f.evidence.chain) || [];
    return '<tr data-finding="'+esc(f.id)+'"><td><span class="sev sev-'+esc(f.severity)+'">'+esc(f.severity)+'</span></td><td><b>'+esc(f.title)+'</b>'+
      (chain.length ? '<details><summary class="muted">evidence chain</summary><ol class="chain">'+chain.map(function(c){return '<li>'+esc(c)+'</li>';}).join('')+'</ol></details>' : '')+
      '</td><td>'+esc(f.agentId.replace(/^qe-/,''))+'</td><td>'+fmt(100*f.confidence,0)+'% · '+esc(f.basis)+'</td><td>'+verdictButtons(f)+'</td></tr>';
  }
  function table(rows){ return rows.length ? '<div class="scroll"><table><thead><tr><th>sev</th><th>finding</th><th>agent</th><th>confidence</th><th>verdict</th></tr></thead><tbody>'+rows.join('')+'</tbody></table></div>' : '<p class="muted">Nothing yet.</p>'; }
  function findings(filter){
    return api('/api/findings?limit=500').then(function(d){ return table(d.findings.filter(filter).map(findingRow)); });
  }
  function incidents(){
    return findings(function(f){ return f.agentId === 'qe-root-cause-analyzer' || f.kind === 'root-cause'; }).then(function(h){
      return '<p class="muted">Root-cause analyses, most recent first. Open the evidence chain; confirm or reject to teach the analyzer.</p>'+h; });
  }
  function patterns(){
    return api('/api/patterns?kind=log-template&limit=300').then(function(d){
      var rows = d.patterns.map(function(p){ var v = p.value || {}; return '<tr><td>'+esc(p.service||'')+'</td><td><code>'+esc(v.template || p.key)+'</code></td><td>'+esc(v.count != null ? v.count : '')+'</td></tr>'; });
      return '<h3>Log templates</h3>' + (rows.length ? '<div class="scroll"><table><thead><tr><th>service</th><th>template</th><th>count</th></tr></thead><tbody>'+rows.join('')+'</tbody></table></div>' : '<p class="muted">No templates yet.</p>');
    }).then(function(h){ return findings(function(f){ return f.agentId === 'qe-pattern-learner'; }).then(function(t){ return h + '<h3>Pattern findings</h3>' + t; }); });
  }
  function changes(){
    return Promise.all([api('/api/changes?days=30'), api('/api/maintenance?days=30')]).then(function(r){
      var d = r[0], iso = function(us){ return new Date(us/1000).toISOString().replace('.000Z','Z'); };
      var mw = r[1].windows.map(function(w){ return '<tr data-maintenance="'+esc(w.id)+'"><td>'+esc(iso(w.fromUs))+' – '+esc(iso(w.toUs))+(w.endedUs != null ? ' <span class="muted">(ended early)</span>' : '')+'</td><td>'+esc(w.service||'all')+'</td><td>'+esc(w.reason)+'</td><td>'+esc(w.by||'')+'</td><td>'+(w.url ? '<a href="'+esc(w.url)+'" rel="noopener noreferrer" target="_blank">link</a>' : '')+'</td></tr>'; });
      var rows = d.changes.map(function(c){
        var what = c.kind === 'deploy' ? 'deploy <code>'+esc(c.value)+'</code>' : esc(c.kind)+' <code>'+esc(c.key)+'</code>'+(c.value === '' ? '' : ' '+(c.previous != null ? '<code>'+esc(c.previous)+'</code> → ' : '')+'<code>'+esc(c.value)+'</code>');
        // The URL was checked to be http(s) when the change was declared (signals/change-event.ts).
        return '<tr><td>'+esc(new Date(c.atUs/1000).toISOString().replace('.000Z','Z'))+'</td><td>'+esc(c.service)+'</td><td>'+what+(c.description ? ' <span class="muted">'+esc(c.description)+'</span>' : '')+'</td><td>'+esc(c.by||'')+(c.source === 'log' ? ' <span class="muted" data-source="log">(announced in its log)</span>' : '')+'</td><td>'+(c.url ? '<a href="'+esc(c.url)+'" rel="noopener noreferrer" target="_blank">link</a>' : '')+'</td></tr>';
      });
      return '<p class="muted">Deploys, config changes and flag flips declared in the last 30 days (POST /api/changes, <code>tswarm change add</code>, MCP <code>change_record</code>), and the ones services announced in their own logs: regressions and incidents are tied to them.</p>'+
        (rows.length ? '<div class="scroll"><table><thead><tr><th>when</th><th>service</th><th>change</th><th>by</th><th></th></tr></thead><tbody>'+rows.join('')+'</tbody></table></div>' : '<p class="muted">No changes declared yet.</p>')+
        '<h3>Maintenance windows</h3><p class="muted">Planned work (POST /api/maintenance, <code>tswarm maintenance add</code>): left out of the analysis like the swarm&rsquo;s own experiments.</p>'+
        (mw.length ? '<div class="scroll"><table><thead><tr><th>when</th><th>service</th><th>reason</th><th>by</th><th></th></tr></thead><tbody>'+mw.join('')+'</tbody></table></div>' : '<p class="muted">None in the last 30 days or planned.</p>');
    });
  }
  function chaosLoad(){ return findings(function(f){ return f.agentId === 'qe-chaos-engineer' || f.agentId === 'qe-load-tester'; }); }
  function graph(){
    return fetch('/api/graph.svg', {credentials:'same-origin'}).then(function(r){ return r.text(); }).then(function(svg){
      return api('/api/graph').then(function(d){
        var rows = d.edges.map(function(e){ var p = e.props || {}; return '<tr><td>'+esc(e.source)+'</td><td>'+esc(e.target)+'</td><td>'+esc(e.weight)+'</td><td>'+fmt(p.meanLatencyMs)+' ms</td><td>'+fmt(100*(p.errorShare||0))+'%</td></tr>'; });
        return '<div class="card svgwrap">'+svg+'</div><div class="scroll"><table><thead><tr><th>caller</th><th>callee</th><th>calls</th><th>latency</th><th>errors</th></tr></thead><tbody>'+rows.join('')+'</tbody></table></div>';
      });
    });
  }
  function learning(){
    return Promise.all([api('/api/learnings'), api('/api/accuracy')]).then(function(r){
      var ls = r[0].learnings.filter(function(l){ return !l.retired; }).map(function(l){ return '<tr><td>'+fmt(l.strength,2)+'</td><td>'+esc(l.statement)+'</td></tr>'; });
      var acc = r[1].accuracy.map(function(a){ return '<tr><td>'+esc(a.agentId)+'</td><td>'+esc(a.kind)+'</td><td>'+a.confirmed+' / '+a.total+'</td><td>'+fmt(100*a.precision,0)+'% ['+fmt(100*a.low,0)+'–'+fmt(100*a.high,0)+']</td></tr>'; });
      return '<h3>Agent accuracy from verdicts</h3>'+(acc.length?'<table><thead><tr><th>agent</th><th>kind</th><th>confirmed</th><th>precision</th></tr></thead><tbody>'+acc.join('')+'</tbody></table>':'<p class="muted">No verdicts yet.</p>')+
        '<h3>Learnings</h3>'+(ls.length?'<table><thead><tr><th>strength</th><th>learning</th></tr></thead><tbody>'+ls.join('')+'</tbody></table>':'<p class="muted">No learnings yet.</p>');
    });
  }
  var views = {services:services, incidents:incidents, findings:function(){ return findings(function(){ return true; }); }, patterns:patterns, baselines:baselines, changes:changes, 'chaos-load':chaosLoad, graph:graph, learning:learning};
  function render(){
    nav();
    plots.forEach(function(p){ p.destroy(); }); plots = [];
    var m = $('main');
    views[current]().then(function(html){ m.innerHTML = html; }).catch(function(e){ m.innerHTML = '<p class="bad">'+esc(e.message)+'</p>'; });
  }
  document.addEventListener('click', function(ev){
    var b = ev.target.closest && ev.target.closest('button.v'); if (!b) return;
    api('/api/verdicts', {method:'POST', body: JSON.stringify({findingId: b.dataset.id, verdict: b.dataset.v})}).then(function(){
      var row = b.parentNode; Array.prototype.forEach.call(row.querySelectorAll('button.v'), function(x){ x.classList.toggle('on', x === b); });
      $('#status').textContent = 'verdict recorded: ' + b.dataset.v;
    }).catch(function(e){ $('#status').textContent = 'verdict failed: ' + e.message; });
  });
  if (window.EventSource) {
    var es = new EventSource('/api/events');
    var refresh = null;
    ['cycle-finished','finding','ingest','change','maintenance'].forEach(function(t){ es.addEventListener(t, function(){ $('#status').textContent = 'updated ' + new Date().toLocaleTimeString(); clearTimeout(refresh); refresh = setTimeout(render, 1000); }); });
    es.addEventListener('agent-started', function(e){ try { $('#status').textContent = 'running ' + JSON.parse(e.data).agentId; } catch (err) {} });
  }
  render();
  setInterval(function(){ if (current === 'services') render(); }, 15000);
})();
`;

export function dashboardHtml(): string {
  if (cached) return cached;
  const dir = require.resolve('uplot/package.json').replace(/package\.json$/, '');
  const js = readFileSync(dir + 'dist/uPlot.iife.min.js', 'utf8');
  const css = readFileSync(dir + 'dist/uPlot.min.css', 'utf8');
  cached = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>telemetry-swarm</title><link rel="icon" href="data:,"><style>${css}</style><style>${CSS}</style></head>
<body><header><h1>telemetry-swarm</h1><span class="live" id="status">live</span></header><nav></nav><main><p class="muted">loading…</p></main>
<script>${js}</script><script>${CLIENT}</script></body></html>`;
  return cached;
}
