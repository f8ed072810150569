// abscopal's what-if calculator. It is a client of the /v1 API like any
// other: the patient form posts to /v1/predict and /v1/regimens/compare, a
// file to /v1/score. Everything shown is built with DOM calls and
// textContent (never innerHTML), so that nothing a server or a file says
// can run as markup. A token, when the server asks for one, lives in this
// tab's sessionStorage only; nothing goes into an address.
'use strict';

(function () {
  const $ = (id) => document.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const TOKEN_KEY = 'abscopal.token';
  const TARGETS = [
    ['objective_response', 'Objective response'],
    ['abscopal_response', 'Abscopal response'],
    ['pneumonitis', 'Pneumonitis'],
  ];
  // The time-to-event answers, by their key in /v1's predictions and the
  // rank_by that ranks regimens by them.
  const SURVIVAL = [
    ['overall_survival', 'Overall survival', 'os'],
    ['progression_free_survival', 'Progression-free survival', 'pfs'],
  ];

  const state = {
    token: sessionStorage.getItem(TOKEN_KEY) || '',
    models: [], // /v1/models
    intervals: false, // a served model kept bootstrap models
    survival: [], // the time-to-event targets served: os, pfs
    added: [], // regimens the user added
    seq: 0, // the latest update: older answers are dropped
    downloadURL: '',
  };

  class AuthNeeded extends Error {}

  // call sends a request to the API, with the token when there is one.
  async function call(path, init) {
    init = init || {};
    const headers = Object.assign({}, init.headers || {});
    if (state.token) headers['Authorization'] = 'Bearer ' + state.token;
    const res = await fetch(path, Object.assign({}, init, { headers, cache: 'no-store', credentials: 'omit' }));
    if (res.status === 401) {
      // Asked for the first time, or the token was refused (and forgotten).
      showAuth(state.token ? 'The server refused that token: give a valid one.' : '');
      state.token = '';
      sessionStorage.removeItem(TOKEN_KEY);
      throw new AuthNeeded();
    }
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      body = null;
    }
    return { status: res.status, body };
  }

  function postJSON(path, value) {
    return call(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(value) });
  }

  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      n.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      n.append(c instanceof Node ? c : String(c));
    }
    return n;
  }

  function svg(tag, attrs, text) {
    const n = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs || {})) n.setAttribute(k, String(v));
    if (text !== undefined) n.textContent = text;
    return n;
  }

  const pct = (p) => (p * 100).toFixed(1) + '%';

  // --- the token ---------------------------------------------------------

  function showAuth(message) {
    $('auth').hidden = false;
    $('token-error').textContent = message || '';
    $('status').textContent = 'This server asks for a bearer token.';
    $('token').focus();
  }

  $('token-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const t = $('token').value.trim();
    if (!t) {
      $('token-error').textContent = 'Give the token the server\'s operator gave you.';
      return;
    }
    state.token = t;
    sessionStorage.setItem(TOKEN_KEY, t);
    $('token').value = '';
    $('auth').hidden = true;
    start();
  });

  // --- the patient -------------------------------------------------------

  const controls = () => Array.from($('patient').querySelectorAll('input[name], select[name]'));

  // readPatient turns the form into the JSON /v1/predict takes: unknown
  // fields are left out. It checks what the schema allows (the API checks
  // again) and returns the problems by field, as the API names them.
  function readPatient() {
    const patient = {};
    const errors = [];
    for (const c of controls()) {
      const name = c.name;
      const kind = c.dataset.kind;
      const allowed = c.dataset.allowed;
      const v = c.value.trim();
      if (c.type === 'number' && c.validity.badInput) {
        errors.push({ field: name, message: name + ' must be a number: allowed ' + allowed });
        continue;
      }
      if (v === '') {
        if (c.required) errors.push({ field: name, message: name + ' is required' });
        continue;
      }
      if (kind === 'bool') {
        patient[name] = v === 'true';
      } else if (kind === 'float' || kind === 'int') {
        const x = Number(v);
        const lo = c.min === '' ? -Infinity : Number(c.min);
        const hi = c.max === '' ? Infinity : Number(c.max);
        if (!Number.isFinite(x) || x < lo || x > hi || (kind === 'int' && !Number.isInteger(x))) {
          errors.push({ field: name, message: name + ' = ' + v + ' is not allowed: ' + allowed });
          continue;
        }
        patient[name] = x;
      } else {
        patient[name] = v;
      }
    }
    const dose = patient.rt_dose_gy || 0;
    if (dose > 0) {
      if (!patient.rt_fractions) errors.push({ field: 'rt_fractions', message: 'rt_fractions is required with radiotherapy (rt_dose_gy > 0): a whole number in [1, 60]' });
      else if (dose / patient.rt_fractions > 35) errors.push({ field: 'rt_fractions', message: 'the dose per fraction is ' + (dose / patient.rt_fractions) + ' Gy: at most 35 Gy' });
      if (!patient.rt_site) errors.push({ field: 'rt_site', message: 'rt_site is required with radiotherapy (rt_dose_gy > 0)' });
    }
    return { patient, errors };
  }

  function showErrors(errors) {
    for (const c of controls()) {
      c.removeAttribute('aria-invalid');
      const e = $('e-' + c.name);
      if (e) e.textContent = '';
    }
    for (const { field, message } of errors) {
      const c = $('f-' + field);
      const e = $('e-' + field);
      if (c) c.setAttribute('aria-invalid', 'true');
      if (e) e.textContent = message;
    }
  }

  // fieldOf maps the API's field path (patients[0].alc, patient.alc) to
  // the form's field.
  function fieldOf(path) {
    if (!path) return '';
    const i = path.lastIndexOf('.');
    return i < 0 ? path : path.slice(i + 1);
  }

  // apiError shows a refusal at its field when it names one of the form's.
  function apiError(res) {
    const e = (res.body && res.body.error) || { message: 'the server answered ' + res.status };
    const f = fieldOf(e.field);
    if (f && $('f-' + f)) {
      showErrors([{ field: f, message: e.message }]);
      $('status').textContent = 'The server refused ' + f + ': ' + e.message;
    } else {
      $('status').textContent = 'The server refused the request: ' + e.message;
    }
  }

  let timer = 0;
  function scheduleUpdate() {
    clearTimeout(timer);
    timer = setTimeout(update, 250);
  }

  async function update() {
    const { patient, errors } = readPatient();
    showErrors(errors);
    fillPrintSummary(patient);
    if (errors.length > 0) {
      $('status').textContent = 'Nothing sent: fix ' + errors.map((e) => e.field).join(', ') + '.';
      $('results').classList.add('stale');
      $('regimens').classList.add('stale');
      return;
    }
    const seq = ++state.seq;
    $('status').textContent = 'Scoring…';
    const params = [];
    if (state.intervals) params.push('intervals=true');
    if (state.survival.length > 0) params.push('curve=true');
    const q = params.length > 0 ? '?' + params.join('&') : '';
    const body = { patient, rank_by: $('rank-by').value };
    if (state.added.length > 0) body.regimens = defaults().concat(state.added);
    try {
      const cq = state.survival.length > 0 ? '?curve=true' : '';
      const [pr, cr] = await Promise.all([postJSON('/v1/predict' + q, patient), postJSON('/v1/regimens/compare' + cq, body)]);
      if (seq !== state.seq) return; // a newer update is on its way
      if (pr.status !== 200) return apiError(pr);
      if (cr.status !== 200) return apiError(cr);
      $('results').classList.remove('stale');
      $('regimens').classList.remove('stale');
      renderPrediction(pr.body.predictions[0].predictions);
      renderRegimens(cr.body);
      $('status').textContent = 'Scored ' + new Date().toLocaleTimeString() + '.';
    } catch (e) {
      if (!(e instanceof AuthNeeded)) $('status').textContent = 'The server could not be reached.';
    }
  }

  // --- the prediction ----------------------------------------------------

  function renderPrediction(preds) {
    const out = $('targets');
    out.replaceChildren();
    let synthetic = false;
    for (const [key, label] of TARGETS) {
      const tp = preds[key];
      if (!tp) continue;
      synthetic = synthetic || !!tp.trained_on_synthetic_data;
      const title = key === 'pneumonitis' && tp.outcome ? label + ' (' + tp.outcome.replace('pneumonitis_grade', 'grade') + ')' : label;
      const art = el('article', { class: 'target', id: 't-' + key, 'aria-labelledby': 'th-' + key });
      art.append(el('h3', { id: 'th-' + key }, title));
      if (tp.probability === null || tp.probability === undefined) {
        art.append(el('p', { class: 'reason' }, tp.reason || 'no probability'));
        out.append(art);
        continue;
      }
      art.append(el('p', { class: 'prob', 'data-probability': tp.probability }, pct(tp.probability)));
      if (tp.interval_95) {
        art.append(el('p', { class: 'interval', 'data-interval': tp.interval_95.join(' ') }, '95% interval ' + pct(tp.interval_95[0]) + ' to ' + pct(tp.interval_95[1])));
      }
      art.append(modelLine(tp));
      if (tp.contributions && tp.contributions.length > 0) art.append(contributionChart(key, tp.contributions));
      if (tp.imputed && tp.imputed.length > 0) art.append(el('p', { class: 'imputed' }, 'Imputed (unknown): ' + tp.imputed.join(', ')));
      for (const u of tp.unseen_categories || []) art.append(el('p', { class: 'warning' }, u.feature + ' = ' + u.value + ' was not seen in training'));
      // A model without bootstrap models says it has no interval: the page
      // asks every model for one when any has them; the absence says enough.
      for (const w of (tp.warnings || []).filter((w) => !w.startsWith('no interval:'))) art.append(el('p', { class: 'warning' }, w));
      out.append(art);
    }
    for (const [key, label] of SURVIVAL) {
      const sp = preds[key];
      if (!sp) continue;
      synthetic = synthetic || !!sp.trained_on_synthetic_data;
      out.append(survivalCard(key, label, sp));
    }
    if (synthetic) $('synthetic-banner').hidden = false;
  }

  // survivalCard shows a time-to-event model's answer: the median, the
  // survival at its times, the curve, and why.
  function survivalCard(key, label, sp) {
    const art = el('article', { class: 'target surv', id: 't-' + key, 'aria-labelledby': 'th-' + key });
    art.append(el('h3', { id: 'th-' + key }, label));
    const median = sp.median_months === null ? 'not reached' : sp.median_months.toFixed(1) + ' months';
    art.append(el('p', { class: 'prob median', 'data-median': sp.median_months === null ? '' : sp.median_months }, median));
    art.append(el('p', { class: 'median-note' }, sp.median_note ? 'Median: ' + sp.median_note : 'predicted median time to the event'));
    if (sp.median_interval_95) {
      const [lo, hi] = sp.median_interval_95.map((m) => (m === null ? 'not reached' : m.toFixed(1)));
      art.append(el('p', { class: 'interval', 'data-interval': sp.median_interval_95.join(' ') }, '95% interval of the median ' + lo + ' to ' + hi + ' months'));
    }
    const list = el('ul', { class: 'at', 'data-survival': sp.survival.map((a) => a.probability).join(' ') });
    for (const a of sp.survival) list.append(el('li', {}, 'at ' + a.months + ' months: ' + pct(a.probability)));
    art.append(list);
    if (sp.curve) art.append(curveChart(key, label, [{ label: label, points: [{ months: 0, probability: 1 }].concat(sp.curve) }]));
    art.append(modelLine(sp));
    if (sp.contributions && sp.contributions.length > 0) {
      const fig = contributionChart(key, sp.contributions.map((c) => ({ feature: c.feature, log_odds: c.log_hazard_ratio })));
      fig.querySelector('figcaption').textContent = 'Why: the largest contributions to the log hazard (right: the event sooner; left: later)';
      art.append(fig);
    }
    if (sp.imputed && sp.imputed.length > 0) art.append(el('p', { class: 'imputed' }, 'Imputed (unknown): ' + sp.imputed.join(', ')));
    for (const w of (sp.warnings || []).filter((w) => !w.startsWith('no interval:'))) art.append(el('p', { class: 'warning' }, w));
    return art;
  }

  // curveChart draws survival curves (step functions of the probability
  // of being event-free by month), one per series, in order, each labelled
  // at its end with its number in the series.
  function curveChart(id, what, series) {
    const w = 460, h = 260, l = 48, b = 40, t = 12, rgt = 28;
    const last = Math.max(...series.map((se) => se.points[se.points.length - 1].months));
    const X = (m) => l + (m / last) * (w - l - rgt);
    const Y = (p) => h - b - p * (h - b - t);
    const s = svg('svg', { viewBox: '0 0 ' + w + ' ' + h, width: '100%', role: 'img', class: 'curves', id: 'curves-' + id, 'aria-labelledby': 'cv-' + id });
    s.append(svg('title', { id: 'cv-' + id }, what + ': probability of being event-free by month' +
      (series.length > 1 ? ', one curve per regimen, numbered by rank' : '')));
    s.append(svg('line', { x1: l, x2: w - rgt, y1: h - b, y2: h - b, class: 'axis' }));
    s.append(svg('line', { x1: l, x2: l, y1: t, y2: h - b, class: 'axis' }));
    for (const p of [0, 0.5, 1]) s.append(svg('text', { x: l - 6, y: Y(p) + 4, 'text-anchor': 'end', class: 'tick' }, pct(p)));
    for (const m of [0, last / 2, last]) s.append(svg('text', { x: X(m), y: h - b + 16, 'text-anchor': 'middle', class: 'tick' }, String(Math.round(m))));
    s.append(svg('text', { x: (l + w - rgt) / 2, y: h - 6, 'text-anchor': 'middle', class: 'axis-label' }, 'months →'));
    series.forEach((se, i) => {
      let d = '';
      se.points.forEach((pt, k) => {
        d += k === 0 ? 'M' + X(pt.months) + ' ' + Y(pt.probability) : ' H' + X(pt.months) + ' V' + Y(pt.probability);
      });
      const g = svg('g', { class: 'regimen-curve c' + (i % 8), 'data-rank': se.rank || '', 'data-label': se.label });
      g.append(svg('title', {}, (se.rank ? '#' + se.rank + ' ' : '') + se.label));
      g.append(svg('path', { d: d, class: 'curve' }));
      if (series.length > 1) {
        const end = se.points[se.points.length - 1];
        g.append(svg('text', { x: X(end.months) + 4, y: Y(end.probability) + 4, class: 'rank-label' }, String(se.rank)));
      }
      s.append(g);
    });
    return el('figure', {}, s);
  }

  function modelLine(tp) {
    const p = el('p', { class: 'model' }, 'Model ' + tp.model + ':' + tp.version + ' · ');
    const href = '/v1/models/' + encodeURIComponent(tp.model) + '/files/card.html';
    const a = el('a', { href, target: '_blank', rel: 'noopener' }, 'model card');
    if (state.token) {
      // A link cannot carry the token: fetch the card, open it from memory.
      a.addEventListener('click', async (ev) => {
        ev.preventDefault();
        const res = await fetch(href, { headers: { Authorization: 'Bearer ' + state.token }, cache: 'no-store' });
        if (!res.ok) return;
        const url = URL.createObjectURL(await res.blob());
        window.open(url, '_blank', 'noopener');
        setTimeout(() => URL.revokeObjectURL(url), 60000);
      });
    }
    p.append(a);
    return p;
  }

  // contributionChart draws the top contributions as horizontal bars from
  // a centre line: right raises the probability, left lowers it, in
  // log-odds. The sign is written too, not shown by colour alone.
  function contributionChart(key, contribs) {
    const w = 360, row = 22, left = 170, mid = left + (w - left) / 2, half = (w - left) / 2 - 42;
    const h = row * contribs.length + 10;
    const max = Math.max(...contribs.map((c) => Math.abs(c.log_odds)), 1e-9);
    const s = svg('svg', { viewBox: '0 0 ' + w + ' ' + h, width: '100%', role: 'img', class: 'contrib', 'aria-labelledby': 'ct-' + key });
    s.append(svg('title', { id: 'ct-' + key }, 'What moved this probability most, in log-odds: ' +
      contribs.map((c) => c.feature + ' ' + (c.log_odds > 0 ? '+' : '') + c.log_odds.toFixed(2)).join(', ')));
    s.append(svg('line', { x1: mid, x2: mid, y1: 0, y2: h, class: 'axis' }));
    contribs.forEach((c, i) => {
      const y = 5 + i * row;
      const len = (Math.abs(c.log_odds) / max) * half;
      const up = c.log_odds > 0;
      s.append(svg('text', { x: left - 6, y: y + 15, 'text-anchor': 'end', class: 'label' }, c.feature));
      const bar = svg('rect', { x: up ? mid : mid - len, y: y + 3, width: Math.max(len, 1), height: row - 8, class: 'bar ' + (up ? 'up' : 'down'), 'data-feature': c.feature });
      bar.append(svg('title', {}, c.feature + ': ' + (up ? 'raises' : 'lowers') + ' by ' + Math.abs(c.log_odds).toFixed(3) + ' log-odds'));
      s.append(bar);
      s.append(svg('text', { x: up ? mid + len + 4 : mid - len - 4, y: y + 15, 'text-anchor': up ? 'start' : 'end', class: 'value' }, (up ? '+' : '−') + Math.abs(c.log_odds).toFixed(2)));
    });
    return el('figure', {}, s, el('figcaption', {}, 'Why: the largest contributions (log-odds; right raises, left lowers)'));
  }

  // --- the regimens ------------------------------------------------------

  function defaults() {
    return JSON.parse($('regimens').dataset.defaults || '[]');
  }

  function regimenLabel(r) {
    let s = r.fractions === 1 ? r.dose_gy + ' Gy x 1' : r.dose_gy + ' Gy / ' + r.fractions;
    if (r.site) s += ', ' + r.site;
    if (r.sequence) s += ', ' + r.sequence.replaceAll('_', ' ');
    return s;
  }

  $('regimen-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const dose = $('r-dose'), fr = $('r-fractions');
    const d = Number(dose.value), f = Number(fr.value);
    let msg = '';
    if (dose.value === '' || !dose.checkValidity()) msg = 'dose_gy: a total dose in [0.5, 150] Gy';
    else if (fr.value === '' || !fr.checkValidity() || !Number.isInteger(f)) msg = 'fractions: a whole number in [1, 60]';
    else if (d / f > 35) msg = 'the dose per fraction is ' + d / f + ' Gy: at most 35 Gy';
    $('e-r').textContent = msg;
    dose.setAttribute('aria-invalid', String(msg.startsWith('dose')));
    fr.setAttribute('aria-invalid', String(msg !== '' && !msg.startsWith('dose')));
    if (msg) return;
    const r = { dose_gy: d, fractions: f };
    if ($('r-site').value) r.site = $('r-site').value;
    if ($('r-sequence').value) r.sequence = $('r-sequence').value;
    r.label = regimenLabel(r) + ' (added)';
    state.added.push(r);
    dose.value = '';
    fr.value = '';
    update();
  });

  $('rank-by').addEventListener('change', update);

  function regimenProb(r, key) {
    const tp = r.predictions[key];
    return tp && tp.probability !== null && tp.probability !== undefined ? tp.probability : null;
  }

  function renderRegimens(res) {
    const rankKey = res.rank_by;
    const rows = res.regimens;
    const tbody = $('regimen-table').querySelector('tbody');
    tbody.replaceChildren();
    for (const r of rows) {
      const cells = [r.rank, r.regimen.label, r.bed10_gy.toFixed(1)];
      const tr = el('tr', { 'data-rank': r.rank });
      tr.append(el('td', {}, String(r.rank)), el('th', { scope: 'row' }, r.regimen.label), el('td', {}, cells[2]));
      for (const key of ['objective_response', 'abscopal_response', 'pneumonitis']) {
        const p = regimenProb(r, key);
        tr.append(el('td', { class: key === rankKey ? 'ranked' : null }, p === null ? '—' : pct(p)));
      }
      for (const [key, , rb] of SURVIVAL) {
        if (!state.survival.includes(rb)) continue;
        const sp = r.predictions[key];
        const med = !sp ? '—' : sp.median_months === null ? 'not reached' : sp.median_months.toFixed(1) + ' mo';
        tr.append(el('td', { class: rb === rankKey ? 'ranked' : null }, med));
      }
      const td = el('td', {});
      const i = state.added.findIndex((a) => a.label === r.regimen.label);
      if (i >= 0) {
        const b = el('button', { type: 'button', class: 'secondary', 'aria-label': 'Remove ' + r.regimen.label }, 'Remove');
        b.addEventListener('click', () => {
          state.added.splice(i, 1);
          update();
        });
        td.append(b);
      }
      tr.append(td);
      tbody.append(tr);
    }
    renderRegimenChart(rows, rankKey);
    renderRegimenCurves(rows);
  }

  // renderRegimenCurves draws, for each time-to-event model served, every
  // regimen's survival curve, in rank order.
  function renderRegimenCurves(rows) {
    const out = $('regimen-curves');
    out.replaceChildren();
    for (const [key, label, rb] of SURVIVAL) {
      if (!state.survival.includes(rb)) continue;
      const series = rows.filter((r) => r.predictions[key] && r.predictions[key].curve).map((r) => ({
        rank: r.rank, label: r.regimen.label,
        points: [{ months: 0, probability: 1 }].concat(r.predictions[key].curve),
      }));
      if (series.length === 0) continue;
      const fig = curveChart('regimens-' + rb, label + ' by regimen', series);
      fig.append(el('figcaption', {}, label + ' by regimen, numbered by rank: the probability of being event-free, month by month.'));
      out.append(fig);
    }
  }

  // renderRegimenChart plots each regimen's chance of the ranked response
  // (up) against its pneumonitis risk (right), or against BED10 when no
  // pneumonitis model is served. Points are drawn in rank order.
  function renderRegimenChart(rows, rankKey) {
    const hasPneu = rows.some((r) => regimenProb(r, 'pneumonitis') !== null);
    const xOf = (r) => (hasPneu ? regimenProb(r, 'pneumonitis') : r.bed10_gy);
    // Up: the ranked response's probability, or the ranked survival's
    // median (a regimen whose curve stays above one half has none: no point).
    const surv = SURVIVAL.find(([, , rb]) => rb === rankKey);
    const yOf = surv
      ? (r) => (r.predictions[surv[0]] && r.predictions[surv[0]].median_months !== null ? r.predictions[surv[0]].median_months : null)
      : (r) => regimenProb(r, rankKey);
    const fmtY = surv ? (y) => y.toFixed(1) + ' mo' : pct;
    const pts = rows.filter((r) => yOf(r) !== null);
    if (pts.length === 0) {
      $('regimen-chart').replaceChildren();
      $('regimen-caption').textContent = 'No regimen has a value to plot.';
      return;
    }
    const w = 460, h = 300, l = 66, b = 44, t = 14, rgt = 16;
    const xs = pts.map(xOf), ys = pts.map(yOf);
    const pad = (lo, hi) => (hi - lo < 1e-9 ? [lo - 0.05, hi + 0.05] : [lo - (hi - lo) * 0.1, hi + (hi - lo) * 0.1]);
    const [x0, x1] = pad(Math.min(...xs), Math.max(...xs));
    const [y0, y1] = pad(Math.min(...ys), Math.max(...ys));
    const X = (x) => l + ((x - x0) / (x1 - x0)) * (w - l - rgt);
    const Y = (y) => h - b - ((y - y0) / (y1 - y0)) * (h - b - t);
    const target = surv ? 'median ' + surv[1].toLowerCase() : rankKey === 'abscopal_response' ? 'abscopal response' : 'objective response';
    const xName = hasPneu ? 'pneumonitis risk' : 'BED10 (Gy)';
    const s = svg('svg', { viewBox: '0 0 ' + w + ' ' + h, width: '100%', role: 'img', id: 'regimen-svg', 'aria-labelledby': 'rc-title' });
    s.append(svg('title', { id: 'rc-title' }, 'Each regimen: ' + (surv ? '' : 'chance of ') + target + ' against ' + xName + ', numbered by rank'));
    s.append(svg('line', { x1: l, x2: w - rgt, y1: h - b, y2: h - b, class: 'axis' }));
    s.append(svg('line', { x1: l, x2: l, y1: t, y2: h - b, class: 'axis' }));
    const fmtX = (x) => (hasPneu ? pct(x) : x.toFixed(0));
    for (const f of [0, 0.5, 1]) {
      const xv = x0 + f * (x1 - x0), yv = y0 + f * (y1 - y0);
      s.append(svg('text', { x: X(xv), y: h - b + 16, 'text-anchor': 'middle', class: 'tick' }, fmtX(xv)));
      s.append(svg('text', { x: l - 6, y: Y(yv) + 4, 'text-anchor': 'end', class: 'tick' }, fmtY(yv)));
    }
    s.append(svg('text', { x: (l + w - rgt) / 2, y: h - 6, 'text-anchor': 'middle', class: 'axis-label' }, xName + ' →'));
    s.append(svg('text', { x: 14, y: (t + h - b) / 2, 'text-anchor': 'middle', class: 'axis-label', transform: 'rotate(-90 14 ' + (t + h - b) / 2 + ')' }, target + ' →'));
    for (const r of pts) {
      const g = svg('g', { class: 'regimen-point', 'data-rank': r.rank, 'data-label': r.regimen.label });
      g.append(svg('title', {}, '#' + r.rank + ' ' + r.regimen.label + ': ' + target + ' ' + fmtY(yOf(r)) + ', ' + xName + ' ' + fmtX(xOf(r))));
      g.append(svg('circle', { cx: X(xOf(r)), cy: Y(yOf(r)), r: 9 }));
      g.append(svg('text', { x: X(xOf(r)), y: Y(yOf(r)) + 4, 'text-anchor': 'middle', class: 'rank' }, String(r.rank)));
      s.append(g);
    }
    $('regimen-chart').replaceChildren(s);
    $('regimen-caption').textContent = 'Up: ' + (surv ? 'a longer ' : 'a better chance of ') + target + '. Right: ' + (hasPneu ? 'more pneumonitis risk' : 'a higher BED10 (no pneumonitis model is served)') + '. Numbers are ranks.';
  }

  // --- a file of patients ------------------------------------------------

  $('batch-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const out = $('batch-result');
    const file = $('batch-file').files[0];
    if (!file) {
      out.replaceChildren(el('p', { class: 'error' }, 'Choose a .csv or .parquet file of patients.'));
      return;
    }
    const lower = file.name.toLowerCase();
    const type = lower.endsWith('.parquet') ? 'application/vnd.apache.parquet' : lower.endsWith('.csv') ? 'text/csv' : '';
    if (!type) {
      out.replaceChildren(el('p', { class: 'error' }, file.name + ': a .csv or .parquet file, please.'));
      return;
    }
    const target = $('batch-target').value;
    out.replaceChildren(el('p', {}, 'Scoring ' + file.name + '…'));
    try {
      const q = '?target=' + encodeURIComponent(target) + (state.intervals ? '&intervals=true' : '');
      const res = await call('/v1/score' + q, { method: 'POST', headers: { 'Content-Type': type }, body: file });
      if (res.status !== 200) {
        const e = (res.body && res.body.error) || { message: 'the server answered ' + res.status };
        out.replaceChildren(el('p', { class: 'error' }, file.name + ': ' + e.message));
        return;
      }
      renderBatch(file.name, res.body);
    } catch (e) {
      if (!(e instanceof AuthNeeded)) out.replaceChildren(el('p', { class: 'error' }, 'The server could not be reached.'));
    }
  });

  function renderBatch(name, s) {
    if (state.downloadURL) URL.revokeObjectURL(state.downloadURL);
    state.downloadURL = URL.createObjectURL(new Blob([s.scores_csv], { type: 'text/csv' }));
    const out = $('batch-result');
    const parts = [
      el('p', { id: 'batch-summary', 'data-rows': s.rows }, name + ': ' + s.rows + (s.rows === 1 ? ' row' : ' rows') + ' scored by ' + s.model + ':' + s.version +
        ' (' + s.outcome + ')' + (s.undefined_rows ? '; ' + s.undefined_rows + ' without a probability (the reason column says why)' : '') + '.'),
      el('p', {}, el('a', { href: state.downloadURL, download: 'scores-' + s.target + '.csv', id: 'batch-download' }, 'Download the scores (CSV)')),
    ];
    if (s.trained_on_synthetic_data) parts.push(el('p', { class: 'warning' }, 'Scored by a model trained on synthetic data.'));
    const inputs = (s.inputs || []).filter((i) => i.imputed || i.unseen || i.out_of_range);
    if (inputs.length > 0) {
      const t = el('table', { id: 'batch-inputs' }, el('caption', {}, 'What was imputed, unseen or out of the training range, by input'));
      t.append(el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, 'Input'), el('th', { scope: 'col' }, 'Imputed'), el('th', { scope: 'col' }, 'Unseen category'), el('th', { scope: 'col' }, 'Out of range'))));
      const tb = el('tbody');
      for (const i of inputs) tb.append(el('tr', {}, el('th', { scope: 'row' }, i.feature), el('td', {}, String(i.imputed || 0)), el('td', {}, String(i.unseen || 0)), el('td', {}, String(i.out_of_range || 0))));
      t.append(tb);
      parts.push(t);
    } else {
      parts.push(el('p', {}, 'Nothing was imputed.'));
    }
    out.replaceChildren(...parts);
  }

  // --- print ---------------------------------------------------------------

  function fillPrintSummary(patient) {
    const dl = $('print-inputs');
    dl.replaceChildren();
    for (const [k, v] of Object.entries(patient)) dl.append(el('dt', {}, k), el('dd', {}, String(v)));
  }

  $('print').addEventListener('click', () => window.print());

  // --- start ---------------------------------------------------------------

  async function start() {
    try {
      const res = await call('/v1/models');
      if (res.status !== 200) {
        $('status').textContent = 'The server answered ' + res.status + ' for its models.';
        return;
      }
      state.models = res.body.models.filter((m) => m.serves_v1_target);
      state.intervals = state.models.some((m) => m.bootstrap_models > 0);
      state.survival = SURVIVAL.map(([, , rb]) => rb).filter((rb) => state.models.some((m) => m.target === rb));
      for (const [, label, rb] of SURVIVAL) {
        if (!state.survival.includes(rb)) continue;
        $('rank-by').append(el('option', { value: rb }, 'median ' + label.toLowerCase()));
        $('regimen-table').querySelector('thead tr').insertBefore(el('th', { scope: 'col' }, 'Median ' + rb.toUpperCase()),
          $('regimen-table').querySelector('thead tr').lastElementChild);
      }
      if (state.models.some((m) => m.trained_on_synthetic_data)) $('synthetic-banner').hidden = false;
      const served = new Set(state.models.map((m) => m.target));
      for (const o of Array.from($('batch-target').options)) {
        o.disabled = !served.has(o.value);
      }
      const first = Array.from($('batch-target').options).find((o) => !o.disabled);
      if (first) $('batch-target').value = first.value;
      if (state.models.length === 0) {
        $('status').textContent = 'The server serves no model for the /v1 targets yet.';
        return;
      }
      await update();
    } catch (e) {
      if (!(e instanceof AuthNeeded)) $('status').textContent = 'The server could not be reached.';
    }
  }

  $('patient').addEventListener('input', scheduleUpdate);
  $('patient').addEventListener('change', scheduleUpdate);
  $('patient').addEventListener('submit', (ev) => {
    ev.preventDefault();
    update();
  });
  start();
})();
