// <parley-inbox>: the three-pane web inbox (thread list, conversation,
// details) as a custom element. Plain ES modules, no build step. It talks
// only to the inbox handler's public JSON and SSE API.
//
//   <script type="module" src="/inbox/ui/parley-inbox.js"></script>
//   <parley-inbox api="/inbox" lang="fr"></parley-inbox>
//
// Attributes: api (where the handler is mounted; default: two levels
// above this module), lang (en or fr; default: the page's language).

import { InboxClient, newKey } from './api.js';
import { pickLang, translator } from './i18n.js';

const EVENT_TYPES = ['ready', 'resync', 'message-received', 'message-sent', 'status-changed', 'thread-started',
  'thread-read', 'thread-changed', 'assigned', 'typing', 'typing-stopped', 'opted-out', 'opted-in'];
const KIND_ICONS = { email: '✉', sms: '💬', mms: '🖼', push: '🔔', whatsapp: '🟢', airbnb: '🏠' };

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

function debounce(fn, ms) {
  let t;
  return (...a) => { clearTimeout(t); t = setTimeout(() => fn(...a), ms); };
}

export class ParleyInbox extends HTMLElement {
  connectedCallback() {
    if (this.started) return;
    this.started = true;
    const base = this.getAttribute('api') || new URL('..', import.meta.url).pathname;
    this.api = new InboxClient(base);
    this.lang = pickLang(this.getAttribute('lang'));
    this.t = translator(this.lang);
    const locale = this.lang === 'fr' ? 'fr-FR' : 'en-GB';
    this.fmt = new Intl.DateTimeFormat(locale, { dateStyle: 'short', timeStyle: 'short' });
    this.dayFmt = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone: 'UTC' });
    this.filter = { category: '', status: '', lifecycle: 'open', assignee: '', q: '' };
    this.threads = [];
    this.next = '';
    this.current = null;
    this.messages = [];
    this.typers = new Map();
    this.baseTitle = document.title;
    this.notify = false;
    this.render();
    this.refreshList = debounce(() => this.loadList(true), 120);
    this.runPreflight = debounce(() => this.preflight(), 200);
    this.start();
  }

  disconnectedCallback() {
    if (this.es) this.es.close();
    this.started = false;
  }

  async start() {
    try {
      this.me = await this.api.me();
    } catch (e) {
      this.showError(e);
      return;
    }
    // Open the stream first: its "ready" event marks where the state we
    // load next starts, so nothing between the two is missed.
    this.es = this.api.events(EVENT_TYPES, (type, data) => this.onEvent(type, data), (up) => {
      this.els.live.textContent = up ? this.t('live') : this.t('offline');
      this.els.live.dataset.up = String(up);
    });
    await Promise.all([this.loadList(true), this.loadCounters()]);
  }

  // ——— layout ———

  render() {
    const t = this.t;
    this.classList.add('pi');
    this.textContent = '';
    const opt = (v, label) => h('option', { value: v, text: label });
    const els = (this.els = {});
    els.search = h('input', { type: 'search', class: 'pi-search', placeholder: t('search'), 'aria-label': t('searchLabel'),
      'data-role': 'search', oninput: debounce(() => { this.filter.q = els.search.value; this.loadList(true); }, 200) });
    const sel = (name, label, options) => h('select', { 'aria-label': label, 'data-filter': name,
      onchange: (e) => { this.filter[name] = e.target.value; this.loadList(true); } },
    options.map(([v, l]) => opt(v, l)));
    els.category = sel('category', t('category'), [['', t('catAll')], ['contact', t('catContact')], ['audience', t('catAudience')], ['event', t('catEvent')]]);
    els.status = sel('status', t('status'), [['', t('stAll')], ['unread', t('stUnread')], ['favourites', t('stFavourites')], ['muted', t('stMuted')], ['archived', t('stArchived')]]);
    els.lifecycle = sel('lifecycle', t('lifecycle'), [['open', t('lcOpen')], ['closed', t('lcClosed')], ['any', t('lcAny')]]);
    els.assignee = sel('assignee', t('assignee'), [['', t('asAny')], ['me', t('asMe')], ['none', t('asNone')]]);
    els.badge = h('span', { class: 'pi-badge', 'data-role': 'attention', 'aria-live': 'polite' });
    els.live = h('span', { class: 'pi-live', role: 'status' });
    els.notifyBtn = h('button', { type: 'button', class: 'pi-btn', 'aria-pressed': 'false', text: '🔔 ' + t('notifications'),
      onclick: () => this.toggleNotifications() });
    els.bulk = h('details', { class: 'pi-menu' }, h('summary', { text: '⋯', 'aria-label': t('more') }),
      h('div', { class: 'pi-menu-items' },
        h('button', { type: 'button', class: 'pi-btn', text: t('markAllRead'), onclick: () => this.bulk('mark-all-read') }),
        h('button', { type: 'button', class: 'pi-btn', text: t('closeAllRead'), onclick: () => this.bulk('close-all-read') })));
    els.list = h('ul', { class: 'pi-list', role: 'listbox', 'aria-label': t('threads'), tabindex: '0', 'data-role': 'threads',
      onkeydown: (e) => this.listKey(e) });
    els.sentinel = h('li', { class: 'pi-sentinel', 'aria-hidden': 'true' });
    els.listPane = h('section', { class: 'pi-pane pi-threads', 'aria-label': t('threads') },
      h('header', { class: 'pi-head' }, h('h2', { text: t('inbox') }), els.badge, els.live, els.bulk),
      h('div', { class: 'pi-filters' }, els.search, els.category, els.status, els.lifecycle, els.assignee, els.notifyBtn),
      els.list);
    els.conv = h('section', { class: 'pi-pane pi-conv', 'aria-label': t('conversation'), 'data-role': 'conversation' },
      h('p', { class: 'pi-empty', text: t('pickThread') }));
    els.details = h('aside', { class: 'pi-pane pi-details', 'aria-label': t('details'), 'data-role': 'details', id: 'pi-details' });
    els.error = h('div', { class: 'pi-error', role: 'alert' });
    this.append(els.error, h('div', { class: 'pi-grid' }, els.listPane, els.conv, els.details));
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting) && this.next && !this.loading) this.loadList(false);
    }, { root: els.list });
    this.addEventListener('keydown', (e) => {
      if (e.key === '/' && !/INPUT|TEXTAREA|SELECT/.test(document.activeElement?.tagName || '')) {
        e.preventDefault();
        els.search.focus();
      }
    });
  }

  showError(e) {
    this.els.error.textContent = e ? this.t('error', { reason: e.message }) : '';
  }

  // ——— thread list ———

  async loadList(reset) {
    const filter = { ...this.filter };
    const cursor = reset ? '' : this.next;
    const limit = reset ? Math.max(50, Math.min(500, this.threads.length)) : 50;
    this.loading = true;
    try {
      const page = await this.api.threads(filter, cursor, limit);
      if (JSON.stringify(filter) !== JSON.stringify(this.filter)) return; // a newer filter is loading
      this.threads = reset ? page.threads : this.threads.concat(page.threads);
      this.next = page.next || '';
      this.renderList();
      this.showError(null);
    } catch (e) {
      this.showError(e);
    } finally {
      this.loading = false;
    }
  }

  renderList() {
    const t = this.t;
    const list = this.els.list;
    const focused = document.activeElement?.closest?.('.pi-thread')?.dataset.id;
    list.textContent = '';
    if (this.threads.length === 0) list.append(h('li', { class: 'pi-empty', role: 'presentation', text: t('noThreads') }));
    for (const th of this.threads) {
      const selected = this.current && th.id === this.current.id;
      const li = h('li', { class: 'pi-thread', role: 'option', 'data-id': th.id, 'aria-selected': selected ? 'true' : 'false',
        tabindex: selected || (!this.current && th === this.threads[0]) ? '0' : '-1',
        'data-muted': th.muted ? 'true' : 'false', 'data-unread': String(th.unread),
        onclick: () => this.open(th.id) },
      h('span', { class: 'pi-avatar', 'aria-hidden': 'true', text: initials(th.name) }),
      h('span', { class: 'pi-main' },
        h('span', { class: 'pi-name' }, th.name, th.favourite ? h('span', { class: 'pi-star', title: t('favourite'), text: ' ⭐' }) : null,
          th.muted ? h('span', { class: 'pi-mute', title: t('muted'), text: ' 🔕' }) : null),
        h('span', { class: 'pi-preview', text: th.preview })),
      h('span', { class: 'pi-meta' },
        h('time', { datetime: th.lastMessageAt || th.sortTime, text: this.time(th.lastMessageAt || th.sortTime) }),
        th.unread > 0 ? h('span', { class: 'pi-count', 'aria-label': t('unread', { n: th.unread }), text: String(th.unread) }) : null,
        th.assignee ? h('span', { class: 'pi-assignee', title: th.assignee, text: initials(th.assignee) }) : null));
      list.append(li);
    }
    list.append(this.els.sentinel);
    this.observer.observe(this.els.sentinel);
    if (focused) list.querySelector(`[data-id="${CSS.escape(focused)}"]`)?.focus();
  }

  listKey(e) {
    const items = [...this.els.list.querySelectorAll('.pi-thread')];
    if (items.length === 0) return;
    let i = items.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') i = Math.min(items.length - 1, i + 1);
    else if (e.key === 'ArrowUp') i = Math.max(0, i - 1);
    else if (e.key === 'Home') i = 0;
    else if (e.key === 'End') i = items.length - 1;
    else if (e.key === 'Enter' || e.key === ' ') {
      if (i >= 0) { e.preventDefault(); this.open(items[i].dataset.id, true); }
      return;
    } else return;
    e.preventDefault();
    if (i < 0) i = 0;
    items.forEach((el, j) => el.setAttribute('tabindex', j === i ? '0' : '-1'));
    items[i].focus();
    if (i === items.length - 1 && this.next) this.loadList(false);
  }

  async loadCounters() {
    try {
      const c = await this.api.counters();
      this.els.badge.textContent = c.attention > 0 ? String(c.attention) : '';
      this.els.badge.setAttribute('aria-label', this.t('unread', { n: c.attention }));
      document.title = c.attention > 0 ? `(${c.attention}) ${this.baseTitle}` : this.baseTitle;
    } catch (e) {
      this.showError(e);
    }
  }

  async bulk(name) {
    this.els.bulk.open = false;
    try { await this.api.bulk(name); } catch (e) { this.showError(e); }
    this.loadList(true);
    this.loadCounters();
  }

  async toggleNotifications() {
    if (!this.notify && 'Notification' in window) {
      const p = Notification.permission === 'granted' ? 'granted' : await Notification.requestPermission();
      this.notify = p === 'granted';
    } else {
      this.notify = false;
    }
    this.els.notifyBtn.setAttribute('aria-pressed', String(this.notify));
  }

  // ——— conversation ———

  async open(id, focusComposer) {
    // the latest open wins: a slower answer for a thread opened before
    // must not replace the conversation (and its draft) shown since
    const token = (this.openToken = (this.openToken || 0) + 1);
    try {
      const [th, page, comp] = await Promise.all([this.api.thread(id), this.api.messages(id), this.api.composer(id)]);
      if (token !== this.openToken) return;
      this.current = th;
      this.messages = page.messages.slice().reverse();
      this.olderCursor = page.next || '';
      this.composerInfo = comp;
      this.typers.clear();
      this.renderConversation();
      this.renderList();
      this.loadDetails();
      if (th.unread > 0) {
        this.current = await this.api.action(id, 'read');
        this.loadCounters();
        this.refreshList();
      }
      if (focusComposer) this.els.text?.focus();
    } catch (e) {
      this.showError(e);
    }
  }

  renderConversation() {
    const t = this.t;
    const th = this.current;
    const conv = this.els.conv;
    conv.textContent = '';
    const act = (label, name, body) => h('button', { type: 'button', class: 'pi-btn', 'data-action': name, text: label,
      onclick: async () => {
        try {
          this.current = await this.api.action(th.id, name, body);
          this.renderHeader();
          this.refreshList();
          this.loadCounters();
        } catch (e) { this.showError(e); }
      } });
    this.els.header = h('header', { class: 'pi-head pi-conv-head' });
    this.renderHeader = () => {
      const c = this.current;
      this.els.header.textContent = '';
      this.els.header.append(
        h('h2', { 'data-role': 'thread-name' }, c.name, c.favourite ? ' ⭐' : '', c.muted ? ' 🔕' : ''),
        h('div', { class: 'pi-actions', role: 'toolbar', 'aria-label': t('more') },
          c.unread > 0 ? act(t('read'), 'read') : (c.messages > 0 ? act(t('markUnread'), 'unread') : null),
          c.favourite ? act(t('favouriteRemove'), 'unfavourite') : act(t('favouriteAdd'), 'favourite'),
          c.muted ? act(t('unmute'), 'unmute') : act(t('mute'), 'mute', { seconds: 8 * 3600 }),
          c.archived ? act(t('restore'), 'restore') : act(t('archive'), 'archive'),
          c.closed ? act(t('reopen'), 'reopen') : act(t('close'), 'close'),
          c.assignee === this.me.id ? act(t('unassign'), 'assign', { agent: '' }) : act(t('assignMe'), 'assign', { agent: this.me.id })),
        h('button', { type: 'button', class: 'pi-btn', 'aria-controls': 'pi-details', 'aria-expanded': String(!this.detailsHidden),
          text: t('details'), title: t('detailsToggle'),
          onclick: (e) => {
            this.detailsHidden = !this.detailsHidden;
            this.els.details.hidden = this.detailsHidden;
            e.target.setAttribute('aria-expanded', String(!this.detailsHidden));
          } }));
    };
    this.renderHeader();
    this.els.log = h('ol', { class: 'pi-log', role: 'log', 'aria-live': 'polite', 'aria-label': t('conversation'), 'data-role': 'messages', tabindex: '0' });
    this.els.typing = h('p', { class: 'pi-typing', 'aria-live': 'polite', 'data-role': 'typing' });
    conv.append(this.els.header, this.els.log, this.els.typing, this.renderComposer());
    this.renderMessages();
  }

  renderMessages() {
    const log = this.els.log;
    log.textContent = '';
    for (const m of this.messages) log.append(this.messageItem(m));
    log.scrollTop = log.scrollHeight;
  }

  messageItem(m) {
    const t = this.t;
    const li = h('li', { class: `pi-msg pi-${m.direction}`, 'data-id': m.id, 'data-direction': m.direction, 'data-status': m.status || '' },
      m.broadcast ? h('p', { class: 'pi-broadcast', text: t('broadcast', { name: m.broadcast }) }) : null,
      m.subject ? h('p', { class: 'pi-subject', text: m.subject }) : null,
      h('p', { class: 'pi-text', text: m.text }),
      h('p', { class: 'pi-info' },
        h('span', { class: 'pi-kind', title: t('k.' + m.kind), text: (KIND_ICONS[m.kind] || '') + ' ' + t('k.' + m.kind) }), ' · ',
        h('time', { datetime: m.sentAt || m.createdAt, text: this.time(m.scheduledFor && m.status === 'scheduled' ? m.scheduledFor : (m.sentAt || m.createdAt)) }),
        m.direction === 'outbound' && m.status ? [' · ', h('span', { class: 'pi-status', 'data-role': 'status', 'data-status': m.status, text: t('st.' + m.status) })] : null,
        m.recipients > 1 ? [' · ', this.recipientsButton(m)] : null,
        m.status === 'scheduled' ? [' · ', h('button', { type: 'button', class: 'pi-link', text: t('cancelSchedule'),
          onclick: async () => { try { await this.api.cancel(m.id); } catch (e) { this.showError(e); } } })] : null));
    return li;
  }

  recipientsButton(m) {
    const d = h('details', { class: 'pi-deliveries' }, h('summary', { text: this.t('recipients', { n: m.recipients }) }));
    d.addEventListener('toggle', async () => {
      if (!d.open || d.dataset.loaded) return;
      d.dataset.loaded = '1';
      try {
        const page = await this.api.deliveries(m.id);
        d.append(h('ul', {}, page.deliveries.map((x) => h('li', { 'data-status': x.status },
          `${x.address} — ${this.t('st.' + x.status)}${x.reason ? ' (' + x.reason + ')' : ''}`))));
      } catch (e) { this.showError(e); }
    });
    return d;
  }

  async updateMessage(id) {
    const i = this.messages.findIndex((m) => m.id === id);
    if (i < 0) return;
    try {
      const m = await this.api.message(id);
      this.messages[i] = m;
      const old = this.els.log.querySelector(`[data-id="${CSS.escape(id)}"]`);
      if (old) old.replaceWith(this.messageItem(m));
    } catch (e) { this.showError(e); }
  }

  async reloadMessages() {
    if (!this.current) return;
    const id = this.current.id;
    try {
      const page = await this.api.messages(id);
      if (!this.current || this.current.id !== id) return;
      this.messages = page.messages.slice().reverse();
      this.renderMessages();
    } catch (e) { this.showError(e); }
  }

  // ——— composer ———

  renderComposer() {
    const t = this.t;
    const info = this.composerInfo;
    const els = this.els;
    const opt = (v, label, selected) => h('option', { value: v, text: label, selected });
    els.kind = h('select', { 'aria-label': t('channel'), 'data-role': 'kind', onchange: () => { this.fillIdentities(); this.composerChanged(); } },
      info.channels.map((c) => opt(c.kind, t('k.' + c.kind), c.kind === 'sms')));
    els.identity = h('select', { 'aria-label': t('identity'), 'data-role': 'identity', onchange: () => this.composerChanged() });
    els.template = h('select', { 'aria-label': t('template'), 'data-role': 'template', onchange: () => this.composerChanged() });
    els.variable = h('select', { 'aria-label': t('variable'), 'data-role': 'variable', onchange: (e) => this.insertVariable(e) },
      opt('', t('variable')), info.variables.map((v) => opt(v.token, `${v.label} (${v.scope})`)));
    els.subject = h('input', { type: 'text', placeholder: t('subject'), 'aria-label': t('subject'), 'data-role': 'subject',
      oninput: () => this.composerChanged(), onfocus: () => { this.lastField = els.subject; } });
    els.text = h('textarea', { rows: '3', placeholder: t('bodyPlaceholder'), 'aria-label': t('body'), 'data-role': 'body',
      oninput: () => { this.composerChanged(); this.typing(); }, onfocus: () => { this.lastField = els.text; },
      onkeydown: (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.send(); } } });
    els.marketing = h('input', { type: 'checkbox', onchange: () => this.composerChanged() });
    els.groups = info.groups.map((g) => h('label', { class: 'pi-check' },
      h('input', { type: 'checkbox', value: g, 'data-group': g, onchange: () => this.composerChanged() }), ' ' + t('grp.' + g)));
    els.counter = h('p', { class: 'pi-counter', 'aria-live': 'polite', 'data-role': 'sms-counter' });
    els.problems = h('ul', { class: 'pi-problems', 'aria-live': 'polite', 'aria-label': t('warnings'), 'data-role': 'problems' });
    els.when = h('input', { type: 'datetime-local', 'aria-label': t('scheduleAt'), 'data-role': 'schedule-at', onchange: () => this.composerChanged() });
    els.schedule = h('button', { type: 'button', class: 'pi-btn', text: t('schedule'), 'data-role': 'schedule', disabled: true, onclick: () => this.send(true) });
    els.count = h('span', { class: 'pi-recipients', 'data-role': 'recipient-count', 'aria-live': 'polite' });
    els.send = h('button', { type: 'submit', class: 'pi-btn pi-primary', text: t('send'), 'data-role': 'send', disabled: true });
    const form = h('form', { class: 'pi-composer', 'aria-label': t('body'), onsubmit: (e) => { e.preventDefault(); this.send(); } },
      h('div', { class: 'pi-row' }, els.kind, els.identity, els.template, els.variable,
        h('label', { class: 'pi-check' }, els.marketing, ' ' + t('marketing'))),
      els.groups.length ? h('fieldset', { class: 'pi-row' }, h('legend', { text: t('groups') }), els.groups) : null,
      els.subject, els.text, els.counter, els.problems,
      h('div', { class: 'pi-row pi-sendrow' }, h('label', {}, t('scheduleAt') + ' ', els.when), els.schedule, els.count, els.send));
    this.fillIdentities();
    this.composerChanged();
    return form;
  }

  fillIdentities() {
    const els = this.els;
    const ch = this.composerInfo.channels.find((c) => c.kind === els.kind.value);
    els.identity.textContent = '';
    for (const id of ch ? ch.identities : []) {
      els.identity.append(h('option', { value: id.id, selected: id.default, text: id.name ? `${id.name} <${id.address}>` : id.address }));
    }
    els.subject.hidden = !(ch && (ch.subjectRequired || ch.kind === 'email'));
    // the templates of this channel kind
    const chosen = els.template.value;
    els.template.textContent = '';
    els.template.append(h('option', { value: '', text: this.t('noTemplate') }));
    for (const tp of this.composerInfo.templates) {
      if (tp.kinds && tp.kinds.length && !tp.kinds.includes(els.kind.value)) continue;
      els.template.append(h('option', { value: tp.id, text: tp.name, selected: tp.id === chosen }));
    }
  }

  insertVariable(e) {
    const token = e.target.value;
    e.target.value = '';
    if (!token) return;
    const field = this.lastField || this.els.text;
    const at = field.selectionStart ?? field.value.length;
    field.value = field.value.slice(0, at) + token + field.value.slice(field.selectionEnd ?? at);
    field.focus();
    field.selectionStart = field.selectionEnd = at + token.length;
    this.composerChanged();
  }

  draft() {
    const els = this.els;
    const d = { kind: els.kind.value };
    if (els.identity.value) d.identity = els.identity.value;
    if (els.template.value) d.template = els.template.value;
    if (!els.subject.hidden && els.subject.value) d.subject = els.subject.value;
    if (!els.template.value && els.text.value) d.text = els.text.value;
    if (els.marketing.checked) d.marketing = true;
    const groups = els.groups.map((l) => l.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
    if (groups.length) d.groups = groups;
    return d;
  }

  composerChanged() {
    const tpl = this.composerInfo.templates.find((x) => x.id === this.els.template.value);
    this.els.text.disabled = !!tpl;
    if (tpl) this.els.text.value = tpl.text;
    else if (this.templateShown) this.els.text.value = '';
    this.templateShown = !!tpl;
    this.els.send.disabled = true;
    this.els.schedule.disabled = true;
    this.runPreflight();
  }

  async preflight() {
    if (!this.current) return;
    const draft = this.draft();
    const key = JSON.stringify(draft);
    this.preflightKey = key;
    try {
      const p = await this.api.preflight(this.current.id, draft);
      if (this.preflightKey !== key) return;
      this.showPreflight(p);
    } catch (e) {
      this.showError(e);
    }
  }

  showPreflight(p) {
    const t = this.t;
    const els = this.els;
    els.counter.textContent = p.sms ? t('smsCounter', { chars: p.sms.characters, encoding: p.sms.encoding, segments: p.sms.segments, remaining: p.sms.remaining }) : '';
    els.counter.dataset.encoding = p.sms ? p.sms.encoding : '';
    if (p.cost && p.cost.micros > 0) els.counter.textContent += ' · ' + t('cost', { cost: money(p.cost, this.lang) });
    els.problems.textContent = '';
    const empty = !this.els.template.value && !this.els.text.value.trim();
    for (const pr of p.problems) {
      if (empty && pr.code === 'empty-body') continue; // nothing typed yet: nothing to warn about
      els.problems.append(h('li', { class: 'pi-problem', 'data-code': pr.code },
        t('p.' + pr.code, { variable: pr.variable, field: pr.field, line: pr.line, column: pr.column }) === 'p.' + pr.code ? pr.message
          : t('p.' + pr.code, { variable: pr.variable, field: pr.field, line: pr.line, column: pr.column })));
    }
    for (const r of p.recipients) {
      if (r.verdict === 'eligible') continue;
      const reason = (r.reasons || []).map((x) => t('r.' + x.code)).join(', ');
      els.problems.append(h('li', { class: r.verdict === 'blocked' ? 'pi-problem' : 'pi-warning', 'data-verdict': r.verdict,
        text: t(r.verdict, { name: r.address || r.contactId, reason }) }));
    }
    const draftReady = this.els.template.value || this.els.text.value.trim();
    els.send.disabled = !p.ok || !draftReady;
    els.schedule.disabled = !p.ok || !draftReady || !els.when.value;
    els.send.title = p.ok ? '' : t('warnings');
    els.count.textContent = this.current.subject.kind === 'contact' ? '' : t('recipients', { n: p.selected });
  }

  async send(scheduled) {
    const els = this.els;
    if (els.send.disabled && !scheduled) return;
    const draft = this.draft();
    if (scheduled) draft.scheduledFor = new Date(els.when.value).toISOString();
    els.send.disabled = els.schedule.disabled = true;
    const key = this.pendingKey && this.pendingDraft === JSON.stringify(draft) ? this.pendingKey : newKey();
    this.pendingKey = key;
    this.pendingDraft = JSON.stringify(draft);
    try {
      const res = await this.api.send(this.current.id, draft, key);
      this.pendingKey = null;
      els.text.value = '';
      els.subject.value = '';
      els.template.value = '';
      els.when.value = '';
      if (!this.messages.some((m) => m.id === res.message.id)) {
        this.messages.push(res.message);
        this.els.log.append(this.messageItem(res.message));
        this.els.log.scrollTop = this.els.log.scrollHeight;
      }
      this.composerChanged();
    } catch (e) {
      // a refused send: show the problems; the key is kept for a retry of
      // the same draft after a network failure
      if (e.problem && e.problem.problems) this.showPreflight({ ok: false, problems: e.problem.problems, recipients: e.problem.recipients || [] });
      this.showError(e);
      this.runPreflight();
    }
  }

  typing() {
    const now = Date.now();
    if (!this.current || (this.lastTyping && now - this.lastTyping < 3000)) return;
    this.lastTyping = now;
    this.api.typing(this.current.id).catch(() => {});
  }

  renderTypers() {
    const names = [...this.typers.entries()].filter(([, exp]) => exp > Date.now()).map(([a]) => a);
    this.els.typing.textContent = names.length ? this.t('typing', { name: names.join(', ') }) : '';
  }

  // ——— details ———

  async loadDetails() {
    const t = this.t;
    const pane = this.els.details;
    pane.textContent = '';
    pane.append(h('h2', { text: t('details') }));
    let d;
    try {
      d = await this.api.details(this.current.id);
    } catch (e) {
      pane.append(h('p', { class: 'pi-empty', text: t('noDetails') }));
      return;
    }
    const dl = h('dl', { class: 'pi-dl' });
    const row = (k, v) => { if (v !== undefined && v !== null && v !== '' && !(Array.isArray(v) && v.length === 0)) dl.append(h('dt', { text: t(k) }), h('dd', { text: String(v) })); };
    const date = (s) => (s ? this.fmt.format(new Date(s)) : '');
    const day = (s) => (s ? this.dayFmt.format(new Date(s)) : '');
    if (d.contact) {
      const c = d.contact;
      row('phone', c.phone); row('email', c.email); row('signedUp', day(c.signedUp)); row('birthDate', day(c.birthDate));
      row('memberId', c.id); row('barcode', c.barcode); row('address', c.address); row('emergency', c.emergencyContact);
      row('tags', (c.tags || []).join(', ')); row('balance', money({ micros: c.balance * 10000, currency: c.currency }, this.lang));
      row('unpaid', c.unpaidInvoices); row('documents', (c.documents || []).length); row('notes', c.notes);
      row('bookings', (c.bookings || []).map((b) => `${b.room || b.id}: ${day(b.checkIn)} → ${day(b.checkOut)}`).join('; '));
    }
    if (d.audience) {
      row('members', d.audience.members); row('filters', (d.audience.filters || []).join(', ')); row('description', d.audience.description);
    }
    if (d.event) {
      const e = d.event;
      row('start', date(e.start)); row('booked', `${e.booked}/${e.capacity}`);
      row('occupancy', e.capacity ? Math.round((100 * e.booked) / e.capacity) + ' %' : '');
      row('waitlist', e.waitlist); row('level', e.level); row('online', e.online ? t('yes') : t('no'));
      row('teacher', e.teacher); row('room', e.room); row('address', e.address);
    }
    pane.append(dl);
  }

  // ——— live events ———

  onEvent(type, e) {
    const cur = this.current;
    switch (type) {
      case 'ready':
        return;
      case 'resync':
        // reload what is shown, but keep the composer: a draft being
        // written survives a reconnection
        this.loadList(true);
        this.loadCounters();
        if (cur) {
          this.reloadMessages();
          this.api.thread(cur.id).then((th) => { if (this.current && this.current.id === th.id) { this.current = th; this.renderHeader(); } }, () => {});
        }
        return;
      case 'typing':
      case 'typing-stopped':
        if (cur && e.threadId === cur.id && e.agent !== this.me.id) {
          if (type === 'typing') {
            this.typers.set(e.agent, new Date(e.expiresAt).getTime());
            setTimeout(() => this.renderTypers(), new Date(e.expiresAt).getTime() - Date.now() + 50);
          } else this.typers.delete(e.agent);
          this.renderTypers();
        }
        return;
      case 'status-changed':
        if (cur && e.threadId === cur.id) this.updateMessage(e.messageId);
        return;
      case 'message-received':
        if (this.notify && document.hidden) this.notifyInbound(e);
        if (cur && e.threadId === cur.id) this.typers.clear();
        break;
      default:
    }
    if (e.threadId) {
      this.refreshList();
      this.loadCounters();
      if (cur && e.threadId === cur.id) {
        if (type === 'message-received' || type === 'message-sent') this.reloadMessages();
        this.api.thread(cur.id).then((th) => { if (this.current && this.current.id === th.id) { this.current = th; this.renderHeader(); } }, () => {});
      }
    }
  }

  async notifyInbound(e) {
    try {
      const th = await this.api.thread(e.threadId);
      const n = new Notification(this.t('newMessage', { name: th.name }), { body: th.preview, tag: th.id });
      n.onclick = () => { window.focus(); this.open(th.id); };
    } catch (err) { this.showError(err); }
  }

  time(s) {
    return s ? this.fmt.format(new Date(s)) : '';
  }
}

function initials(name) {
  return (name || '?').split(/\s+/).filter(Boolean).slice(0, 2).map((w) => w[0].toUpperCase()).join('') || '?';
}

function money(c, lang) {
  if (!c.currency) return String(c.micros / 1e6);
  return new Intl.NumberFormat(lang === 'fr' ? 'fr-FR' : 'en-GB', { style: 'currency', currency: c.currency }).format(c.micros / 1e6);
}

if (!customElements.get('parley-inbox')) customElements.define('parley-inbox', ParleyInbox);
