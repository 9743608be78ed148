/* Earnest browser snippet (served at /s.js). No dependencies. On a brand's landing page it keeps the
   Earnest click ids the visitor arrived with (?ern_cid=…), with their times, in first-party storage
   for the attribution window (data-window-days, default 30), and hands them to the brand's code:
   Earnest.clickIds() → ["clk_…", …] (oldest first), and hidden inputs named "ern_click_ids" (or marked
   data-earnest-click-ids) get them comma-separated. Send them as click_ids with the conversion. */
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
  w.Earnest = { clickIds: ids, fill: fill };
  if (d.readyState === 'loading') d.addEventListener('DOMContentLoaded', function () { fill(); });
  else fill();
})(window, document);
