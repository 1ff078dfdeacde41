/**
 * The HTML report: one self-contained file that works offline. The four feedback sections with evidence, plus
 * figures (time series with baselines and anomaly markers, load curves, the service map with the culprit
 * highlighted, tables, timelines, evidence chains). Charts are drawn by uPlot, inlined from node_modules so the
 * file needs no network; the service map is server-side SVG (see algorithms/graph/layout.ts).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { layeredLayout } from '../algorithms/graph/layout.js';
import type { Figure, FigureSection } from './figures.js';
import type { DeclaredEvidence } from '../fleet/contracts.js';
import { provenancePhrase, settingPhrase } from '../signals/change-event.js';
import { CATEGORIES, CATEGORY_TITLES, type FeedbackItem, type FeedbackReport } from './report.js';

const require = createRequire(import.meta.url);

let uplotAssets: { js: string; css: string } | undefined;
function uplot(): { js: string; css: string } {
  if (!uplotAssets) {
    const dir = require.resolve('uplot/package.json').replace(/package\.json$/, '');
    uplotAssets = { js: readFileSync(dir + 'dist/uPlot.iife.min.js', 'utf8'), css: readFileSync(dir + 'dist/uPlot.min.css', 'utf8') };
  }
  return uplotAssets;
}

export function esc(s: unknown): string {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe to embed in a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const SEVERITY_COLOURS: Record<string, string> = { critical: '#b71c1c', high: '#e65100', medium: '#f9a825', low: '#1565c0', info: '#607d8b' };

export function renderGraphSvg(fig: Extract<Figure, { type: 'graph' }>): string {
  const layout = layeredLayout(fig.edges);
  const pos = new Map(layout.nodes.map((n) => [n.id, n]));
  const hi = new Set(fig.highlight);
  const w = 150;
  const h = 34;
  const parts: string[] = [];
  parts.push(`<svg class="graph" viewBox="0 0 ${layout.width} ${layout.height}" width="100%" role="img" aria-label="${esc(fig.title)}" xmlns="http://www.w3.org/2000/svg">`);
  parts.push('<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" fill="#78909c"/></marker></defs>');
  for (const e of fig.edges) {
    const a = pos.get(e.source);
    const b = pos.get(e.target);
    if (!a || !b) continue;
    const x1 = a.x + w;
    const y1 = a.y + h / 2;
    const x2 = b.x;
    const y2 = b.y + h / 2;
    const back = x2 <= x1;
    const d = back ? `M${a.x + w / 2},${a.y + h} C${a.x + w / 2},${a.y + h + 40} ${b.x + w / 2},${b.y + h + 40} ${b.x + w / 2},${b.y + h}` : `M${x1},${y1} C${x1 + 40},${y1} ${x2 - 40},${y2} ${x2},${y2}`;
    const bad = (e.errorShare ?? 0) > 0.05;
    parts.push(`<path d="${d}" fill="none" stroke="${bad ? '#e53935' : '#90a4ae'}" stroke-width="${bad ? 2.2 : 1.4}" marker-end="url(#arrow)"><title>${esc(`${e.source} → ${e.target}${e.label ? `: ${e.label}` : ''}`)}</title></path>`);
  }
  for (const n of layout.nodes) {
    const isHi = hi.has(n.id);
    parts.push(`<g><rect x="${n.x}" y="${n.y}" width="${w}" height="${h}" rx="8" fill="${isHi ? '#d32f2f' : '#eceff1'}" stroke="${isHi ? '#8e0000' : '#b0bec5'}"/><text x="${n.x + w / 2}" y="${n.y + h / 2 + 4}" text-anchor="middle" font-size="12" fill="${isHi ? '#fff' : '#263238'}">${esc(n.id.length > 22 ? n.id.slice(0, 21) + '…' : n.id)}</text><title>${esc(n.id)}${isHi ? ' (culprit)' : ''}</title></g>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

function renderFigure(fig: Figure): string {
  switch (fig.type) {
    case 'graph':
      return `<figure><figcaption>${esc(fig.title)}</figcaption>${fig.edges.length ? renderGraphSvg(fig) : '<p class="muted">no call edges</p>'}</figure>`;
    case 'table':
      return `<figure><figcaption>${esc(fig.title)}</figcaption><div class="scroll"><table><thead><tr>${fig.columns.map((c) => `<th>${esc(c)}</th>`).join('')}</tr></thead><tbody>${fig.rows
        .map((r) => `<tr>${r.map((c) => `<td>${esc(typeof c === 'number' ? (Number.isInteger(c) ? c : c.toFixed(3)) : c)}</td>`).join('')}</tr>`)
        .join('')}</tbody></table></div></figure>`;
    case 'timeline':
      return `<figure><figcaption>${esc(fig.title)}</figcaption><ol class="timeline">${[...fig.events]
        .sort((a, b) => a.atUs - b.atUs)
        .map((e) => `<li class="ev-${esc(e.kind ?? 'info')}"><time>${esc(new Date(e.atUs / 1000).toISOString().replace('T', ' ').slice(0, 23))}</time> ${esc(e.label)}</li>`)
        .join('')}</ol></figure>`;
    case 'chain':
      return `<figure><figcaption>${esc(fig.title)}</figcaption><ol class="chain">${fig.steps.map((s) => `<li>${esc(s)}</li>`).join('')}</ol></figure>`;
    case 'timeseries':
    case 'xy':
      return `<figure><figcaption>${esc(fig.title)}</figcaption><div class="chart" data-figure="${esc(fig.id)}"></div></figure>`;
  }
}

function renderEvidence(item: FeedbackItem): string {
  const ev = item.evidence;
  const rows: string[] = [];
  if (ev.chain?.length) rows.push(`<ol class="chain">${ev.chain.map((c) => `<li>${esc(c)}</li>`).join('')}</ol>`);
  const list = (label: string, xs: (string | undefined)[] | undefined): void => {
    const v = (xs ?? []).filter(Boolean);
    if (v.length) rows.push(`<div><b>${esc(label)}</b> ${v.slice(0, 8).map((x) => `<code>${esc(x)}</code>`).join(' ')}${v.length > 8 ? ` … +${v.length - 8}` : ''}</div>`);
  };
  list('traces', ev.traceIds);
  list('spans', ev.spanIds);
  list('log templates', ev.logTemplates?.map((t) => t.template));
  list('metrics', ev.metrics?.map((m) => `${m.series}${m.observed !== undefined ? ` = ${m.observed}` : ''}${m.baseline !== undefined ? ` (baseline ${m.baseline})` : ''}`));
  list('code', ev.code?.map((c) => `${c.file}${c.line ? `:${c.line}` : ''}${c.function ? ` ${c.function}` : ''}`));
  list('error fingerprints', ev.fingerprints);
  list('experiments', ev.experiments);
  list('load runs', ev.loadRuns);
  list('commits', ev.commits);
  const by = (d: { declared?: DeclaredEvidence }): string => (d.declared ? ` (${provenancePhrase(d.declared)})` : '');
  list('deploys', ev.deploys?.map((d) => `${d.service}@${d.version}${by(d)}`));
  list('config changes', ev.configChanges?.filter((c) => c.kind !== 'flag').map((c) => `${c.service} ${settingPhrase(c.key, c.value, c.previous)}${by(c)}`));
  list('flag flips', ev.configChanges?.filter((c) => c.kind === 'flag').map((c) => `${c.service} ${settingPhrase(c.key, c.value, c.previous)}${by(c)}`));
  list('derived from', ev.findings);
  return rows.join('');
}

function renderItem(item: FeedbackItem): string {
  const subject = Object.entries(item.subject)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k}: ${v}`)
    .join(' · ');
  return `<article class="item" id="${esc(item.id)}">
<header><span class="rank">#${item.rank}</span> <span class="sev" style="background:${SEVERITY_COLOURS[item.severity] ?? '#607d8b'}">${esc(item.severity)}</span> <span class="basis ${esc(item.basis)}">${esc(item.basis)}</span>${item.isNew ? ' <span class="new">new</span>' : ''} <h3>${esc(item.title)}</h3></header>
<p class="meta">${esc(subject)} · confidence ${(100 * item.confidence).toFixed(0)}% · score ${item.score.toFixed(3)} · ${esc(item.agents.map((a) => a.replace(/^qe-/, '')).join(', '))}</p>
${item.summary ? `<p>${esc(item.summary)}</p>` : ''}
<details><summary>Evidence and rationale</summary><p class="muted">${esc(item.rationale)}</p>${renderEvidence(item)}</details>
${item.recommendations.length ? `<ul class="recs">${item.recommendations.map((r) => `<li>${esc(r)}</li>`).join('')}</ul>` : ''}
</article>`;
}

const CSS = `
:root{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#263238;background:#fafafa}
body{margin:0 auto;max-width:1180px;padding:16px}
h1{font-size:1.6rem;margin:.2em 0} h2{border-bottom:2px solid #cfd8dc;padding-bottom:4px;margin-top:1.6em} h3{display:inline;font-size:1.05rem}
.muted{color:#607d8b} .scroll{overflow-x:auto}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:10px}
.card{background:#fff;border:1px solid #e0e0e0;border-radius:8px;padding:10px}
.card b{font-size:1.6rem;display:block}
.item{background:#fff;border:1px solid #e0e0e0;border-left:4px solid #90a4ae;border-radius:6px;padding:8px 12px;margin:10px 0}
.rank{font-weight:700;color:#455a64} .sev{color:#fff;border-radius:4px;padding:1px 6px;font-size:.8rem}
.basis{border:1px solid #90a4ae;border-radius:4px;padding:0 5px;font-size:.8rem} .basis.inferred{border-style:dashed}
.new{background:#2e7d32;color:#fff;border-radius:4px;padding:1px 6px;font-size:.8rem}
.meta{color:#546e7a;font-size:.88rem;margin:4px 0}
code{background:#eceff1;border-radius:3px;padding:0 3px;font-size:.85em;word-break:break-all}
table{border-collapse:collapse;width:100%;font-size:.9rem;background:#fff} th,td{border-bottom:1px solid #e0e0e0;padding:4px 8px;text-align:left}
figure{margin:14px 0;background:#fff;border:1px solid #e0e0e0;border-radius:8px;padding:8px} figcaption{font-weight:600;margin-bottom:6px}
.chart{width:100%;min-height:240px}
ol.timeline{list-style:none;padding-left:0} ol.timeline li{border-left:3px solid #90a4ae;padding:2px 8px;margin:2px 0}
ol.timeline li.ev-fault{border-color:#d32f2f} ol.timeline li.ev-anomaly{border-color:#f9a825} ol.timeline li.ev-deploy{border-color:#1565c0} ol.timeline li.ev-change-point{border-color:#6a1b9a} ol.timeline li.ev-experiment{border-color:#00838f}
time{color:#546e7a;font-variant-numeric:tabular-nums}
.risk{display:flex;gap:8px;flex-wrap:wrap} .risk div{flex:1 1 200px;background:#fff;border:1px solid #e0e0e0;border-radius:8px;padding:8px}
.bar{height:8px;background:#eceff1;border-radius:4px} .bar span{display:block;height:8px;border-radius:4px;background:#e65100}
nav a{margin-right:12px}
@media (max-width:600px){body{padding:8px} h1{font-size:1.25rem}}
`;

/** Client-side drawing of time-series and x/y figures with uPlot; markers as vertical lines via a draw hook. */
const CLIENT = `
(function(){
  var figs = JSON.parse(document.getElementById('figures').textContent);
  var palette = ['#1565c0','#e65100','#2e7d32','#6a1b9a','#00838f','#ad1457','#5d4037'];
  var markerColour = {anomaly:'#f9a825',fault:'#d32f2f',deploy:'#1565c0','change-point':'#6a1b9a',experiment:'#00838f',info:'#78909c'};
  figs.forEach(function(f){
    if (f.type !== 'timeseries' && f.type !== 'xy') return;
    var el = document.querySelector('[data-figure="'+CSS.escape(f.id)+'"]');
    if (!el) return;
    var ts = f.type === 'timeseries';
    var xsSet = {};
    f.series.forEach(function(s){ s.points.forEach(function(p){ xsSet[p[0]] = 1; }); });
    (f.bands||[]).forEach(function(b){ b.points.forEach(function(p){ xsSet[p[0]] = 1; }); });
    var xs = Object.keys(xsSet).map(Number).sort(function(a,b){return a-b;});
    var idx = {}; xs.forEach(function(x,i){ idx[x]=i; });
    var data = [ts ? xs.map(function(x){return x/1e6;}) : xs];
    var series = [{ label: ts ? 'time' : f.xLabel }];
    var bands = [];
    (f.bands||[]).forEach(function(b){
      var lo = new Array(xs.length).fill(null), hi = new Array(xs.length).fill(null);
      b.points.forEach(function(p){ lo[idx[p[0]]] = p[1]; hi[idx[p[0]]] = p[2]; });
      data.push(hi); series.push({label: b.label+' high', stroke:'rgba(96,125,139,.5)', dash:[4,4], width:1});
      data.push(lo); series.push({label: b.label+' low', stroke:'rgba(96,125,139,.5)', dash:[4,4], width:1});
      bands.push({series:[data.length-2, data.length-1], fill:'rgba(144,164,174,.18)'});
    });
    f.series.forEach(function(s,i){
      var ys = new Array(xs.length).fill(null);
      s.points.forEach(function(p){ ys[idx[p[0]]] = p[1]; });
      data.push(ys);
      series.push({label: s.label, stroke: s.color || palette[i % palette.length], width: s.dashed ? 1.5 : 2, dash: s.dashed ? [6,4] : undefined, spanGaps: true, points:{show: !ts}});
    });
    var markers = f.markers || [];
    var shaded = f.shaded || [];
    var opts = {
      width: Math.max(280, el.clientWidth || 600), height: 240, series: series, bands: bands,
      scales: { x: { time: ts } },
      // The y axis as wide as its longest tick ("-4,000" lost its sign at uPlot's fixed 50 px).
      axes: [{ label: ts ? undefined : f.xLabel }, { label: ts ? (f.unit||'') : f.yLabel, size: function(u, values){ return Math.max(50, 16 + 7 * Math.max.apply(null, (values || ['']).map(function(v){ return String(v).length; }))); } }],
      hooks: { draw: [function(u){
        var ctx = u.ctx; ctx.save();
        shaded.forEach(function(s){
          var a = Math.max(u.bbox.left, u.valToPos(s.fromX/1e6, 'x', true)), b = Math.min(u.bbox.left+u.bbox.width, u.valToPos(s.toX/1e6, 'x', true));
          if (!(b > a)) return;
          ctx.fillStyle = 'rgba(0,131,143,.10)'; ctx.fillRect(a, u.bbox.top, b-a, u.bbox.height);
          ctx.fillStyle = '#00838f'; ctx.font = (11*devicePixelRatio)+'px sans-serif';
          ctx.fillText(s.label, a+3, u.bbox.top+u.bbox.height-6*devicePixelRatio);
        });
        markers.forEach(function(m){
          var x = u.valToPos(ts ? m.x/1e6 : m.x, 'x', true);
          ctx.strokeStyle = markerColour[m.kind||'info']; ctx.lineWidth = 2; ctx.setLineDash([5,3]);
          ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top+u.bbox.height); ctx.stroke();
          ctx.fillStyle = markerColour[m.kind||'info']; ctx.font = (12*devicePixelRatio)+'px sans-serif';
          ctx.fillText(m.label, x+4, u.bbox.top+14*devicePixelRatio);
        });
        ctx.restore();
      }]}
    };
    var plot = new uPlot(opts, data, el);
    window.addEventListener('resize', function(){ plot.setSize({width: Math.max(280, el.clientWidth), height: 240}); });
  });
})();
`;

export interface HtmlReportOptions {
  title?: string;
  figures?: FigureSection[];
}

export function renderHtmlReport(report: FeedbackReport, opts: HtmlReportOptions = {}): string {
  const figures = opts.figures ?? [];
  const all = figures.flatMap((s) => s.figures);
  const bySection = (s: FigureSection['section']): string => figures.filter((f) => f.section === s).flatMap((f) => f.figures).map(renderFigure).join('\n');
  const { js, css } = uplot();
  const title = opts.title ?? 'telemetry-swarm — quality feedback';
  const cards = CATEGORIES.map((c) => `<div class="card"><span class="muted">${esc(CATEGORY_TITLES[c])}</span><b>${report.summary.byCategory[c] ?? 0}</b></div>`).join('');
  const risk = report.risk
    .map((r) => `<div><b>${esc(r.category)}</b> <span class="muted">${esc(r.level)}</span><div class="bar"><span style="width:${(100 * r.weight).toFixed(0)}%"></span></div><small>${r.evidence.slice(0, 3).map((e) => esc(e.title)).join('<br>')}</small></div>`)
    .join('');
  const agents = report.agents.length
    ? `<table><thead><tr><th>agent</th><th>status</th><th>findings</th><th>time</th><th>note</th></tr></thead><tbody>${report.agents
        .map((a) => `<tr><td>${esc(a.agentId)}</td><td>${esc(a.status)}</td><td>${a.findings}</td><td>${a.durationMs !== undefined ? `${(a.durationMs / 1000).toFixed(1)} s` : ''}</td><td>${esc(a.reason ?? '')}</td></tr>`)
        .join('')}</tbody></table>`
    : '';
  const sections = CATEGORIES.map((c) => {
    const items = report.sections[c] ?? [];
    return `<section id="${c}"><h2>${esc(CATEGORY_TITLES[c])} <small class="muted">(${items.length})</small></h2>${bySection(c)}${items.map(renderItem).join('\n') || '<p class="muted">nothing this cycle</p>'}</section>`;
  }).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><link rel="icon" href="data:,"><style>${css}</style><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
<p class="muted">cycle ${esc(report.cycleId)} · generated ${esc(report.generatedAt)}${report.window ? ` · window ${esc(new Date(report.window.fromUs / 1000).toISOString())} – ${esc(new Date(report.window.toUs / 1000).toISOString())}` : ''}</p>
<nav>${CATEGORIES.map((c) => `<a href="#${c}">${esc(CATEGORY_TITLES[c])}</a>`).join('')}<a href="#agents">Agents</a></nav>
${report.summary.top ? `<p><b>Top item:</b> <a href="#${esc(report.summary.top.id)}">${esc(report.summary.top.title)}</a></p>` : ''}
<div class="cards">${cards}</div>
<h2>Production risk</h2><div class="risk">${risk || '<p class="muted">no risk signal</p>'}</div>
${bySection('overview')}
${figures.some((f) => f.section === 'incident') ? `<section id="incident"><h2>Incident</h2>${bySection('incident')}</section>` : ''}
${sections}
<section id="agents"><h2>Agents</h2>${agents}</section>
<script type="application/json" id="figures">${scriptJson(all)}</script>
<script>${js}</script>
<script>${CLIENT}</script>
</body></html>
`;
}

/** A standalone page of figures (load-test and capacity reports) drawn with the same code as the main report. */
export function renderFiguresPage(title: string, introHtml: string, figures: Figure[]): string {
  const { js, css } = uplot();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(title)}</title><link rel="icon" href="data:,"><style>${css}</style><style>${CSS}</style></head>
<body>
<h1>${esc(title)}</h1>
${introHtml}
${figures.map(renderFigure).join('\n')}
<script type="application/json" id="figures">${scriptJson(figures)}</script>
<script>${js}</script>
<script>${CLIENT}</script>
</body></html>
`;
}
