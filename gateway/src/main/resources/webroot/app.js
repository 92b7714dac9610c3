'use strict';
// The farm's web page: plain JavaScript on the public API (SPEC §3–4); no build step, nothing from a CDN.

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
const TERMINAL = ['succeeded', 'failed', 'cancelled'];
const SVG = 'http://www.w3.org/2000/svg';

const state = {
  key: localStorage.getItem('farm.key') || '',
  models: [],
  job: null,        // the job shown on the right
  socket: null,     // its event stream
  seq: 0,           // the last event seq received, for ?since= on reconnect
  resultsShown: false,
  jobListAsked: 0,  // calls of refreshJobs so far
  picking: false,   // test images are being fetched for the picker
};

// ---- the API -------------------------------------------------------------------------------------------------------

/** An answer other than 2xx: the status and the problem+json body. */
class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, path, body) {
  const headers = { Authorization: `Bearer ${state.key}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, { detail: `the gateway cannot be reached (${e.message})` });
  }
  const text = await response.text();
  let json = {};
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { detail: text };
  }
  if (!response.ok) throw new ApiError(response.status, json);
  return json;
}

// ---- errors next to their fields -----------------------------------------------------------------------------------

/** The element that shows errors of {@code field} ("input.indices[2]" falls back to "input.indices", then "input"). */
function fieldFor(root, field) {
  for (let name = field; name;) {
    const el = root.querySelector(`[data-field="${CSS.escape(name)}"]`);
    if (el) return el;
    const shorter = name.replace(/(\.[^.[\]]+|\[\d+\])$/, '');
    if (shorter === name) return null;
    name = shorter;
  }
  return null;
}

/** Adds {@code message} to the field's errors, once (the job list, refused every 2 s, repeats it). */
function setFieldError(el, message) {
  el.classList.add('invalid');
  const out = $(':scope > .err', el);
  if (out.textContent.split('; ').includes(message)) return;
  out.textContent = out.textContent ? `${out.textContent}; ${message}` : message;
}

function clearErrors(root) {
  $$('.invalid', root).forEach(el => el.classList.remove('invalid'));
  $$('.err', root).forEach(el => { el.textContent = ''; });
}

/** Shows an API error in {@code form}: each named field next to its input, a refused key next to the key. */
function showProblem(form, error) {
  clearErrors(form);
  clearErrors($('header'));
  if (error.status === 401) {
    setFieldError(fieldFor($('header'), 'key'), 'this key was refused: enter the key the farm printed');
    $('.form-err', form).textContent = 'not submitted: the API key was refused';
    return;
  }
  const unplaced = [];
  for (const { field, message } of error.problem.errors || []) {
    const el = fieldFor(form, field) || fieldFor($('header'), field);
    if (el) {
      setFieldError(el, el.dataset.field === field ? message : `${field}: ${message}`);
    } else {
      unplaced.push(`${field}: ${message}`);
    }
  }
  const formError = $('.form-err', form);
  if (formError) {
    formError.textContent = unplaced.length ? unplaced.join('; ') : error.problem.errors ? '' : error.message;
  }
}

// ---- the key and the models ----------------------------------------------------------------------------------------

// an answer that arrives after the key was changed again belongs to the old key and is dropped
async function useKey(key) {
  const used = state.key = key.trim();
  clearErrors($('header'));
  if (!used) localStorage.removeItem('farm.key');
  try {
    const { models } = await api('GET', '/v1/models');
    if (used !== state.key) return;
    localStorage.setItem('farm.key', state.key);
    state.models = models;
    fillModels();
    $('#key-state').textContent = 'connected';
    if ($('#progressive .thumbs').children.length === 0) moreTestImages();
    await refreshJobs();
  } catch (e) {
    if (used !== state.key) return;
    $('#key-state').textContent = '';
    setFieldError(fieldFor($('header'), 'key'), e.status === 401 ? 'this key was refused' : e.message);
  }
}

function fillModels() {
  const select = $('#model');
  const remembered = localStorage.getItem('farm.model');
  select.replaceChildren(...state.models.map(m => new Option(m.name, m.name, false, m.name === remembered)));
  fillClasses();
}

function currentModel() {
  return state.models.find(m => m.name === $('#model').value);
}

function fillClasses() {
  const model = currentModel();
  const names = (model && model.classNames) || [];
  for (const select of $$('select.classes')) {
    select.replaceChildren(new Option('any', ''), ...names.map((name, i) => new Option(`${i} ${name}`, String(i))));
    select.disabled = names.length === 0;
  }
}

// ---- picking test images -------------------------------------------------------------------------------------------

const PICK_PAGE = 40;

/** Adds the next test images to the picker; a click adds or removes its index in the indices field. */
async function moreTestImages() {
  if (state.picking) return;
  state.picking = true;
  const thumbs = $('#progressive .thumbs');
  const from = thumbs.children.length;
  try {
    for (let i = from; i < from + PICK_PAGE; i++) {
      const response = await fetch(`/v1/datasets/fashion-mnist:test/images/${i}`,
        { headers: { Authorization: `Bearer ${state.key}` } });
      if (!response.ok) break;
      const img = Object.assign(new Image(), { src: URL.createObjectURL(await response.blob()) });
      img.title = `test image ${i}: ${response.headers.get('X-Class')}`;
      img.dataset.index = i;
      img.onclick = () => togglePick(i);
      thumbs.append(img);
    }
  } catch {
    // the gateway went away; the indices field still works
  } finally {
    state.picking = false;
  }
  markPicked();
}

function togglePick(index) {
  const field = $('#progressive [name=indices]');
  const picked = new Set(list(field.value));
  if (picked.has(index)) {
    picked.delete(index);
  } else {
    picked.add(index);
  }
  field.value = [...picked].join(', ');
  markPicked();
}

function markPicked() {
  const picked = new Set(list($('#progressive [name=indices]').value));
  $$('#progressive .thumbs img').forEach(img => img.classList.toggle('picked', picked.has(Number(img.dataset.index))));
}

// ---- submitting ----------------------------------------------------------------------------------------------------

/** A number field's value, or undefined when empty (so the server applies its default). */
function number(input) {
  return input.value.trim() === '' ? undefined : Number(input.value);
}

/** "1000, 500 0" as [1000, 500, 0]; a word that is not a number is sent as typed, for the server to name. */
function list(text) {
  return text.split(/[\s,]+/).filter(Boolean).map(s => (Number.isNaN(Number(s)) ? s : Number(s)));
}

function base64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',')[1]);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** The {@code input} of a progressive or rate-distortion request: test images, or the uploaded PNGs. */
async function input(form, selection) {
  if (form.source.value === 'upload') {
    return { images: await Promise.all([...form.images.files].map(base64)) };
  }
  return { dataset: 'fashion-mnist:test', ...selection };
}

const requests = {
  generate: async f => {
    const perClass = number(f.perClass);
    return {
      type: 'generate', model: $('#model').value, sampler: f.sampler.value, steps: number(f.steps),
      count: perClass === undefined ? number(f.count) : undefined, perClass,
      class: f.class.value === '' ? undefined : Number(f.class.value), guidance: number(f.guidance),
      guidanceStart: number(f.guidanceStart), guidanceStop: number(f.guidanceStop),
      seed: number(f.seed), checkpointEvery: number(f.checkpointEvery),
      outputs: $$('input[name=outputs]:checked', f).map(box => box.value),
    };
  },
  progressive: async f => ({
    type: 'progressive', model: $('#model').value, input: await input(f, { indices: list(f.indices.value) }),
    timesteps: list(f.timesteps.value), samplesPerTimestep: number(f.samplesPerTimestep), seed: number(f.seed),
  }),
  'rate-distortion': async f => ({
    type: 'rate-distortion', model: $('#model').value, input: await input(f, { count: number(f.count) }),
    timesteps: f.timesteps.value.trim() === 'all' ? 'all' : list(f.timesteps.value), seed: number(f.seed),
  }),
};

async function submit(form) {
  const button = $('button[type=submit]', form);
  button.disabled = true;
  try {
    const job = await api('POST', '/v1/jobs', await requests[form.dataset.type](form));
    clearErrors(form);
    openJob(job);
    await refreshJobs();
  } catch (e) {
    showProblem(form, e instanceof ApiError ? e : new ApiError(0, { detail: e.message }));
  } finally {
    button.disabled = false;
  }
}

// ---- one job, live -------------------------------------------------------------------------------------------------

function openJob(job) {
  if (state.socket) state.socket.close();
  state.job = job;
  state.seq = 0;
  state.resultsShown = false;
  location.hash = `job=${job.id}`;
  $('#job').hidden = false;
  $('#job-title').textContent = `${job.type} ${job.id}`;
  $('#job-title').title = JSON.stringify(job.request);
  $('#job-error').textContent = job.error || '';
  $('#frames').hidden = true;
  $('#filmstrip').replaceChildren();
  $('#result').hidden = true;
  setStatus(job.status);
  setProgress(job.progress);
  follow(job);
}

/**
 * Follows the job's WebSocket from the first event; reconnects with ?since= until the job has finished, as long as
 * the page still uses the key the job was opened with: after 1 s, and twice as long (up to 30 s) after each
 * connection that brought nothing (a gateway away, a key revoked).
 */
function follow(job, key = state.key, wait = 1000) {
  const url = `${location.origin.replace(/^http/, 'ws')}${job.links.events}?since=${state.seq}`;
  const socket = new WebSocket(url, ['farm', `bearer.${key}`]);
  let received = false;
  state.socket = socket;
  socket.onmessage = message => {
    received = true;
    onEvent(job, JSON.parse(message.data));
  };
  socket.onclose = () => {
    if (state.socket === socket && key === state.key && !TERMINAL.includes($('#job-status').textContent)) {
      const delay = received ? 1000 : wait;
      setTimeout(() => state.socket === socket && key === state.key && follow(job, key, Math.min(2 * delay, 30000)),
        delay);
    }
  };
}

function onEvent(job, event) {
  if (job !== state.job) return;
  state.seq = Math.max(state.seq, event.seq);
  switch (event.type) {
    case 'status':
      setStatus(event.status);
      if (TERMINAL.includes(event.status)) finished(job);
      break;
    case 'progress':
      setProgress({ ...job.progress, ...event });
      break;
    case 'frame':
      addFrame(event);
      break;
    case 'result':
      showResults(job);
      break;
    case 'error':
      $('#job-error').textContent = event.message;
      break;
    default:
  }
}

/** A finished job: its final progress from the job document, and what it stored. */
async function finished(job) {
  try {
    const doc = await api('GET', job.links.self);
    if (job === state.job) setProgress(doc.progress);
  } catch {
    // the stream has told the status already; the progress line keeps the last event's numbers
  }
  showResults(job);
}

function setStatus(status) {
  const el = $('#job-status');
  el.textContent = status;
  el.className = `status s-${status}`;
}

function setProgress(p) {
  const share = p.totalSteps ? p.step / p.totalSteps : 0;
  $('#job-bar').style.width = `${(100 * share).toFixed(1)}%`;
  $('#job-progress').textContent = `step ${Math.round(p.step)} of ${p.totalSteps || '?'}`
    + (p.t !== undefined ? ` · t = ${p.t}` : '') + ` · ${p.samplesDone} of ${p.count} done`;
}

/** Shows a frame once both of its images have loaded, and keeps a thumbnail of it in the filmstrip. */
function addFrame(event) {
  const load = src => new Promise(resolve => {
    const img = new Image();
    img.onload = () => resolve(src);
    img.onerror = () => resolve(null);
    img.src = src;
  });
  Promise.all([load(event.xt), load(event.x0)]).then(([xt, x0]) => {
    if (!xt || !x0) return;
    const show = () => {
      $('#frame-xt').src = xt;
      $('#frame-x0').src = x0;
      $('#frame-t').textContent = `step ${event.step}, t = ${event.t}`;
      $$('#filmstrip img').forEach(img => img.classList.toggle('current', img.dataset.step === String(event.step)));
    };
    const thumb = Object.assign(new Image(), { src: x0, title: `step ${event.step}, t = ${event.t}` });
    thumb.dataset.step = event.step;
    thumb.onclick = show;
    $('#filmstrip').append(thumb);
    $('#frames').hidden = false;
    show();
  });
}

// answers that arrive after another job was opened are dropped
async function showResults(job) {
  if (job !== state.job || state.resultsShown) return;
  state.resultsShown = true;
  let manifest;
  try {
    manifest = await api('GET', job.links.results);
  } catch {
    if (job === state.job) state.resultsShown = false; // nothing stored (yet): a later event asks again
    return;
  }
  if (job !== state.job) return;
  const files = manifest.files.slice().sort((a, b) => rank(a.path) - rank(b.path) || a.path.localeCompare(b.path));
  const shown = files.filter(f => f.path === 'grid.png' || /^progressive\/\d+\.png$/.test(f.path));
  $('#images').replaceChildren(...shown.map(f => figure(f.url, caption(job, f.path))));
  const MAX_LISTED = 40;
  $('#files').replaceChildren(...files.slice(0, MAX_LISTED).map(f => {
    const a = Object.assign(document.createElement('a'), { href: f.url, textContent: f.path });
    a.download = f.path.split('/').pop();
    const li = document.createElement('li');
    li.append(a, ` ${size(f.size)}`);
    return li;
  }), ...(files.length > MAX_LISTED ? [Object.assign(document.createElement('li'),
    { textContent: `… and ${files.length - MAX_LISTED} more (scripts/farm get ${job.id} downloads every file)` })] : []));
  $('#nll').textContent = '';
  $('#rd-chart').replaceChildren();
  if (files.some(f => f.path === 'rd.json')) {
    const rd = await api('GET', `/v1/jobs/${job.id}/files/rd.json`);
    if (job !== state.job) return;
    $('#nll').textContent = `NLL ${rd.nllBitsPerDim.toFixed(3)} bits/dim over ${rd.images} images `
      + `(prior L_T ${rd.priorBitsPerDim.toFixed(4)}, decoder L_0 ${rd.decoderBitsPerDim.toFixed(3)})`;
    drawRateDistortion(rd);
  }
  $('#result').hidden = false;
}

/** Datasets and figures first, single sample PNGs last. */
function rank(path) {
  return path.startsWith('samples/') ? 2 : path.endsWith('.json') || path.endsWith('.csv') ? 1 : 0;
}

/** What a result image shows; a progressive grid has one row per t and fixed columns. */
function caption(job, path) {
  if (!path.startsWith('progressive/')) return path;
  const r = job.request;
  return `${path}: one row per t (${r.timesteps.join(', ')}); x_t, x̂_0, `
    + `${r.samplesPerTimestep} reconstructions from x_t, the original`;
}

function figure(src, caption) {
  const f = document.createElement('figure');
  f.append(Object.assign(new Image(), { src, alt: caption }),
    Object.assign(document.createElement('figcaption'), { textContent: caption }));
  return f;
}

function size(bytes) {
  return bytes < 1024 ? `${bytes} B` : bytes < 1 << 20 ? `${(bytes / 1024).toFixed(1)} KiB`
    : `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

// ---- the rate-distortion curves (paper Figure 5) -------------------------------------------------------------------

/** Rate and distortion against t, and distortion against rate; hovering any of them marks the same t in all three. */
function drawRateDistortion(rd) {
  const rows = rd.rows.slice().sort((a, b) => b.t - a.t);
  const rate = r => r.rateBitsPerDim;
  const rmse = r => r.rmse255;
  const t = r => r.t;
  const panels = [
    { title: 'Distortion (RMSE, 0–255) against t', x: t, y: rmse, xLabel: 't', reverse: true },
    { title: 'Rate (bits/dim) against t', x: t, y: rate, xLabel: 't', reverse: true },
    { title: 'Distortion against rate', x: rate, y: rmse, xLabel: 'rate (bits/dim)' },
  ].map(p => panel(p, rows));
  const tip = Object.assign(document.createElement('div'), { className: 'tip', hidden: true });
  const mark = (i, event) => {
    panels.forEach(p => p.mark(i));
    const r = rows[i];
    tip.textContent = `t = ${r.t} · rate ${r.rateBitsPerDim.toFixed(4)} bits/dim · RMSE ${r.rmse255.toFixed(2)}`;
    tip.hidden = false;
    tip.style.left = `${event.pageX + 12}px`;
    tip.style.top = `${event.pageY + 12}px`;
  };
  panels.forEach(p => {
    p.svg.addEventListener('mousemove', event => mark(p.nearest(event), event));
    p.svg.addEventListener('mouseleave', () => { tip.hidden = true; panels.forEach(q => q.mark(-1)); });
  });
  $('#rd-chart').replaceChildren(...panels.map(p => p.svg), tip);
}

function panel({ title, x, y, xLabel, reverse }, rows) {
  const W = 330; const H = 230; const L = 48; const R = 12; const T = 24; const B = 36;
  const xs = rows.map(x); const ys = rows.map(y);
  const [x0, x1] = extent(xs); const [y0, y1] = extent(ys);
  const px = v => (reverse ? W - R - ((v - x0) / (x1 - x0)) * (W - L - R) : L + ((v - x0) / (x1 - x0)) * (W - L - R));
  const py = v => H - B - ((v - y0) / (y1 - y0)) * (H - T - B);
  const svg = element('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, class: 'chart' });
  element('text', { x: L, y: 15, class: 'title' }, svg).textContent = title;
  for (const v of ticks(x0, x1)) {
    element('line', { x1: px(v), x2: px(v), y1: T, y2: H - B, class: 'grid' }, svg);
    element('text', { x: px(v), y: H - B + 14, 'text-anchor': 'middle' }, svg).textContent = label(v);
  }
  for (const v of ticks(y0, y1)) {
    element('line', { x1: L, x2: W - R, y1: py(v), y2: py(v), class: 'grid' }, svg);
    element('text', { x: L - 4, y: py(v) + 4, 'text-anchor': 'end' }, svg).textContent = label(v);
  }
  element('text', { x: (L + W - R) / 2, y: H - 4, 'text-anchor': 'middle' }, svg).textContent = xLabel;
  const points = rows.map(r => [px(x(r)), py(y(r))]);
  element('polyline', { points: points.map(p => p.join(',')).join(' '), class: 'curve' }, svg);
  const dot = element('circle', { r: 4, class: 'dot', visibility: 'hidden' }, svg);
  return {
    svg,
    mark(i) {
      dot.setAttribute('visibility', i < 0 ? 'hidden' : 'visible');
      if (i >= 0) {
        dot.setAttribute('cx', points[i][0]);
        dot.setAttribute('cy', points[i][1]);
      }
    },
    nearest(event) {
      const box = svg.getBoundingClientRect();
      const at = ((event.clientX - box.left) / box.width) * W;
      let best = 0;
      points.forEach((p, i) => { if (Math.abs(p[0] - at) < Math.abs(points[best][0] - at)) best = i; });
      return best;
    },
  };
}

function element(tag, attributes, parent) {
  const el = document.createElementNS(SVG, tag);
  Object.entries(attributes).forEach(([k, v]) => el.setAttribute(k, v));
  if (parent) parent.append(el);
  return el;
}

function extent(values) {
  const lo = Math.min(...values); const hi = Math.max(...values);
  return lo === hi ? [lo - 1, hi + 1] : [lo, hi];
}

/** About five round numbers between lo and hi. */
function ticks(lo, hi) {
  const raw = (hi - lo) / 5;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  const step = (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
  return out;
}

function label(v) {
  return Math.abs(v) >= 100 || Number.isInteger(v) ? String(Math.round(v)) : String(Number(v.toPrecision(3)));
}

// ---- the job list --------------------------------------------------------------------------------------------------

async function refreshJobs() {
  const used = state.key;
  if (!used) return;
  const asked = ++state.jobListAsked; // the list of the latest call only: answers may come out of order
  let page;
  try {
    page = await api('GET', '/v1/jobs?limit=50');
  } catch (e) {
    if (e.status === 401 && used === state.key) setFieldError(fieldFor($('header'), 'key'), 'this key was refused');
    return;
  }
  if (used === state.key && asked === state.jobListAsked) $('#job-rows').replaceChildren(...page.jobs.map(row));
}

function row(job) {
  const tr = document.createElement('tr');
  tr.dataset.job = job.id;
  const cell = (content, className) => {
    const td = document.createElement('td');
    if (className) td.className = className;
    td.append(content);
    tr.append(td);
    return td;
  };
  const share = job.progress.totalSteps ? job.progress.step / job.progress.totalSteps : 0;
  const open = Object.assign(document.createElement('a'), { href: `#job=${job.id}`, textContent: job.id.slice(-8) });
  open.title = job.id;
  open.onclick = event => { event.preventDefault(); openJob(job); };
  cell(open);
  cell(job.type);
  cell(Object.assign(document.createElement('span'), { className: `status s-${job.status}`, textContent: job.status }),
    'job-status');
  const bar = Object.assign(document.createElement('progress'), { max: 1, value: share });
  cell(bar).append(` ${Math.round(100 * share)}%`);
  cell(age(job.createdAt));
  const actions = cell('');
  if (!TERMINAL.includes(job.status)) {
    const cancel = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Cancel', className: 'cancel' });
    cancel.onclick = async () => {
      try {
        await api('DELETE', `/v1/jobs/${job.id}`);
      } catch (e) {
        actions.append(` ${e.message}`);
      }
      await refreshJobs();
    };
    actions.append(cancel);
  }
  return tr;
}

function age(iso) {
  const s = Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
  return s < 60 ? `${Math.round(s)} s` : s < 3600 ? `${Math.round(s / 60)} min`
    : s < 86400 ? `${Math.round(s / 3600)} h` : `${Math.round(s / 86400)} d`;
}

// ---- wiring --------------------------------------------------------------------------------------------------------

function start() {
  $('#key').value = state.key;
  $('#key-form').addEventListener('submit', event => { event.preventDefault(); useKey($('#key').value); });
  $('#model').addEventListener('change', () => { localStorage.setItem('farm.model', $('#model').value); fillClasses(); });
  for (const button of $$('#tabs button')) {
    button.addEventListener('click', () => {
      $$('#tabs button').forEach(b => b.classList.toggle('active', b === button));
      $$('form.job-form').forEach(f => { f.hidden = f.id !== button.dataset.tab; });
    });
  }
  for (const form of $$('form.job-form')) {
    form.addEventListener('submit', event => { event.preventDefault(); submit(form); });
  }
  $('#refresh').addEventListener('click', refreshJobs);
  $('#progressive .more').addEventListener('click', moreTestImages);
  $('#progressive [name=indices]').addEventListener('input', markPicked);
  setInterval(() => { if (!document.hidden) refreshJobs(); }, 2000);
  if (state.key) {
    useKey(state.key).then(async () => {
      const id = (location.hash.match(/^#job=(.+)$/) || [])[1];
      if (id) openJob(await api('GET', `/v1/jobs/${encodeURIComponent(id)}`));
    }).catch(() => {});
  }
}

start();
