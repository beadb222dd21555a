/*! activenow (docs/tracking.md): data-account data-token data-heartbeat data-respect-dnt; identify(id|null) */
(() => {
  // Every entry point is wrapped: the page never sees an exception of ours.
  const safe =
    (f) =>
    (...a) => {
      try {
        return f(...a);
      } catch (_) {}
    };
  safe(() => {
    const w = window;
    const d = document;
    const n = navigator;
    const queued = w.activenow;
    if (queued && queued.identify) return; // loaded twice: the first copy runs
    const api = { identify() {} };
    w.activenow = api;

    const script = d.currentScript || d.querySelector('script[data-account][data-token]');
    const cfg = (script && script.dataset) || {};
    const { account, token } = cfg;
    if (!account || !token || !script.src)
      return console.warn('activenow: data-account and data-token needed');
    if (cfg.respectDnt !== undefined && (n.doNotTrack === '1' || n.globalPrivacyControl === true)) return;
    const endpoint = new URL('/1/collect', script.src).href;
    const hb = +(cfg.heartbeat || 60);
    const every = hb >= 0 ? (hb && Math.max(hb, 5)) * 1e3 : 6e4;

    // Storage that is blocked or throws (private modes, sandboxed frames) reads as empty: what we
    // keep then lasts as long as the page.
    const read = safe((s, k) => w[s].getItem(k));
    const write = safe((s, k, v) => (v ? w[s].setItem(k, v) : w[s].removeItem(k)));
    const c = w.crypto;
    let anon = read('localStorage', 'activenow:uid');
    if (!anon) {
      anon =
        c && c.randomUUID
          ? c.randomUUID()
          : 'xxxxxxxx-xxxx-4xxx-xxxx-xxxxxxxxxxxx'.replace(/x/g, () =>
              ((Math.random() * 16) | 0).toString(16),
            );
      write('localStorage', 'activenow:uid', anon);
    }
    let user = read('localStorage', 'activenow:user');

    // The visit's attribution (landing page and referrer), kept for the tab so that later pages of
    // the site do not read as self-referrals; an outside referrer or a tagged landing page starts a
    // new one. A referrer that is not a URL counts as none (the server ignores it too).
    const ref = d.referrer || '';
    let visit = safe(() => JSON.parse(read('sessionStorage', 'activenow:visit')))();
    if (
      !visit ||
      safe(() => new URL(ref).host !== location.host)() ||
      /[?&](utm_|gclid|gbraid|wbraid|msclkid|fbclid)/.test(location.search)
    ) {
      // Cut so the body stays well under the 4 KiB the server accepts.
      visit = { url: location.href.slice(0, 1500), referrer: ref.slice(0, 1500) };
      write('sessionStorage', 'activenow:visit', JSON.stringify(visit));
    }

    let lastUrl;
    let timer;
    let lastHit = 0;
    const schedule = (ms) => {
      clearTimeout(timer);
      if (every && !d.hidden) timer = setTimeout(safe(send), ms, 'heartbeat');
    };
    const send = (kind) => {
      lastHit = Date.now();
      schedule(every);
      const body = JSON.stringify({
        account,
        token,
        user: user || anon,
        url: visit.url,
        referrer: visit.referrer,
        page: location.pathname.slice(0, 1500),
        kind,
      });
      try {
        if (n.sendBeacon(endpoint, new Blob([body], { type: 'text/plain' }))) return;
      } catch (_) {}
      fetch(endpoint, {
        method: 'POST',
        body,
        keepalive: true,
        headers: { 'Content-Type': 'text/plain' },
        credentials: 'omit',
      }).catch(() => {});
    };
    const pageview = safe(() => {
      if (location.href === lastUrl) return;
      lastUrl = location.href;
      send('pageview');
    });

    api.identify = safe((id) => {
      user = id === null || id === undefined || id === '' ? undefined : String(id);
      write('localStorage', 'activenow:user', user);
    });
    if (Array.isArray(queued)) for (const call of queued) safe(() => api[call[0]](...call.slice(1)))();

    const h = w.history;
    for (const name of ['pushState', 'replaceState']) {
      const original = h[name];
      if (typeof original === 'function')
        h[name] = function (...a) {
          const result = original.apply(this, a);
          pageview();
          return result;
        };
    }
    w.addEventListener('popstate', pageview);
    // No beats while hidden; back in view, one beat at once if one was missed, then the usual rhythm.
    d.addEventListener(
      'visibilitychange',
      safe(() => {
        const since = Date.now() - lastHit;
        if (!every || d.hidden) clearTimeout(timer);
        else if (since >= every) send('heartbeat');
        else schedule(every - since);
      }),
    );
    // A prerendered page is not a visit until it is shown.
    if (d.prerendering) d.addEventListener('prerenderingchange', pageview, { once: true });
    else pageview();
  })();
})();
