// api.js: the console's JSON API as the page calls it.  The session: the
// one-time token in the URL's fragment is exchanged once for the session
// cookie (HttpOnly: the page never sees it) and the CSRF token, which every
// change sends back in X-Spotcheck-CSRF.  A failure is an ApiError with
// the console's {"error":{"status","reason","message"}}.

export class ApiError extends Error {
  constructor(http, error) {
    super(error.message || error.status || `HTTP ${http}`);
    this.http = http;
    this.status = error.status || '';
    this.reason = error.reason || '';
  }
}

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

// Start the session: exchange the fragment's token, or pick up the session of a reloaded page.
export async function startSession() {
  const m = /^#token=([0-9a-f]{64})$/.exec(location.hash);
  if (m) {
    history.replaceState(null, '', location.pathname + '#/review');
    const res = await fetch('/api/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ token: m[1] }),
      credentials: 'same-origin',
    });
    csrf = (await parse(res)).csrf;
    return;
  }
  csrf = (await get('/api/session')).csrf;
}

export async function get(path, params) {
  const q = params ? '?' + new URLSearchParams(params).toString() : '';
  return parse(await fetch(path + q, { credentials: 'same-origin' }));
}

export async function post(path, body) {
  return parse(
    await fetch(path, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Spotcheck-CSRF': csrf },
      body: JSON.stringify(body || {}),
      credentials: 'same-origin',
    }),
  );
}

// A download the console serves (a ledger): its bytes as a Blob, or the refusal as an ApiError.
export async function download(path, params) {
  const q = params ? '?' + new URLSearchParams(params).toString() : '';
  const res = await fetch(path + q, { credentials: 'same-origin' });
  if (!res.ok) await parse(res);
  return res.blob();
}

export function photoUrl(sha) {
  return '/api/photo/' + encodeURIComponent(sha);
}
