// The imsmeter dashboard (docs/dashboard.md): meters updating live from /api/stream, charts of
// one meter's energy and demand, events, and the bill with its CSV. Everything the server
// sends is shown with textContent, never innerHTML: a meter label is data, not markup.
'use strict';

(() => {
  const state = {
    token: sessionStorage.getItem('imsmeter_token') || '',
    meters: new Map(), // meter_id -> the /api/meters object
    silent: new Set(), // meters whose latest silent/back_online event is silent
    provisional: new Map(), // meter_id -> its newest held frame (a `provisional` stream item)
    selected: null,
    lastEventId: null, // the stream's resume point (Last-Event-ID)
    charts: [],
    refresh: null,
  };
  const $ = (id) => document.getElementById(id);
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function authHeaders() {
    return state.token ? { Authorization: 'Bearer ' + state.token } : {};
  }

  function askToken() {
    $('token-form').hidden = false;
  }

  async function api(path) {
    const r = await fetch(path, { headers: authHeaders(), cache: 'no-store' });
    if (r.status === 401) {
      askToken();
      throw new Error('the server wants an API token');
    }
    if (!r.ok) {
      let message = 'HTTP ' + r.status;
      try {
        message = (await r.json()).error || message;
      } catch (_) { /* not JSON */ }
      throw new Error(message);
    }
    return r;
  }
  const getJson = async (path) => (await api(path)).json();

  // --- time helpers (the API speaks ISO 8601 UTC) ------------------------------------
  const shortUtc = (iso) => (iso ? iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '') : '—');
  const isoMinute = (ms) => new Date(ms).toISOString().slice(0, 19);
  const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
  const asUtc = (local) => (local.length === 16 ? local + ':00' : local) + 'Z';
  // Peak demand counts are 20 W each (guide 2.4.2): exact kW with three decimals.
  function peakKw(counts) {
    if (counts === null || counts === undefined) return '—';
    const w = counts * 20;
    return Math.floor(w / 1000) + '.' + String(w % 1000).padStart(3, '0');
  }
  function latestReadingMs() {
    let latest = 0;
    for (const m of state.meters.values())
      if (m.last_reading_at) latest = Math.max(latest, Date.parse(m.last_reading_at));
    return latest || Date.now();
  }

  // --- meters --------------------------------------------------------------------------
  // online/silent/waiting come from the server; provisional: discovered on the bus but not in
  // the configuration; unassigned: no tenant, so on nobody's bill.
  // The collector's own silent events win over the server's clock: under `collect
  // --clock-scale` (the demo) bus time runs ahead of the wall clock the server compares with.
  // pending: a frame of the meter the collector holds until its next frame decides it (a
  // demand reset, a peak rise): shown at once, dropped when confirmed or withdrawn.
  function badges(m) {
    const out = [state.silent.has(m.meter_id) ? 'silent' : m.status];
    if (!m.registered) out.push('provisional');
    if (!m.tenant) out.push('unassigned');
    if (state.provisional.has(m.meter_id)) out.push('pending');
    return out;
  }

  function pendingTitle(p) {
    return 'held frame of ' + shortUtc(p.received_at) + ': register ' + p.kwh24 + ' kWh, peak ' +
      peakKw(p.peak_demand_counts) + ' kW, resets ' + p.demand_resets +
      '; waits for the next frame to confirm it';
  }

  function meterRow(m, fresh) {
    const tr = document.createElement('tr');
    tr.dataset.meter = m.meter_id;
    const status = el('td', null, 'status');
    for (const b of badges(m)) {
      const badge = el('span', b, 'badge ' + b);
      if (b === 'pending') badge.title = pendingTitle(state.provisional.get(m.meter_id));
      status.append(badge);
    }
    tr.append(el('td', m.meter_id, 'id'), el('td', m.label, 'label'), el('td', m.tenant),
      el('td', m.model), status, el('td', shortUtc(m.last_reading_at), 'last'),
      el('td', m.total_kwh ?? '—', 'num kwh'), el('td', peakKw(m.peak_demand_counts), 'num'),
      el('td', m.readings, 'num readings'));
    if (fresh) tr.classList.add('fresh');
    if (state.selected === m.meter_id) tr.classList.add('selected');
    tr.addEventListener('click', () => selectMeter(m.meter_id));
    return tr;
  }

  function renderMeters(list, changed) {
    $('meters').tBodies[0].replaceChildren(...list.map((m) => meterRow(m, changed.has(m.meter_id))));
    $('meter-count').textContent = '(' + list.length + ')';
    const select = $('chart-meter');
    const keep = select.value;
    select.replaceChildren(...list.map((m) => {
      const o = el('option', m.meter_id + (m.label ? ' — ' + m.label : ''));
      o.value = m.meter_id;
      return o;
    }));
    if (keep) select.value = keep;
  }

  async function loadMeters() {
    const list = await getJson('/api/meters');
    const changed = new Set();
    for (const m of list) {
      const old = state.meters.get(m.meter_id);
      if (old && old.readings !== m.readings) changed.add(m.meter_id);
    }
    state.meters = new Map(list.map((m) => [m.meter_id, m]));
    renderMeters(list, changed);
  }

  // A burst of readings refreshes the list once (status is the server's to compute).
  function scheduleRefresh() {
    if (state.refresh) return;
    state.refresh = setTimeout(async () => {
      state.refresh = null;
      try {
        await loadMeters();
      } catch (_) { /* the next update tries again */ }
    }, 300);
  }

  // --- live updates: /api/stream read with fetch (it carries the token, which EventSource
  // cannot), resumed after a drop with Last-Event-ID so nothing is missed or repeated ------
  function setLive(on) {
    const b = $('live');
    b.textContent = on ? 'live' : 'reconnecting';
    b.className = 'badge ' + (on ? 'live' : 'off');
    b.dataset.state = on ? 'live' : 'reconnecting';
  }

  function parseFrame(text) {
    const f = { id: null, event: 'message', data: '' };
    for (const line of text.split('\n')) {
      if (!line || line.startsWith(':')) continue;
      const c = line.indexOf(':');
      const key = c < 0 ? line : line.slice(0, c);
      let value = c < 0 ? '' : line.slice(c + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      if (key === 'id') f.id = value;
      else if (key === 'event') f.event = value;
      else if (key === 'data') f.data += (f.data ? '\n' : '') + value;
    }
    return f;
  }

  // A held frame shown at once, until the reading that confirms it or the rejection that
  // withdraws it (docs/http.md "/api/stream").
  function notePending(kind, item) {
    const held = state.provisional.get(item.meter_id);
    if (kind === 'provisional') state.provisional.set(item.meter_id, item);
    else if ((item.confirms_provisional || item.withdraws_provisional) && held &&
             held.frame_id === item.frame_id) state.provisional.delete(item.meter_id);
    else return;
    if (kind !== 'reading') renderMeters([...state.meters.values()], new Set());
  }

  function onUpdate(kind, item) {
    notePending(kind, item);
    if (kind === 'reading' && !item.withdrawn_since) {
      const m = state.meters.get(item.meter_id);
      if (m) {
        m.last_reading_at = item.received_at;
        m.total_kwh = item.total_kwh;
        m.peak_demand_counts = item.peak_demand_counts;
        m.readings += 1;
        m.status = 'online';
        renderMeters([...state.meters.values()], new Set([item.meter_id]));
      }
    }
    if (kind === 'event') {
      noteSilence(item);
      addEvents([item], true);
    }
    scheduleRefresh();
  }

  async function follow() {
    for (;;) {
      try {
        const headers = authHeaders();
        if (state.lastEventId !== null) headers['Last-Event-ID'] = state.lastEventId;
        const r = await fetch('/api/stream', { headers, cache: 'no-store' });
        if (r.status === 401) askToken();
        if (!r.ok) throw new Error('HTTP ' + r.status);
        setLive(true);
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += value;
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const f = parseFrame(buf.slice(0, end));
            buf = buf.slice(end + 2);
            if (f.id !== null) {
              state.lastEventId = f.id;
              $('last-event').textContent = 'update #' + f.id;
            }
            if (f.data) onUpdate(f.event, JSON.parse(f.data));
          }
        }
      } catch (_) { /* dropped: reconnect below */ }
      setLive(false);
      await sleep(2000);
    }
  }

  // --- events ----------------------------------------------------------------------------
  function noteSilence(e) {
    if (e.retracted || e.meter_id === null) return;
    if (e.kind === 'silent') state.silent.add(e.meter_id);
    if (e.kind === 'back_online') state.silent.delete(e.meter_id);
  }

  function addEvents(list, atTop) {
    const tbody = $('events').tBodies[0];
    const rows = list.map((e) => {
      const tr = el('tr');
      tr.append(el('td', shortUtc(e.at)), el('td', e.kind), el('td', e.meter_id ?? '—'),
        el('td', JSON.stringify(e.detail || {}) + (e.retracted ? ' (retracted)' : '')));
      return tr;
    });
    if (atTop) tbody.prepend(...rows);
    else tbody.replaceChildren(...rows);
    while (tbody.rows.length > 200) tbody.deleteRow(-1);
  }

  async function loadEvents() {
    const list = await getJson('/api/events');
    for (const e of list) noteSilence(e); // oldest first: the latest word wins
    renderMeters([...state.meters.values()], new Set());
    addEvents(list.reverse().slice(0, 200), false);
  }

  // --- charts ------------------------------------------------------------------------------
  function selectMeter(id) {
    state.selected = id;
    $('chart-meter').value = id;
    for (const tr of $('meters').tBodies[0].rows)
      tr.classList.toggle('selected', Number(tr.dataset.meter) === id);
    const m = state.meters.get(id);
    const last = m && m.last_reading_at ? Date.parse(m.last_reading_at) : latestReadingMs();
    const to = Math.ceil(last / 3600e3) * 3600e3;
    // The last 24 hours, or since the meter was first heard when that is later.
    const first = m && m.discovered_at ? Math.floor(Date.parse(m.discovered_at) / 3600e3) * 3600e3 : 0;
    $('chart-from').value = isoMinute(Math.max(to - 24 * 3600e3, first));
    $('chart-to').value = isoMinute(to);
    showChart().catch((e) => { $('chart-status').textContent = e.message; });
  }

  async function readingsOf(id, from, to) {
    const out = [];
    let cursor = '';
    for (let page = 0; page < 20; ++page) {
      const q = new URLSearchParams({ from, to, limit: '10000' });
      if (cursor) q.set('cursor', cursor);
      const body = await getJson('/api/meters/' + id + '/readings?' + q);
      out.push(...body.readings);
      if (!body.next_cursor) break;
      cursor = body.next_cursor;
    }
    return out;
  }

  function plot(target, title, unit, xs, ys, color) {
    const box = $(target);
    const chart = new uPlot({
      title,
      width: Math.max(320, box.clientWidth || 600),
      height: 220,
      series: [{}, { label: unit, stroke: color, fill: color + '22', points: { show: xs.length < 200 } }],
      axes: [{}, { label: unit }],
    }, [xs, ys], box);
    state.charts.push(chart);
    box.dataset.points = String(ys.filter((y) => y !== null).length);
  }

  async function showChart() {
    const id = Number($('chart-meter').value);
    if (!id && id !== 0) return;
    const from = asUtc($('chart-from').value);
    const to = asUtc($('chart-to').value);
    const interval = $('chart-interval').value;
    $('chart-status').textContent = 'loading…';
    const q = new URLSearchParams({ interval, from, to, tz: 'UTC' });
    const [energy, readings] = await Promise.all([
      getJson('/api/meters/' + id + '/readings?' + q), readingsOf(id, from, to)]);
    for (const c of state.charts) c.destroy();
    state.charts = [];
    $('chart-energy').replaceChildren();
    $('chart-demand').replaceChildren();
    const ex = energy.intervals.map((r) => Date.parse(r.start) / 1000);
    const ey = energy.intervals.map((r) => (r.kwh === null ? null : Number(r.kwh)));
    plot('chart-energy', 'Energy per interval', 'kWh', ex, ey, '#2a5db0');
    const dx = readings.map((r) => Date.parse(r.received_at) / 1000);
    const dy = readings.map((r) => Number(r.peak_demand_kw));
    plot('chart-demand', 'Peak demand (register)', 'kW', dx, dy, '#b26b00');
    const m = state.meters.get(id);
    $('chart-title').textContent = '— meter ' + id + (m && m.label ? ' ' + m.label : '');
    $('chart-status').textContent = readings.length + ' reading(s), ' + ex.length + ' interval(s)';
  }

  // --- the bill ------------------------------------------------------------------------
  // RFC 4180 fields: the table shows the CSV's own text, so what is shown is what downloads
  // (exact decimals, no float round trip).
  function parseCsv(text) {
    const rows = [];
    let row = [], field = '', quoted = false;
    for (let i = 0; i < text.length; ++i) {
      const c = text[i];
      if (quoted) {
        if (c === '"' && text[i + 1] === '"') { field += '"'; ++i; } else if (c === '"') quoted = false;
        else field += c;
      } else if (c === '"') quoted = true;
      else if (c === ',') { row.push(field); field = ''; } else if (c === '\n') {
        row.push(field); rows.push(row); row = []; field = '';
      } else if (c !== '\r') field += c;
    }
    if (field || row.length) { row.push(field); rows.push(row); }
    return rows;
  }

  function billQuery() {
    const q = new URLSearchParams({ from: $('bill-from').value, to: $('bill-to').value, format: 'csv' });
    if ($('bill-tz').value.trim()) q.set('tz', $('bill-tz').value.trim());
    return '/api/report?' + q;
  }

  async function fetchBill() {
    const text = await (await api(billQuery())).text();
    return text;
  }

  async function showBill() {
    $('bill-status').textContent = 'loading…';
    const rows = parseCsv(await fetchBill());
    const table = $('bill');
    const head = el('tr');
    for (const h of rows[0] || []) head.append(el('th', h));
    table.tHead.replaceChildren(head);
    table.tBodies[0].replaceChildren(...rows.slice(1).map((r) => {
      const tr = el('tr');
      for (const f of r) tr.append(el('td', f));
      return tr;
    }));
    $('bill-status').textContent = (rows.length - 1) + ' line(s)';
  }

  async function downloadBill() {
    const blob = new Blob([await fetchBill()], { type: 'text/csv' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'imsmeter-bill-' + $('bill-from').value + '-' + $('bill-to').value + '.csv';
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10000);
  }

  // --- start ---------------------------------------------------------------------------
  function wire() {
    $('token-form').addEventListener('submit', (e) => {
      e.preventDefault();
      state.token = $('token').value;
      sessionStorage.setItem('imsmeter_token', state.token);
      $('token-form').hidden = true;
      start();
    });
    $('chart-form').addEventListener('submit', (e) => {
      e.preventDefault();
      state.selected = Number($('chart-meter').value);
      showChart().catch((err) => { $('chart-status').textContent = err.message; });
    });
    $('bill-form').addEventListener('submit', (e) => {
      e.preventDefault();
      showBill().catch((err) => { $('bill-status').textContent = err.message; });
    });
    $('bill-csv').addEventListener('click', () => {
      downloadBill().catch((err) => { $('bill-status').textContent = err.message; });
    });
  }

  let following = false;
  async function start() {
    try {
      await loadMeters();
      await loadEvents();
    } catch (e) {
      $('meter-count').textContent = e.message;
      return;
    }
    const latest = latestReadingMs();
    if (!$('bill-to').value) {
      $('bill-to').value = isoDay(latest + 86400e3);
      $('bill-from').value = isoDay(latest - 6 * 86400e3);
    }
    if (state.selected === null && state.meters.size) selectMeter(state.meters.keys().next().value);
    if (!following) {
      following = true;
      follow();
    }
  }

  wire();
  start();
})();
