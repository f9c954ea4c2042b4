import { createHash } from 'node:crypto';

/**
 * The dashboard's only stylesheet and script, served by the gateway (no CDN; the pages' CSP allows
 * nothing else). The script is progressive: without it every page still works, it only makes the
 * run page live (server-sent events) and the runs list refresh itself.
 */
export const DASHBOARD_CSS = `
*{box-sizing:border-box}
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0;color:#1f2328;background:#f6f8fa}
header{background:#24292f;color:#fff;padding:10px 16px;display:flex;gap:12px;align-items:center;flex-wrap:wrap}
header a{color:#fff;text-decoration:none;font-weight:600}
header .who{margin-left:auto;font-size:13px;color:#d0d7de;display:flex;gap:8px;align-items:center}
header form{display:inline;margin:0}
header button{background:none;border:1px solid #57606a;color:#fff;border-radius:6px;padding:2px 8px;cursor:pointer}
main{max-width:1200px;margin:0 auto;padding:12px 16px}
h1{font-size:20px;margin:8px 0 12px;overflow-wrap:anywhere}h2{font-size:16px;margin:20px 0 8px}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d0d7de}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid #d8dee4;vertical-align:top;overflow-wrap:anywhere}
th{background:#f6f8fa;font-weight:600}
.num{text-align:right;white-space:nowrap}
.muted{color:#656d76}
a{color:#0969da}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;border:1px solid #d0d7de;padding:8px;margin:6px 0;max-height:420px;overflow:auto}
dl{display:grid;grid-template-columns:max-content 1fr;gap:4px 16px;background:#fff;border:1px solid #d0d7de;padding:12px;margin:0}
dt{font-weight:600}dd{margin:0;overflow-wrap:anywhere}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600;background:#eaeef2}
.s-succeeded{background:#dafbe1;color:#116329}.s-failed{background:#ffebe9;color:#a40e26}
.s-running,.s-queued,.s-waiting_approval{background:#ddf4ff;color:#0550ae}.s-cancelled,.s-superseded{background:#fff8c5;color:#7d4e00}
.filters{display:flex;flex-wrap:wrap;gap:8px;margin:0 0 12px;align-items:end}
.filters label{display:flex;flex-direction:column;font-size:12px;color:#656d76}
select,input,button{font:inherit}
select,input[type=password],input[type=text]{padding:4px 6px;border:1px solid #d0d7de;border-radius:6px;background:#fff;min-width:10em}
.btn{display:inline-block;border:1px solid #d0d7de;border-radius:6px;padding:4px 12px;background:#f6f8fa;color:#24292f;cursor:pointer;text-decoration:none}
.btn.danger{color:#a40e26;border-color:#ffcecb}.btn.primary{background:#1f883d;border-color:#1f883d;color:#fff}
.controls{display:flex;gap:8px;margin:8px 0;flex-wrap:wrap}.controls form{margin:0}
.notice{background:#ddf4ff;border:1px solid #54aeff;padding:8px 12px;border-radius:6px;margin:8px 0}
.error{background:#ffebe9;border:1px solid #ff8182;padding:8px 12px;border-radius:6px;margin:8px 0}
ol.transcript{list-style:none;padding:0;margin:0;background:#fff;border:1px solid #d0d7de}
ol.transcript>li{padding:6px 10px;border-bottom:1px solid #d8dee4}
ol.transcript>li.step{background:#f6f8fa;font-weight:600}
ol.transcript>li.bad{background:#fff5f5}ol.transcript>li.warn{background:#fffbea}
ol.transcript .t{color:#656d76;font-size:12px;margin-right:6px;font-variant-numeric:tabular-nums}
ol.transcript .k{font:12px ui-monospace,monospace;color:#57606a;margin-right:6px}
details>summary{cursor:pointer;color:#0969da}
.diff .add{color:#116329}.diff .del{color:#a40e26}.diff .hunk{color:#8250df}
.ok{color:#116329}.bad-text{color:#a40e26}
.login{max-width:420px;margin:40px auto;background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:20px}
.login form{display:flex;flex-direction:column;gap:8px;margin:12px 0}
#live-status{font-size:12px;color:#656d76}
@media (max-width:700px){
  main{padding:8px}
  table.runs thead{display:none}
  table.runs,table.runs tbody,table.runs tr,table.runs td{display:block;width:100%}
  table.runs tr{border-bottom:2px solid #d0d7de;padding:4px 0}
  table.runs td{border:0;padding:2px 8px;text-align:left}
  table.runs td[data-label]::before{content:attr(data-label) ": ";color:#656d76;font-size:12px}
  dl{grid-template-columns:1fr}dt{margin-top:6px}
}
`;

export const DASHBOARD_JS = `(function () {
  'use strict';
  var page = document.querySelector('[data-live-run]');
  if (page && window.EventSource) {
    var list = document.getElementById('transcript');
    var summary = document.getElementById('summary');
    var status = document.getElementById('live-status');
    var say = function (t) { if (status) status.textContent = t; };
    var es = new EventSource(page.getAttribute('data-live-run'));
    es.addEventListener('open', function () { say('Live'); });
    es.addEventListener('run-event', function (m) {
      var d = JSON.parse(m.data);
      var empty = document.getElementById('transcript-empty');
      if (empty) empty.parentNode.removeChild(empty);
      list.insertAdjacentHTML('beforeend', d.html);
    });
    es.addEventListener('summary', function (m) { summary.innerHTML = JSON.parse(m.data).html; });
    es.addEventListener('end', function () { es.close(); say('The run is over.'); });
    es.addEventListener('error', function () { say('Reconnecting…'); });
  }
  var runs = document.querySelector('[data-live-list]');
  if (runs && window.fetch) {
    setInterval(function () {
      fetch(runs.getAttribute('data-live-list'), { credentials: 'same-origin' })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (t) { if (t !== null) runs.innerHTML = t; })
        .catch(function () { /* offline for a moment: the next tick tries again */ });
    }, 5000);
  }
  var selects = document.querySelectorAll('form.filters select');
  for (var i = 0; i < selects.length; i++)
    selects[i].addEventListener('change', function (e) { e.target.form.submit(); });
})();
`;

/** Content hash of an asset, for cache-busting URLs. */
export function assetVersion(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}

export const ASSET_PATHS = {
  css: `/dashboard/assets/app.${assetVersion(DASHBOARD_CSS)}.css`,
  js: `/dashboard/assets/app.${assetVersion(DASHBOARD_JS)}.js`,
} as const;
