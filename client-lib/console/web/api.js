// api.js: the console's JSON API as the page calls it.  The session: the
// one-time token in the URL's fragment is exchanged once for the session and
// the CSRF token, which the page keeps in its origin's storage (this
// port's alone: a cookie would go to every port of 127.0.0.1, and so to a
// page another local user serves there).  Every API request sends the
// session in X-Spotcheck-Session; every change sends the CSRF token back in
// X-Spotcheck-CSRF.  Photos are fetched with the session too, and shown
// from blob: URLs.  A failure is an ApiError with the console's
// {"error":{"status","reason","message"}}.

export class ApiError extends Error {
  constructor(http, error) {
    super(error.message || error.status || `HTTP ${http}`);
    this.http = http;
    this.status = error.status || '';
    this.reason = error.reason || '';
  }
}

const KEY = 'spotcheck-console';
let session = '';
let csrf = '';

async function parse(res) {
  let body = null;
  try {
    body = await res.json();
  } catch (e) {
    throw new ApiError(res.status, { status: 'SC_ERR_PROTOCOL', message: `HTTP ${res.status}` });
  }
  if (!res.ok || (body && body.error)) throw new ApiError(res.status, (body && body.error) || {});
  return body;
}

function headers(extra) {
  return { 'X-Spotcheck-Session': session, ...(extra || {}) };
}

// Start the session: exchange the fragment's token, or pick up the session of a reloaded page
// (or of another tab of this console).
export async function startSession() {
  const m = /^#token=([0-9a-f]{64})$/.exec(location.hash);
  if (m) {
    history.replaceState(null, '', location.pathname + '#/review');
    const res = await fetch('/api/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: m[1] }),
      credentials: 'omit',
    });
    const got = await parse(res);
    session = got.session;
    csrf = got.csrf;
    localStorage.setItem(KEY, session);
    return;
  }
  session = localStorage.getItem(KEY) || '';
  csrf = (await get('/api/session')).csrf;
}

export async function get(path, params) {
  const q = params ? '?' + new URLSearchParams(params).toString() : '';
  return parse(await fetch(path + q, { headers: headers(), credentials: 'omit' }));
}

export async function post(path, body) {
  return parse(
    await fetch(path, {
      method: 'POST',
      headers: headers({ 'Content-Type': 'application/json', 'X-Spotcheck-CSRF': csrf }),
      body: JSON.stringify(body || {}),
      credentials: 'omit',
    }),
  );
}

// A download the console serves (a ledger, a photo): its bytes as a Blob, or the refusal as an
// ApiError.
export async function download(path, params) {
  const q = params ? '?' + new URLSearchParams(params).toString() : '';
  const res = await fetch(path + q, { headers: headers(), credentials: 'omit' });
  if (!res.ok) await parse(res);
  return res.blob();
}

// A photo as a blob: URL for an <img>.  Photos are named by their hash and never change, so
// each is fetched once; the oldest URLs are let go beyond PHOTOS_KEPT.
const PHOTOS_KEPT = 200;
const photos = new Map();

export function photoUrl(sha) {
  let url = photos.get(sha);
  if (url) {
    photos.delete(sha);
    photos.set(sha, url);
    return url;
  }
  url = download('/api/photo/' + encodeURIComponent(sha)).then((b) => URL.createObjectURL(b));
  url.catch(() => photos.delete(sha));
  photos.set(sha, url);
  for (const [k, u] of photos) {
    if (photos.size <= PHOTOS_KEPT) break;
    photos.delete(k);
    u.then((x) => URL.revokeObjectURL(x), () => {});
  }
  return url;
}
