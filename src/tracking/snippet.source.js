/* Earnest browser snippet (served at /s.js). No dependencies. On a brand's landing page it keeps the
   Earnest click ids the visitor arrived with (?ern_cid=…), with their times, in first-party storage
   for the attribution window (data-window-days, default 30), and hands them to the brand's code:
   Earnest.clickIds() → ["clk_…", …] (oldest first), and hidden inputs named "ern_click_ids" (or marked
   data-earnest-click-ids) get them comma-separated. Send them as click_ids with the conversion.
   Viewability beacons: an element marked data-earnest-view="video" (or "display") that is at least
   half in view on a visible page for 2 continuous seconds (1 for display) is reported once per page
   view to POST /b/view with the stored click ids (docs/tracking.md#viewability-beacons); elements added
   later are picked up by Earnest.watchViews(). Bundled by src/tracking/snippet.ts (esbuild). */
import { viewTimer } from './view-timer.js';

(function (w, d) {
  var KEY = 'ern_clicks', MAX = 50, DAY = 864e5;
  var me = d.currentScript;
  var days = Number(me && me.getAttribute('data-window-days')) || 30;
  function store(value) {
    try {
      if (value === undefined) return w.localStorage.getItem(KEY);
      w.localStorage.setItem(KEY, value);
    } catch (e) {
      // No localStorage (some private modes): a first-party cookie instead.
      if (value === undefined) {
        var m = new RegExp('(?:^|; )' + KEY + '=([^;]*)').exec(d.cookie);
        return m ? decodeURIComponent(m[1]) : null;
      }
      d.cookie = KEY + '=' + encodeURIComponent(value) + '; path=/; max-age=' + Math.round(days * 86400) + '; samesite=lax';
    }
    return null;
  }
  function read() {
    var list;
    try { list = JSON.parse(store() || '[]'); } catch (e) { list = []; }
    var cutoff = Date.now() - days * DAY;
    var kept = [];
    for (var i = 0; i < list.length; i++) {
      var c = list[i];
      if (c && typeof c.id === 'string' && typeof c.t === 'number' && c.t >= cutoff) kept.push(c);
    }
    return kept;
  }
  function ids() {
    var list = read(), out = [];
    for (var i = 0; i < list.length; i++) out.push(list[i].id);
    return out;
  }
  function fill(root) {
    var fields = (root || d).querySelectorAll('input[name="ern_click_ids"],input[data-earnest-click-ids]');
    for (var i = 0; i < fields.length; i++) fields[i].value = ids().join(',');
  }
  var list = read();
  var arrived = /[?&]ern_cid=([A-Za-z0-9_]{1,64})(?:&|#|$)/.exec(w.location.search);
  if (arrived) {
    for (var i = 0; i < list.length; i++) if (list[i].id === arrived[1]) list.splice(i--, 1);
    list.push({ id: arrived[1], t: Date.now() });
  }
  store(JSON.stringify(list.slice(-MAX)));
  // Viewability: one timer per marked element (view-timer.ts has the rule), driven by an
  // IntersectionObserver (the share of the element in view) and the Page Visibility API.
  var beaconUrl = me && me.src ? me.src.replace(/\/s\.js(?:[?#].*)?$/, '/b/view') : '/b/view';
  var watched = [], io = null, n = 0;
  function now() { return w.performance && w.performance.now ? w.performance.now() : Date.now(); }
  function send(v) {
    var list = ids();
    if (!list.length) return; // no click to credit
    var body = { click_ids: list.slice(-20), element: v.key, kind: v.kind, visible_ms: Math.round(v.timer.visibleMs()), page_url: (w.location.origin + w.location.pathname).slice(0, 2048) };
    var campaign = v.el.getAttribute('data-earnest-campaign');
    if (campaign) body.campaign_id = campaign;
    var text = JSON.stringify(body);
    try { if (w.navigator.sendBeacon && w.navigator.sendBeacon(beaconUrl, text)) return; } catch (e) { /* fall back to fetch */ }
    try { w.fetch(beaconUrl, { method: 'POST', body: text, keepalive: true, mode: 'no-cors', headers: { 'content-type': 'text/plain' } }); } catch (e) { /* nothing more to try */ }
  }
  function step(v) {
    clearTimeout(v.pending);
    var left = v.timer.update(v.ratio, d.visibilityState !== 'hidden', now());
    if (left >= 0) v.pending = setTimeout(function () { if (v.timer.due(now())) send(v); else step(v); }, left);
  }
  function watchViews(root) {
    if (!w.IntersectionObserver) return;
    io = io || new w.IntersectionObserver(function (entries) {
      for (var i = 0; i < entries.length; i++) {
        for (var j = 0; j < watched.length; j++) {
          if (watched[j].el === entries[i].target) { watched[j].ratio = entries[i].isIntersecting ? entries[i].intersectionRatio : 0; step(watched[j]); }
        }
      }
    }, { threshold: [0, 0.5, 1] });
    var els = (root || d).querySelectorAll('[data-earnest-view]');
    for (var i = 0; i < els.length; i++) {
      var el = els[i], known = false;
      for (var j = 0; j < watched.length; j++) if (watched[j].el === el) known = true;
      if (known) continue;
      var kind = el.getAttribute('data-earnest-view') === 'video' ? 'video' : 'display';
      var key = (el.getAttribute('data-earnest-id') || el.id || w.location.pathname + '#' + n++).slice(0, 100);
      watched.push({ el: el, kind: kind, key: key, timer: viewTimer(kind), ratio: 0, pending: 0 });
      io.observe(el);
    }
  }
  d.addEventListener('visibilitychange', function () { for (var i = 0; i < watched.length; i++) step(watched[i]); });
  w.Earnest = { clickIds: ids, fill: fill, watchViews: watchViews };
  function ready() { fill(); watchViews(); }
  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', ready);
  else ready();
})(window, document);
