/*! activenow live dashboard (docs/api.md: GET /dashboard): POST /1/now/token, then GET /1/now/stream?token= */
(() => {
  const d = document;
  const $ = (id) => d.getElementById(id);
  const SVG = 'http://www.w3.org/2000/svg';
  const KEY = 'activenow:dashboard';
  const SPLITS = ['session_source', 'browser', 'os', 'device', 'page', 'event', 'country', 'app_version'];
  const SPLIT_NAMES = {
    session_source: 'Source',
    browser: 'Browser',
    os: 'OS',
    device: 'Device',
    page: 'Page',
    event: 'Event',
    country: 'Country',
    app_version: 'App version',
  };
  /** Bars per split; the rest are summed into one "Other values" bar. */
  const TOP = 7;
  /** A token is renewed (and the stream reopened with it) this long before it expires. */
  const RENEW_EARLY_S = 30;
  const MAX_RETRY_MS = 30000;

  const form = $('sign-in');
  const live = $('live');
  const error = $('error');
  const statusLine = $('status');
  const signOutButton = $('sign-out');
  const submit = form.querySelector('button[type="submit"]');

  /** { account, passcode } while signed in: in sessionStorage (this tab only), never in the URL. */
  let creds = null;
  let signedIn = false;
  let source = null;
  let renewTimer = 0;
  let retryTimer = 0;
  let retryMs = 1000;
  /** Bumped by every (re)connect and sign-out: callbacks of an older attempt do nothing. */
  let generation = 0;
  /**
   * What the view is restricted to: dimension → the one value clicked (the stream's `filter`,
   * docs/api.md#filter). Clicking a value again, or its chip, takes it away.
   */
  let filter = {};

  const load = () => {
    try {
      const c = JSON.parse(sessionStorage.getItem(KEY));
      return c && typeof c.account === 'string' && typeof c.passcode === 'string' ? c : null;
    } catch (_) {
      return null;
    }
  };
  const save = (c) => {
    try {
      if (c) sessionStorage.setItem(KEY, JSON.stringify(c));
      else sessionStorage.removeItem(KEY);
    } catch (_) {}
  };

  const setStatus = (text, warn) => {
    statusLine.textContent = text;
    statusLine.classList.toggle('warn', !!warn);
  };

  const svg = (name, attrs) => {
    const el = d.createElementNS(SVG, name);
    for (const k of Object.keys(attrs)) el.setAttribute(k, String(attrs[k]));
    return el;
  };
  const fmt = (n) => Number(n).toLocaleString('en-US');

  const credentialHeaders = (c) => ({
    'X-CleverTap-Account-Id': c.account,
    'X-CleverTap-Passcode': c.passcode,
  });

  async function requestToken(c) {
    const response = await fetch('/1/now/token', {
      method: 'POST',
      headers: credentialHeaders(c),
      cache: 'no-store',
      credentials: 'omit',
    });
    let body = null;
    try {
      body = await response.json();
    } catch (_) {}
    if (!response.ok || !body || body.status !== 'success' || typeof body.token !== 'string') {
      const failure = new Error((body && body.error) || `The server answered ${response.status}`);
      failure.status = response.status;
      throw failure;
    }
    return body;
  }

  /** The server's reason when it refuses this view's filter (400, 501), or '' when it answers. */
  async function filterRefusal(c) {
    try {
      const response = await fetch('/1/now.json', {
        method: 'POST',
        headers: Object.assign(credentialHeaders(c), { 'Content-Type': 'application/json' }),
        body: JSON.stringify({ filter }),
        cache: 'no-store',
        credentials: 'omit',
      });
      if (response.status !== 400 && response.status !== 501) return '';
      const body = await response.json();
      return `Cannot filter: ${(body && body.error) || response.status}`;
    } catch (_) {
      // Unreachable: the stream finds out and reconnects.
      return '';
    }
  }

  function stop() {
    generation++;
    clearTimeout(renewTimer);
    clearTimeout(retryTimer);
    if (source) source.close();
    source = null;
  }

  function retryLater() {
    clearTimeout(retryTimer);
    retryTimer = setTimeout(connect, retryMs);
    retryMs = Math.min(retryMs * 2, MAX_RETRY_MS);
  }

  /** A fresh token, then a stream opened with it; the previous stream (if any) is closed. */
  async function connect() {
    clearTimeout(renewTimer);
    clearTimeout(retryTimer);
    const g = ++generation;
    let answer;
    try {
      answer = await requestToken(creds);
    } catch (failure) {
      if (g !== generation) return;
      if (!signedIn) return showSignIn(failure.message);
      // Credentials refused (passcode revoked, account deleted): back to the form.
      if (failure.status === 401 || failure.status === 403) return signOut(failure.message);
      setStatus('reconnecting…', true);
      return retryLater();
    }
    if (g !== generation) return;
    if (Object.keys(filter).length > 0) {
      // A store that cannot filter refuses the stream, which EventSource cannot tell from a dropped
      // one: ask now.json once, and on a refusal show why and go back to every user.
      const problem = await filterRefusal(creds);
      if (g !== generation) return;
      if (problem) setFilter({}, false);
      $('filter-error').textContent = problem;
    }
    if (source) source.close();
    const filterParameter =
      Object.keys(filter).length === 0 ? '' : `&filter=${encodeURIComponent(JSON.stringify(filter))}`;
    const stream = new EventSource(
      `/1/now/stream?token=${encodeURIComponent(answer.token)}${filterParameter}`,
    );
    source = stream;
    stream.onmessage = (event) => {
      if (g !== generation) return;
      retryMs = 1000;
      setStatus('live');
      try {
        render(JSON.parse(event.data));
      } catch (_) {}
    };
    stream.onerror = () => {
      if (g !== generation) return;
      setStatus('reconnecting…', true);
      // CONNECTING: EventSource retries by itself. CLOSED: refused (token expired, too many streams):
      // a new token, after a growing pause.
      if (stream.readyState === EventSource.CLOSED) retryLater();
    };
    const ttl = Number(answer.expires_in) || 300;
    renewTimer = setTimeout(connect, Math.max(5, ttl - RENEW_EARLY_S) * 1000);
    if (!signedIn) {
      signedIn = true;
      save(creds);
      form.hidden = true;
      live.hidden = false;
      signOutButton.hidden = false;
      setStatus('connecting…');
      submit.disabled = false;
    }
  }

  function showSignIn(message) {
    signedIn = false;
    creds = null;
    live.hidden = true;
    signOutButton.hidden = true;
    form.hidden = false;
    submit.disabled = false;
    error.textContent = message || '';
    setStatus('');
    d.title = 'activenow — live';
  }

  function signOut(message) {
    stop();
    save(null);
    setFilter({}, false);
    form.elements.passcode.value = '';
    showSignIn(message);
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const account = form.elements.account.value.trim();
    const passcode = form.elements.passcode.value;
    if (!account || !passcode) return;
    stop();
    creds = { account, passcode };
    error.textContent = '';
    submit.disabled = true;
    setStatus('signing in…');
    connect();
  });
  signOutButton.addEventListener('click', () => signOut(''));
  $('clear-filters').addEventListener('click', () => setFilter({}, true));

  /** Shows `next` as chips and, when `reconnect`, streams the view it restricts to. */
  function setFilter(next, reconnect) {
    filter = next;
    const chips = Object.keys(filter).map((dim) => {
      const chip = d.createElement('button');
      chip.type = 'button';
      chip.className = 'chip';
      const value = filter[dim][0];
      chip.textContent = `${SPLIT_NAMES[dim]}: ${valueLabel(dim, value)} ×`;
      chip.title = 'Remove this filter';
      chip.addEventListener('click', () => toggleFilter(dim, value));
      return chip;
    });
    $('filter-list').replaceChildren(...chips);
    $('filters').hidden = chips.length === 0;
    $('now-title').textContent = chips.length === 0 ? 'Active users now' : 'Matching users now';
    if (reconnect && signedIn) {
      setStatus('connecting…');
      connect();
    }
  }

  /** Restricts the view to users with `value` of `dim`, or lifts that restriction if it is on. */
  function toggleFilter(dim, value) {
    const next = Object.assign({}, filter);
    if (next[dim] && next[dim][0] === value) delete next[dim];
    else next[dim] = [value];
    setFilter(next, true);
  }

  function render(data) {
    const count = Number(data.count) || 0;
    $('count').textContent = fmt(count);
    d.title = `${fmt(count)} active — activenow`;
    $('bots-count').textContent = fmt(Number(data.bots) || 0);
    renderUsers(data.user_type || { new: 0, returning: 0 }, count);
    for (const dim of SPLITS) renderBars($(dim), data[dim] || {}, count, dim);
    // A store that does not count events (redis, docs/api.md#event) streams no event split.
    $('event-card').hidden = data.event === undefined;
    renderTimeline(data.timeline || []);
  }

  function renderUsers(userType, count) {
    $('new-count').textContent = fmt(userType.new);
    $('returning-count').textContent = fmt(userType.returning);
    const bar = $('users-bar');
    bar.textContent = '';
    if (count <= 0) return;
    const w = (userType.new / count) * 100;
    bar.appendChild(svg('rect', { class: 'new', x: 0, y: 0, width: w, height: 8 }));
    bar.appendChild(svg('rect', { class: 'returning', x: w, y: 0, width: 100 - w, height: 8 }));
  }

  /**
   * A country's name and code ("India (IN)"), in the browser's language; Unknown and Other as they
   * are. Names, not flags: flag emoji are letters on Windows and boxes where no emoji font is.
   */
  const regionNames =
    typeof Intl.DisplayNames === 'function' ? new Intl.DisplayNames([], { type: 'region' }) : null;
  const countryLabel = (code) => {
    if (!/^[A-Z]{2}$/.test(code) || !regionNames) return code;
    const name = regionNames.of(code);
    return name && name !== code ? `${name} (${code})` : code;
  };
  /** A value as the page shows it: countries by name, the others as they are. */
  const valueLabel = (dim, value) => (dim === 'country' ? countryLabel(value) : value);

  /**
   * One bar per value, as a share of all active users, most users first. The server sends them in
   * that order, but an object's integer-like keys (an app version "6") come first whatever their
   * place, so the order is made again here.
   */
  function renderBars(list, split, count, dim) {
    let entries = Object.keys(split)
      .map((k) => [k, split[k]])
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    let folded = '';
    if (entries.length > TOP) {
      const rest = entries.slice(TOP - 1).reduce((sum, e) => sum + e[1], 0);
      folded = `${entries.length - TOP + 1} other values`;
      entries = entries.slice(0, TOP - 1).concat([[folded, rest]]);
    }
    const items = entries.map(([value, n]) => {
      const li = d.createElement('li');
      li.dataset.value = value;
      // A value can filter the whole view. Not the bar summing the values left out, nor Other: in a
      // stream event it also holds the values beyond the event's top 100, which no filter names.
      if (value !== folded && value !== 'Other') {
        li.setAttribute('role', 'button');
        li.tabIndex = 0;
        li.setAttribute('aria-pressed', String(!!filter[dim] && filter[dim][0] === value));
        li.title =
          dim === 'event'
            ? 'Show only users who did this event'
            : `Show only users with this ${SPLIT_NAMES[dim].toLowerCase()}`;
        li.addEventListener('click', () => toggleFilter(dim, value));
        li.addEventListener('keydown', (event) => {
          if (event.key !== 'Enter' && event.key !== ' ') return;
          event.preventDefault();
          toggleFilter(dim, value);
        });
      }
      const label = d.createElement('span');
      label.className = 'label';
      label.textContent = valueLabel(dim, value);
      label.title = value;
      const num = d.createElement('span');
      num.className = 'value';
      num.textContent = fmt(n);
      const bar = svg('svg', { viewBox: '0 0 100 8', preserveAspectRatio: 'none', 'aria-hidden': 'true' });
      bar.appendChild(svg('rect', { class: 'track', x: 0, y: 0, width: 100, height: 8, rx: 2 }));
      const share = count > 0 ? Math.max((n / count) * 100, 0.5) : 0;
      bar.appendChild(svg('rect', { class: 'bar', x: 0, y: 0, width: share, height: 8, rx: 2 }));
      li.append(label, num, bar);
      return li;
    });
    if (items.length === 0) {
      const li = d.createElement('li');
      const empty = d.createElement('span');
      empty.className = 'empty';
      empty.textContent = 'No active users';
      li.appendChild(empty);
      items.push(li);
    }
    list.replaceChildren(...items);
  }

  /** A line of users per minute, oldest first, scaled to a round maximum. */
  function renderTimeline(points) {
    const chart = $('timeline');
    const counts = points.map((p) => Number(p.count) || 0);
    let max = Math.max(1, ...counts);
    const step = 10 ** Math.floor(Math.log10(max));
    max = Math.ceil(max / step) * step;
    const n = counts.length;
    const x = (i) => (n > 1 ? (i / (n - 1)) * 300 : 0);
    const y = (c) => 98 - (c / max) * 92;
    const line = counts.map((c, i) => `${x(i).toFixed(1)},${y(c).toFixed(1)}`).join(' ');
    const nodes = [
      svg('line', { class: 'grid-line', x1: 0, x2: 300, y1: y(max), y2: y(max) }),
      svg('line', { class: 'grid-line', x1: 0, x2: 300, y1: y(max / 2), y2: y(max / 2) }),
      svg('line', { class: 'grid-line', x1: 0, x2: 300, y1: y(0), y2: y(0) }),
    ];
    if (n > 0) {
      nodes.push(svg('polygon', { class: 'area', points: `0,${y(0)} ${line} ${x(n - 1)},${y(0)}` }));
      nodes.push(svg('polyline', { class: 'stroke', points: line }));
    }
    chart.replaceChildren(...nodes);
    const latest = n > 0 ? counts[n - 1] : 0;
    chart.setAttribute(
      'aria-label',
      `Active users per minute, last ${n} minutes: peak ${fmt(Math.max(0, ...counts))}, this minute ${fmt(latest)}`,
    );
    $('timeline-max').textContent = `max ${fmt(max)}`;
    $('timeline-start').textContent = `−${n} min`;
  }

  creds = load();
  if (creds) {
    form.elements.account.value = creds.account;
    setStatus('signing in…');
    connect();
  } else {
    showSignIn('');
  }
})();
