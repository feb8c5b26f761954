// Client for the inbox handler's JSON and SSE API: the same API a host's
// own front end would use. Every method returns a promise; failures reject
// with an Error carrying the RFC 9457 problem (error.problem).

export class InboxClient {
  /** @param {string} base URL the handler is mounted at ("/inbox"). */
  constructor(base) {
    this.base = base.replace(/\/$/, '');
  }

  async request(method, path, body, headers = {}) {
    const init = { method, headers: { Accept: 'application/json', ...headers }, credentials: 'same-origin' };
    if (body !== undefined) {
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    const res = await fetch(this.base + path, init);
    const text = await res.text();
    const data = text ? JSON.parse(text) : null;
    if (!res.ok) {
      const err = new Error((data && (data.detail || data.title)) || res.statusText);
      err.problem = data;
      err.status = res.status;
      throw err;
    }
    return data;
  }

  me() { return this.request('GET', '/api/me'); }
  threads(filter, cursor, limit) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(filter)) if (v) q.set(k, v);
    if (cursor) q.set('cursor', cursor);
    if (limit) q.set('limit', String(limit));
    return this.request('GET', '/api/threads?' + q);
  }
  thread(id) { return this.request('GET', `/api/threads/${enc(id)}`); }
  messages(id, cursor) {
    const q = new URLSearchParams({ newest: 'true', limit: '30' });
    if (cursor) q.set('cursor', cursor);
    return this.request('GET', `/api/threads/${enc(id)}/messages?` + q);
  }
  message(id) { return this.request('GET', `/api/messages/${enc(id)}`); }
  deliveries(id) { return this.request('GET', `/api/messages/${enc(id)}/deliveries?limit=100`); }
  details(id) { return this.request('GET', `/api/threads/${enc(id)}/details`); }
  composer(id) { return this.request('GET', `/api/threads/${enc(id)}/composer`); }
  counters() { return this.request('GET', '/api/counters'); }
  action(id, name, body) { return this.request('POST', `/api/threads/${enc(id)}/${name}`, body); }
  bulk(name) { return this.request('POST', `/api/threads/${name}`); }
  typing(id) { return this.request('POST', `/api/threads/${enc(id)}/typing`); }
  preflight(id, draft) { return this.request('POST', `/api/threads/${enc(id)}/preflight`, draft); }
  send(id, draft, key) {
    return this.request('POST', `/api/threads/${enc(id)}/messages`, draft, { 'Idempotency-Key': key });
  }
  cancel(messageId) { return this.request('POST', `/api/messages/${enc(messageId)}/cancel`); }
  markMessageUnread(messageId) { return this.request('POST', `/api/messages/${enc(messageId)}/unread`); }

  /**
   * Opens the event stream. onEvent(type, data) gets every event; the
   * browser reconnects by itself with Last-Event-ID.
   */
  events(types, onEvent, onState) {
    const es = new EventSource(this.base + '/api/events', { withCredentials: true });
    for (const t of types) es.addEventListener(t, (ev) => onEvent(t, JSON.parse(ev.data)));
    es.onopen = () => onState && onState(true);
    es.onerror = () => onState && onState(false);
    return es;
  }
}

const enc = encodeURIComponent;

/** A new random Idempotency-Key. */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}
