// The groupd admin console. Plain JavaScript, no build step, no framework:
// a client of the public API (session, group, members, user, events) only.
// Every text that comes from the server is put into the page as text, never
// as HTML.
(function () {
  'use strict';

  const TOKEN_KEY = 'groupd.console.token';
  const PAGE_SIZES = [25, 50, 100];
  const MEMBER_PAGE = 20;
  const EVENT_PAGE = 50;
  const ACL_RIGHTS = ['bag_read', 'bag_write', 'bag_delete', 'link', 'unlink', 'read', 'write', 'delete'];
  const RIGHT_INFO = {
    bag_read: 'see the group',
    bag_write: 'change the group',
    bag_delete: 'delete the group',
    link: 'add members',
    unlink: 'remove members',
    read: "see the group's users",
    write: "change the group's users",
    delete: "delete the group's users",
  };
  // Direct implications: holding the key grants the values.
  const IMPLIES = { bag_delete: ['bag_write'], bag_write: ['bag_read'], delete: ['write'], write: ['read'] };

  const app = {
    token: sessionStorage.getItem(TOKEN_KEY),
    session: null,
    listAbort: null,
    users: new Map(), // user id -> short format, for names in the audit trail
  };

  // --- DOM helpers --------------------------------------------------------

  // h builds an element: attributes (on* are listeners, class, for, data-*,
  // aria-*, boolean properties) and children (strings become text nodes).
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (k === 'for') el.htmlFor = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'value') el.value = v;
      else if (k === 'checked' || k === 'disabled' || k === 'hidden' || k === 'required' || k === 'readOnly' ||
               k === 'selected' || k === 'indeterminate') el[k] = !!v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    append(el, children);
    return el;
  }

  function append(el, children) {
    for (const c of children.flat(Infinity)) {
      if (c === undefined || c === null || c === false) continue;
      el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
  }

  function clear(el) { while (el.firstChild) el.firstChild.remove(); return el; }
  function $(sel, root) { return (root || document).querySelector(sel); }

  let uid = 0;
  function nextId(prefix) { uid += 1; return prefix + '-' + uid; }

  function field(label, input, help) {
    const id = input.id || (input.id = nextId('f'));
    let helpEl = null;
    if (help) {
      helpEl = h('p', { class: 'help', id: id + '-help' }, help);
      input.setAttribute('aria-describedby', helpEl.id);
    }
    return h('div', { class: 'field' }, h('label', { for: id }, label), input, helpEl);
  }

  function fmtNumber(n) { return Number(n).toLocaleString('en-US'); }

  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    return d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short' });
  }

  function timeEl(iso) { return iso ? h('time', { datetime: iso, title: iso }, fmtTime(iso)) : h('span', { class: 'muted' }, '—'); }

  // --- API ----------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, body) {
      super(body.code || 'error');
      this.status = status;
      this.realm = body.realm || '';
      this.code = body.code || '';
      this.parameters = body.parameters || {};
      this.description = body.description || '';
      this.uuid = body.uuid || '';
    }
  }

  // api calls the groupd API with the session token. It resolves to
  // {data, total} for a 2xx answer and throws an ApiError for anything else,
  // so that no refusal can be taken for a success.
  async function api(method, path, opts) {
    opts = opts || {};
    const headers = { Accept: 'application/json' };
    if (app.token) headers['x-easydb-token'] = app.token;
    let body;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    let url = path;
    if (opts.query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(opts.query)) {
        if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
      }
      const s = q.toString();
      if (s) url += '?' + s;
    }
    let res;
    try {
      res = await fetch(url, { method, headers, body, signal: opts.signal, cache: 'no-store', credentials: 'omit' });
    } catch (e) {
      if (e.name === 'AbortError') throw e;
      throw new ApiError(0, { realm: 'network', code: 'network', description: String(e.message || e) });
    }
    const text = await res.text();
    let data;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = undefined; }
    if (!res.ok) {
      const err = new ApiError(res.status, data && typeof data === 'object' && data.code ? data
        : { realm: 'http', code: 'http.' + res.status, description: text.slice(0, 200) });
      if (!opts.keepSession && (err.code === 'error.user.session_not_found' || err.code === 'error.user.not_authenticated')) {
        sessionLost(err);
      }
      throw err;
    }
    if (data === undefined) {
      throw new ApiError(res.status, { realm: 'http', code: 'http.not_json', description: 'The answer was not JSON.' });
    }
    const total = res.headers.get('X-Total-Count');
    return { data, total: total === null ? null : Number(total) };
  }

  // --- errors in plain words ----------------------------------------------

  function explain(err) {
    const p = err.parameters || {};
    const at = p.attribute ? ` (${p.attribute})` : '';
    switch (err.code) {
      case 'network': return 'The server cannot be reached. Check your connection and try again.';
      case 'error.user.version_mismatch': return 'Changed by someone else — reload';
      case 'error.user.session_not_found': return 'Your session has ended or is unknown. Please sign in again.';
      case 'error.user.not_authenticated': return 'You are not signed in. Please sign in again.';
      case 'error.user.login_failed': return 'Wrong login or password.';
      case 'error.user.login_blocked': {
        const why = {
          address: 'Too many failed sign-ins from your address.',
          busy: 'The server is busy with other sign-ins.',
          new_sessions: 'Too many new sessions from your address.',
        }[p.reason] || 'Too many failed sign-ins for this login.';
        return `${why} Try again after ${fmtTime(p.until) || 'a while'}.`;
      }
      case 'error.user.login_disabled': return 'This login is disabled.';
      case 'error.user.username_or_password_empty': return 'Enter both a login and a password.';
      case 'error.user.authentication_method_not_allowed': return `The sign-in method ${p.method || ''} is not allowed.`;
      case 'error.user.insufficient_rights':
        return `You do not have the right ${p.right || ''} needed to ${p.operation || 'do this to'} this ${p.type || 'object'}` +
          (p.ids && p.ids !== '-' ? ` (${p.ids})` : '') + '.';
      case 'error.user.no_system_right':
        return `You do not have the system right ${p.right || ''}${p.extra_info ? ' with ' + p.extra_info : ''} needed for this.`;
      case 'error.user.integrity_constraint_violation':
        return `Another group already uses this ${(p.constraint || 'value').replace(/^group\./, '')}. Choose another one.`;
      case 'error.user.group_not_found': return `Group ${p.id || ''} does not exist (any more).`;
      case 'error.user.user_not_found': return `User ${p.id || ''} does not exist.`;
      case 'error.user.object_not_found': return `Object ${p.id || ''} does not exist.`;
      case 'error.user.right_not_found': return `There is no right called ${p.id || ''}.`;
      case 'error.user.custom_type_required': return 'This needs a custom group type (custom-<name>).';
      case 'error.user.delete_system_group': return 'System groups cannot be deleted.';
      case 'error.user.change_owner_on_creation': return 'A new group is always owned by its creator; the owner cannot be set.';
      case 'error.user.invalid_owner_on_creation': return 'A new group cannot be given this owner.';
      case 'error.user.user_update_system_group': return 'The members of system groups are computed; they cannot be added or removed.';
      case 'error.user.invalid_value': return `Invalid value${at}: ${p.value || ''} ${p.expected_format ? '(expected ' + p.expected_format + ')' : ''}`.trim();
      case 'error.api.invalid_value': return `Invalid value${at}${p.reason ? ': ' + p.reason : ''}.`;
      case 'error.api.attribute_expected': return `Missing value${at}: it is required.`;
      case 'error.api.attribute_not_accepted': return `This value is not accepted here${at}.`;
      case 'error.api.type_mismatch': return `Wrong kind of value${at}${p.expected ? ': expected ' + p.expected : ''}.`;
      case 'error.api.invalid_content': return 'The request was not understood' + (err.description ? ': ' + err.description : '') + '.';
      case 'error.api.invalid_api': return 'The server does not offer this function (yet).';
      case 'error.api.invalid_request_method': return 'The server does not allow this operation here.';
    }
    if (err.realm === 'server' || /^error\.server\./.test(err.code)) {
      return 'The server failed to do this. Try again; if it keeps failing, give an administrator the reference below.';
    }
    if (err.realm === 'http') return `Unexpected answer from the server (HTTP ${err.status}).`;
    return err.description || 'The server refused this.';
  }

  // errorBox shows an error in plain words, with its code and parameters.
  // A version conflict offers a reload button.
  function errorBox(err, onReload) {
    if (!(err instanceof ApiError)) {
      err = new ApiError(0, { realm: 'client', code: 'client.error', description: String(err && err.message || err) });
    }
    const conflict = err.code === 'error.user.version_mismatch';
    const box = h('div', { class: 'alert alert-error' + (conflict ? ' conflict' : ''), role: 'alert', tabindex: '-1', dataset: { code: err.code } });
    if (conflict) {
      box.append(
        h('p', { class: 'alert-title' }, 'Changed by someone else — reload'),
        h('p', null, 'This group was saved by someone else after you loaded it, so your change was not saved. ' +
          'Reload to see the current version, then make your change again.'),
      );
      if (onReload) box.append(h('p', null, h('button', { type: 'button', class: 'button', 'data-action': 'reload', onclick: onReload }, 'Reload')));
    } else {
      box.append(h('p', { class: 'alert-title' }, explain(err)));
    }
    const params = Object.entries(err.parameters || {}).map(([k, v]) => `${k}=${v}`).join(', ');
    const detail = h('p', { class: 'alert-code' }, 'Code: ', h('code', null, err.code || '—'));
    if (params) detail.append(' · ', params);
    if (err.uuid) detail.append(' · Reference: ', h('code', null, err.uuid));
    box.append(detail);
    return box;
  }

  function showError(container, err, onReload) {
    clear(container);
    const box = errorBox(err, onReload);
    container.append(box);
    box.focus();
    return box;
  }

  let toastTimer = 0;
  function hideToast() {
    const t = $('#toast');
    clearTimeout(toastTimer);
    t.className = 'toast';
    t.textContent = '';
  }

  // notify announces a success (or a note) in the polite live region.
  function notify(message, kind) {
    const t = $('#toast');
    t.className = 'toast show ' + (kind || 'ok');
    t.textContent = message;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.className = 'toast'; t.textContent = ''; }, 6000);
  }

  // --- session ------------------------------------------------------------

  function setToken(t) {
    app.token = t;
    if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
  }

  function sessionLost(err) {
    if (!app.session) return;
    app.session = null;
    setToken(null);
    showLogin(err);
  }

  function me() { return app.session && app.session.user && app.session.user.user; }

  function sysRights() { return (app.session && app.session.system_rights) || {}; }
  function isRoot() { return 'system.root' in sysRights(); }
  // hasSys: the caller holds the system right (with the boolean parameter).
  function hasSys(right, param) {
    const sr = sysRights();
    if (isRoot()) return true;
    if (!(right in sr)) return false;
    return !param || (sr[right] && sr[right][param] === true);
  }

  async function start() {
    $('#logout').addEventListener('click', logout);
    $('#skip-link').addEventListener('click', (e) => { e.preventDefault(); $('#main').focus(); });
    $('#confirm-cancel').addEventListener('click', () => $('#confirm').close('cancel'));
    window.addEventListener('hashchange', route);
    if (app.token) {
      try {
        const r = await api('GET', '/api/v1/session', { keepSession: true });
        if (r.data && r.data.user) {
          signedIn(r.data);
          return;
        }
      } catch (e) {
        if (e.code !== 'error.user.session_not_found') { showLogin(e); return; }
      }
      setToken(null);
    }
    showLogin();
  }

  function signedIn(session) {
    app.session = session;
    const u = me();
    $('#whoami').textContent = u.login || u._generated_displayname || ('#' + u._id);
    $('#account').hidden = false;
    $('#mainnav').hidden = false;
    const inst = session.instance || {};
    $('#footer').textContent = `${inst.name || 'groupd'} · server ${inst.server_version || ''} · API ${inst.api || ''}`;
    if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/groups');
    route();
  }

  async function logout() {
    const btn = $('#logout');
    btn.disabled = true;
    try {
      await api('POST', '/api/v1/session/deauthenticate', { keepSession: true });
      app.session = null;
      setToken(null);
      showLogin();
      notify('You are signed out.');
    } catch (e) {
      // The server refused: say so. The local token is dropped anyway, as
      // it is of no use any more.
      app.session = null;
      setToken(null);
      showLogin(e);
    } finally {
      btn.disabled = false;
    }
  }

  function showLogin(err) {
    app.session = null;
    $('#account').hidden = true;
    $('#mainnav').hidden = true;
    document.title = 'Sign in · groupd console';
    const errors = h('div', { id: 'login-errors' });
    const login = h('input', { name: 'login', id: 'login-login', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' });
    const password = h('input', { name: 'password', id: 'login-password', type: 'password', autocomplete: 'current-password', required: true });
    const submit = h('button', { type: 'submit', class: 'button', id: 'login-submit' }, 'Sign in');
    const form = h('form', { id: 'login-form', class: 'card login', novalidate: true },
      h('h1', { tabindex: '-1' }, 'Sign in'),
      h('p', { class: 'muted' }, 'Manage groups, members and rights.'),
      errors,
      field('Login', login),
      field('Password', password),
      h('div', { class: 'actions' }, submit));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clear(errors);
      if (!login.value || !password.value) {
        showError(errors, new ApiError(0, { realm: 'user', code: 'error.user.username_or_password_empty' }));
        return;
      }
      submit.disabled = true;
      submit.textContent = 'Signing in…';
      try {
        if (!app.token) {
          const s = await api('GET', '/api/v1/session', { keepSession: true });
          setToken(s.data.token);
        }
        let r;
        try {
          r = await api('POST', '/api/v1/session/authenticate', { keepSession: true, body: { login: login.value, password: password.value, method: 'easydb' } });
        } catch (e2) {
          if (e2.code !== 'error.user.session_not_found') throw e2;
          // The stored token expired: start a new session once.
          const s = await api('GET', '/api/v1/session', { keepSession: true });
          setToken(s.data.token);
          r = await api('POST', '/api/v1/session/authenticate', { keepSession: true, body: { login: login.value, password: password.value, method: 'easydb' } });
        }
        password.value = '';
        signedIn(r.data);
      } catch (e2) {
        showError(errors, e2);
        password.focus();
      } finally {
        submit.disabled = false;
        submit.textContent = 'Sign in';
      }
    });
    const main = clear($('#main'));
    main.append(form);
    if (err) errors.append(errorBox(err));
    login.focus();
  }

  // --- routing ------------------------------------------------------------

  function parseHash() {
    const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/groups';
    const i = raw.indexOf('?');
    return { path: i < 0 ? raw : raw.slice(0, i), params: new URLSearchParams(i < 0 ? '' : raw.slice(i + 1)) };
  }

  function route() {
    if (location.hash && !location.hash.startsWith('#/')) return; // an in-page anchor
    if (!app.session) { showLogin(); return; }
    const { path, params } = parseHash();
    let m;
    for (const a of document.querySelectorAll('#mainnav a')) a.removeAttribute('aria-current');
    if (path === '/groups') { $('#nav-groups').setAttribute('aria-current', 'page'); viewGroups(params); return; }
    if (path === '/groups/new') { viewCreate(); return; }
    if ((m = path.match(/^\/group\/(\d+)$/))) { viewGroup(Number(m[1])); return; }
    page('Not found', h('p', null, 'There is no such page. ', h('a', { href: '#/groups' }, 'Go to the groups.')));
  }

  // page replaces the main content and moves the focus to its heading, so
  // that a screen reader announces the new page.
  function page(title, ...content) {
    document.title = title + ' · groupd console';
    const main = clear($('#main'));
    const heading = h('h1', { tabindex: '-1', id: 'page-title' }, title);
    content = content.flat().filter(Boolean);
    // A leading toolbar goes next to the heading.
    const tools = content[0] && content[0].classList && content[0].classList.contains('toolbar') ? content.shift() : null;
    main.append(h('div', { class: 'page-head' }, heading, tools), ...content);
    heading.focus({ preventScroll: false });
    window.scrollTo(0, 0);
    return heading;
  }

  // --- groups -------------------------------------------------------------

  function preferredCulture() { return navigator.language || 'en-US'; }

  function displayname(g) {
    const d = (g.group && g.group.displayname) || g._displayname || {};
    const pref = preferredCulture();
    return d[pref] || d['en-US'] || Object.values(d)[0] || '';
  }

  function groupTitle(g) {
    return g.group.name || displayname(g) || ('Group #' + g.group._id);
  }

  function subjectLabel(s) {
    if (!s) return 'nobody';
    if (s._owner) return 'the owner';
    if (s.user) {
      const u = s.user;
      return 'user ' + (u.login || u._generated_displayname || '#' + u._id);
    }
    if (s.group) {
      const g = s.group;
      const d = g._displayname || {};
      return 'group ' + (g.name || d[preferredCulture()] || d['en-US'] || Object.values(d)[0] || '#' + g._id);
    }
    return 'unknown';
  }

  function rightBadges(rights, emptyText) {
    const names = ACL_RIGHTS.filter((r) => r in (rights || {}));
    if (!names.length) return h('span', { class: 'muted' }, emptyText || 'none');
    return h('ul', { class: 'badges', 'aria-label': 'rights' },
      names.map((r) => h('li', { class: 'badge', title: RIGHT_INFO[r] }, r)));
  }

  function listState(params) {
    let limit = Number(params.get('limit')) || 50;
    if (!PAGE_SIZES.includes(limit)) limit = 50;
    return {
      name: params.get('name') || '',
      type: params.get('type') || '',
      member: params.get('member') || '',
      offset: Math.max(0, Number(params.get('offset')) || 0),
      limit,
    };
  }

  function listHash(st) {
    const q = new URLSearchParams();
    if (st.name) q.set('name', st.name);
    if (st.type) q.set('type', st.type);
    if (st.member) q.set('member', st.member);
    if (st.offset) q.set('offset', String(st.offset));
    if (st.limit !== 50) q.set('limit', String(st.limit));
    const s = q.toString();
    return '#/groups' + (s ? '?' + s : '');
  }

  function viewGroups(params) {
    const st = listState(params);
    const canCreate = hasSys('system.group', 'create');

    const name = h('input', { type: 'search', id: 'filter-name', name: 'name', value: st.name, autocomplete: 'off' });
    const typeSel = h('select', { id: 'filter-type', name: 'type' },
      h('option', { value: '' }, 'Any type'),
      h('option', { value: 'easydb' }, 'easydb'),
      h('option', { value: 'system' }, 'system'),
      h('option', { value: 'custom' }, 'custom…'));
    const custom = h('input', { id: 'filter-custom', name: 'custom', placeholder: 'custom-name', autocomplete: 'off' });
    const customField = field('Custom type', custom);
    if (st.type === '' || st.type === 'easydb' || st.type === 'system') {
      typeSel.value = st.type;
      customField.hidden = true;
    } else {
      typeSel.value = 'custom';
      custom.value = st.type;
    }
    const member = h('input', { id: 'filter-member', name: 'member', value: st.member, autocomplete: 'off' });
    const sizeSel = h('select', { id: 'filter-limit', name: 'limit' },
      PAGE_SIZES.map((n) => h('option', { value: String(n), selected: n === st.limit }, String(n))));
    const clearBtn = h('button', { type: 'button', class: 'button secondary', id: 'filter-clear' }, 'Clear filters');
    const filters = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter groups', id: 'group-filters' },
      field('Name or display name contains', name),
      field('Type', typeSel),
      customField,
      field('Member (login or user id)', member),
      field('Per page', sizeSel),
      h('div', { class: 'field field-button' }, clearBtn));

    const summary = h('p', { class: 'summary', id: 'groups-summary', 'aria-live': 'polite' }, 'Loading…');
    const errors = h('div', { id: 'groups-errors' });
    const tbody = h('tbody', { id: 'groups-body' });
    const table = h('table', { class: 'data responsive', id: 'groups-table' },
      h('caption', { class: 'visually-hidden' }, 'Groups'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'ID'), h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Display name'),
        h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Reference'), h('th', { scope: 'col' }, 'Owner'),
        h('th', { scope: 'col' }, 'Your rights'))),
      tbody);
    const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of groups', id: 'groups-pager' });

    const heading = page('Groups',
      h('div', { class: 'toolbar' },
        canCreate ? h('a', { class: 'button', href: '#/groups/new', id: 'new-group' }, 'New group') : null),
      filters, summary, errors, h('div', { class: 'table-wrap' }, table), pager);
    void heading;

    function update(reset) {
      if (reset) st.offset = 0;
      st.name = name.value.trim();
      st.type = typeSel.value === 'custom' ? custom.value.trim() : typeSel.value;
      st.member = member.value.trim();
      st.limit = Number(sizeSel.value);
      // The address keeps the filters (bookmarks, back button) without
      // re-rendering the page (the focus stays in the field).
      history.replaceState(null, '', listHash(st));
      load();
    }

    let debounce = 0;
    const later = () => { clearTimeout(debounce); debounce = setTimeout(() => update(true), 250); };
    name.addEventListener('input', later);
    member.addEventListener('input', later);
    custom.addEventListener('input', later);
    typeSel.addEventListener('change', () => {
      customField.hidden = typeSel.value !== 'custom';
      if (typeSel.value === 'custom') { custom.focus(); if (!custom.value) return; }
      update(true);
    });
    sizeSel.addEventListener('change', () => update(true));
    filters.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(debounce); update(true); });
    clearBtn.addEventListener('click', () => {
      name.value = ''; member.value = ''; custom.value = ''; typeSel.value = ''; customField.hidden = true;
      update(true);
      name.focus();
    });

    async function load() {
      if (app.listAbort) app.listAbort.abort();
      const ac = new AbortController();
      app.listAbort = ac;
      table.setAttribute('aria-busy', 'true');
      table.dataset.state = 'loading';
      const t0 = performance.now();
      try {
        let memberID = st.member;
        if (memberID && !/^\d+$/.test(memberID)) {
          const found = await findUserByLogin(memberID, ac.signal);
          if (!found) {
            clear(errors).append(h('div', { class: 'alert alert-warn', role: 'alert' },
              h('p', { class: 'alert-title' }, `There is no user with the login “${st.member}”.`)));
            renderRows([], 0);
            return;
          }
          memberID = found.user._id;
        }
        const r = await api('GET', '/api/v1/group', {
          signal: ac.signal,
          query: { limit: st.limit, offset: st.offset, name: st.name, type: st.type, member: memberID },
        });
        if (ac !== app.listAbort) return;
        clear(errors);
        if (r.total > 0 && st.offset >= r.total) {
          // The page is gone (groups were deleted): show the last one.
          st.offset = Math.floor((r.total - 1) / st.limit) * st.limit;
          history.replaceState(null, '', listHash(st));
          load();
          return;
        }
        renderRows(r.data, r.total === null ? r.data.length : r.total);
        table.dataset.ms = String(Math.round(performance.now() - t0));
      } catch (e) {
        if (e.name === 'AbortError') return;
        if (ac !== app.listAbort) return;
        showError(errors, e);
        renderRows([], 0, true);
      } finally {
        if (ac === app.listAbort) {
          table.removeAttribute('aria-busy');
          table.dataset.state = 'ready';
        }
      }
    }

    function renderRows(groups, total, failed) {
      clear(tbody);
      for (const g of groups) {
        const gr = g.group;
        tbody.append(h('tr', { dataset: { groupId: String(gr._id), name: gr.name || '' } },
          h('td', { 'data-label': 'ID' }, String(gr._id)),
          h('td', { 'data-label': 'Name' }, h('a', { href: '#/group/' + gr._id }, gr.name || h('span', { class: 'muted' }, '(no name)'))),
          h('td', { 'data-label': 'Display name' }, displayname(g)),
          h('td', { 'data-label': 'Type' }, h('span', { class: 'type type-' + (gr.type === 'system' || gr.type === 'easydb' ? gr.type : 'custom') }, gr.type)),
          h('td', { 'data-label': 'Reference' }, gr.reference || ''),
          h('td', { 'data-label': 'Owner' }, subjectLabel(g._owner)),
          h('td', { 'data-label': 'Your rights' }, rightBadges(g._generated_rights))));
      }
      if (!groups.length) {
        tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: '7' }, failed ? 'Could not load the groups.' : 'No groups match.')));
      }
      summary.textContent = failed ? '' : total === 0 ? 'No groups match the filters.'
        : `Groups ${fmtNumber(st.offset + 1)}–${fmtNumber(st.offset + groups.length)} of ${fmtNumber(total)}`;
      summary.dataset.total = String(total);
      renderPager(pager, st.offset, st.limit, total, (off) => {
        st.offset = off;
        history.replaceState(null, '', listHash(st));
        load();
      });
    }

    load();
  }

  // renderPager draws First/Previous/page/Next/Last; go(offset) loads a page.
  function renderPager(nav, offset, limit, total, go) {
    // Keep the keyboard focus on the pager across the redraw.
    const inside = nav.contains(document.activeElement);
    const focused = inside ? (document.activeElement.className.match(/pager-\w+|page-input/) || ['page-input']) : null;
    clear(nav);
    if (!total || total <= limit) return;
    const pages = Math.ceil(total / limit);
    const current = Math.floor(offset / limit) + 1;
    const btn = (label, text, off, disabled, cls) => h('button', {
      type: 'button', class: 'button secondary ' + (cls || ''), 'aria-label': label, disabled, onclick: () => go(off),
    }, text);
    const pageInput = h('input', { type: 'number', min: '1', max: String(pages), value: String(current), class: 'page-input', 'aria-label': `Page number, 1 to ${fmtNumber(pages)}` });
    const pageForm = h('form', { class: 'page-form' },
      h('span', null, 'Page '), pageInput, h('span', null, ` of ${fmtNumber(pages)}`));
    pageForm.addEventListener('submit', (e) => {
      e.preventDefault();
      const n = Math.min(pages, Math.max(1, Math.floor(Number(pageInput.value)) || 1));
      go((n - 1) * limit);
    });
    nav.append(
      btn('First page', '« First', 0, current === 1, 'pager-first'),
      btn('Previous page', '‹ Previous', Math.max(0, offset - limit), current === 1, 'pager-prev'),
      pageForm,
      btn('Next page', 'Next ›', offset + limit, current >= pages, 'pager-next'),
      btn('Last page', 'Last »', (pages - 1) * limit, current >= pages, 'pager-last'));
    if (focused) {
      const again = nav.querySelector('.' + focused[0]);
      (again && !again.disabled ? again : nav.querySelector('button:not([disabled])') || pageInput).focus();
    }
  }

  // --- users (the user API) -------------------------------------------------

  // searchUsers finds users by login (or by id, when text is a number).
  async function searchUsers(text, signal) {
    text = text.trim();
    if (!text) return [];
    if (/^#?\d+$/.test(text)) {
      const r = await api('GET', '/api/v1/user/' + text.replace('#', ''), { signal });
      return Array.isArray(r.data) ? r.data : [];
    }
    // GET /api/v1/user?login= (a substring of the login, case-insensitive).
    // Whatever the server answers, only users whose login or name contains
    // the text are offered.
    const r = await api('GET', '/api/v1/user', { signal, query: { login: text, limit: 20 } });
    const needle = text.toLowerCase();
    return (Array.isArray(r.data) ? r.data : []).filter((u) => {
      const x = u.user || {};
      return (x.login || '').toLowerCase().includes(needle) || (x._generated_displayname || '').toLowerCase().includes(needle);
    }).slice(0, 10);
  }

  // userName resolves a user id to its login for display (cached); when the
  // user cannot be read, it stays "user #id".
  function userName(id) {
    const u = me();
    if (u && u._id === id) return Promise.resolve(`${u.login || '#' + id} (you)`);
    if (!app.users.has(id)) {
      app.users.set(id, api('GET', '/api/v1/user/' + id)
        .then((r) => (r.data && r.data[0] ? userLabel(r.data[0]) : 'user #' + id))
        .catch(() => 'user #' + id));
    }
    return app.users.get(id);
  }

  // nameSpan shows "user #id" at once and the login when it is known.
  function nameSpan(id) {
    const el = h('span', { class: 'user-name' }, 'user #' + id);
    userName(id).then((n) => { el.textContent = n; });
    return el;
  }

  async function findUserByLogin(login, signal) {
    const users = await searchUsers(login, signal);
    return users.find((u) => u.user && (u.user.login || '').toLowerCase() === login.toLowerCase()) || null;
  }

  function userLabel(u) {
    const x = u.user || u;
    const dn = x._generated_displayname || x.displayname || [x.first_name, x.last_name].filter(Boolean).join(' ');
    const login = x.login || ('#' + x._id);
    return dn && dn !== login ? `${login} (${dn})` : login;
  }

  // picker is a search field with a result list of buttons: typing searches
  // (debounced), each result is a button, so that it works with the keyboard
  // and screen readers without a custom combobox.
  function picker(opts) {
    const input = h('input', { id: opts.id, type: 'search', autocomplete: 'off', placeholder: opts.placeholder || '' });
    const results = h('ul', { class: 'picker-results', id: opts.id + '-results', 'aria-live': 'polite' });
    const errors = h('div');
    let debounce = 0;
    let ac = null;
    async function run() {
      if (ac) ac.abort();
      ac = new AbortController();
      const mine = ac;
      clear(errors);
      const text = input.value.trim();
      if (!text) { clear(results); return; }
      try {
        const found = await opts.search(text, mine.signal);
        if (mine !== ac) return;
        clear(results);
        if (!found.length) results.append(h('li', { class: 'muted' }, 'Nothing found.'));
        for (const item of found) {
          results.append(h('li', null, h('button', {
            type: 'button', class: 'button secondary small', dataset: { pick: opts.key(item) },
            onclick: () => { opts.choose(item); },
          }, opts.label(item))));
        }
      } catch (e) {
        if (e.name === 'AbortError') return;
        clear(results);
        errors.append(errorBox(e));
      }
    }
    input.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(run, 250); });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') { e.preventDefault(); clearTimeout(debounce); run(); }
      if (e.key === 'ArrowDown') {
        const first = results.querySelector('button');
        if (first) { e.preventDefault(); first.focus(); }
      }
    });
    results.addEventListener('keydown', (e) => {
      if (e.key !== 'ArrowDown' && e.key !== 'ArrowUp') return;
      const buttons = [...results.querySelectorAll('button')];
      const i = buttons.indexOf(document.activeElement);
      if (i < 0) return;
      e.preventDefault();
      if (e.key === 'ArrowDown' && i + 1 < buttons.length) buttons[i + 1].focus();
      if (e.key === 'ArrowUp') (i > 0 ? buttons[i - 1] : input).focus();
    });
    const reset = () => { input.value = ''; clear(results); clear(errors); };
    return { input, results, errors, reset, el: h('div', { class: 'picker' }, field(opts.label_, input, opts.help), errors, results) };
  }

  // --- create ---------------------------------------------------------------

  function displaynameEditor(values, disabled) {
    const list = h('div', { class: 'cultures' });
    const rows = [];
    function addRow(culture, text, focus) {
      const c = h('input', { class: 'culture', value: culture || '', placeholder: 'en-US', list: 'cultures', disabled, 'aria-label': 'Culture', autocomplete: 'off' });
      const t = h('input', { class: 'culture-text', value: text || '', disabled, 'aria-label': 'Display name', autocomplete: 'off' });
      const row = h('div', { class: 'culture-row' });
      const rm = disabled ? null : h('button', {
        type: 'button', class: 'button secondary small', 'aria-label': 'Remove this display name',
        onclick: () => { row.remove(); rows.splice(rows.indexOf(entry), 1); addBtn.focus(); },
      }, 'Remove');
      const entry = { c, t };
      // Label the pair by culture so that both fields are told apart.
      c.addEventListener('input', () => t.setAttribute('aria-label', `Display name (${c.value || 'culture?'})`));
      t.setAttribute('aria-label', `Display name (${culture || 'culture?'})`);
      append(row, [c, t, rm]);
      rows.push(entry);
      list.append(row);
      if (focus) c.focus();
    }
    const addBtn = disabled ? null : h('button', { type: 'button', class: 'button secondary small', onclick: () => addRow('', '', true) }, 'Add display name');
    for (const [c, t] of Object.entries(values || {})) addRow(c, t);
    if (!rows.length && !disabled) addRow('en-US', '');
    const datalist = document.getElementById('cultures') ? null : h('datalist', { id: 'cultures' },
      ['en-US', 'de-DE', 'fr-FR', 'es-ES', 'it-IT', 'nl-NL', 'da-DK', 'sv-SE', 'fi-FI', 'pl-PL', 'cs-CZ', 'ru-RU', 'ja-JP', 'zh-CN']
        .map((x) => h('option', { value: x })));
    const group = h('fieldset', { class: 'field' }, h('legend', null, 'Display names (per culture)'), list, addBtn, datalist);
    return {
      el: group,
      value() {
        const out = {};
        for (const { c, t } of rows) {
          const k = c.value.trim();
          const v = t.value.trim();
          if (v) out[k] = v; // a culture without text is no display name
        }
        return out;
      },
    };
  }

  function nullIfEmpty(s) { s = s.trim(); return s === '' ? null : s; }

  function viewCreate() {
    if (!hasSys('system.group', 'create')) {
      page('New group', h('div', { class: 'alert alert-warn', role: 'alert' },
        h('p', { class: 'alert-title' }, 'You cannot create groups: this needs the system right system.group with create.')),
        h('p', null, h('a', { href: '#/groups' }, 'Back to the groups')));
      return;
    }
    const errors = h('div', { id: 'create-errors' });
    const name = h('input', { id: 'create-name', name: 'name', autocomplete: 'off', maxlength: '256' });
    const dn = displaynameEditor({ 'en-US': '' });
    const comment = h('textarea', { id: 'create-comment', name: 'comment', rows: '3' });
    const reference = h('input', { id: 'create-reference', name: 'reference', autocomplete: 'off' });
    const type = h('input', { id: 'create-type', name: 'type', value: 'easydb', autocomplete: 'off' });
    const submit = h('button', { type: 'submit', class: 'button', id: 'create-submit' }, 'Create group');
    const form = h('form', { class: 'card form', id: 'create-form', novalidate: true },
      errors,
      field('Name', name, 'Unique. A group needs a name or a display name.'),
      dn.el,
      field('Comment', comment),
      field('Reference', reference, 'Optional, unique: an external id, e.g. of a directory.'),
      field('Type', type, '“easydb”, or “custom-<name>” for a custom group type.'),
      h('div', { class: 'actions' }, submit, h('a', { class: 'button secondary', href: '#/groups' }, 'Cancel')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clear(errors);
      hideToast();
      const group = { _version: 1, name: nullIfEmpty(name.value), displayname: dn.value(), comment: nullIfEmpty(comment.value), reference: nullIfEmpty(reference.value) };
      if (type.value.trim() && type.value.trim() !== 'easydb') group.type = type.value.trim();
      submit.disabled = true;
      try {
        const r = await api('PUT', '/api/v1/group', { body: [{ _basetype: 'group', group }] });
        const g = r.data[0];
        location.hash = '#/group/' + g.group._id;
        notify(`Group “${groupTitle(g)}” created.`);
      } catch (err) {
        showError(errors, err);
      } finally {
        submit.disabled = false;
      }
    });
    page('New group', h('p', null, h('a', { href: '#/groups' }, '‹ All groups')), form);
    name.focus();
  }

  // --- one group ------------------------------------------------------------

  async function viewGroup(id) {
    const main = clear($('#main'));
    main.append(h('p', { class: 'loading' }, 'Loading group…'));
    let g;
    try {
      const r = await api('GET', '/api/v1/group/' + id);
      g = r.data[0];
    } catch (e) {
      page('Group #' + id, h('div', { id: 'group-errors' }, errorBox(e)), h('p', null, h('a', { href: '#/groups' }, '‹ All groups')));
      return;
    }
    if (!g) {
      page('Group #' + id, h('div', { class: 'alert alert-warn', role: 'alert' },
        h('p', { class: 'alert-title' }, `There is no group #${id}. It may have been deleted.`)),
        h('p', null, h('a', { href: '#/groups' }, '‹ All groups')));
      return;
    }
    renderGroup(g);
  }

  function renderGroup(g, focusSel) {
    app.refreshAudit = null;
    const gr = g.group;
    const rights = g._generated_rights || {};
    const can = (r) => r in rights;
    const reload = () => viewGroup(gr._id);

    const summary = h('section', { class: 'card summary-card', 'aria-labelledby': 'summary-title' },
      h('h2', { id: 'summary-title', class: 'visually-hidden' }, 'Summary'),
      h('dl', { class: 'facts' },
        h('div', null, h('dt', null, 'ID'), h('dd', { id: 'group-id' }, String(gr._id))),
        h('div', null, h('dt', null, 'Type'), h('dd', null, gr.type)),
        h('div', null, h('dt', null, 'Version'), h('dd', { id: 'group-version' }, String(gr._version))),
        h('div', null, h('dt', null, 'Owner'), h('dd', { id: 'group-owner' }, subjectLabel(g._owner))),
        h('div', null, h('dt', null, 'Created'), h('dd', null, timeEl(gr.created_timestamp))),
        h('div', null, h('dt', null, 'Last changed'), h('dd', null, timeEl(gr.last_updated_timestamp))),
        h('div', { class: 'wide' }, h('dt', null, 'Your rights on this group'),
          h('dd', { id: 'my-rights' }, rightBadges(rights, 'none (you can only see it)'),
            h('details', { class: 'help' }, h('summary', null, 'What do these rights allow?'),
              h('ul', null, ACL_RIGHTS.filter(can).map((r) => h('li', null, h('code', null, r), ': ', RIGHT_INFO[r]))))))),
      can('bag_delete') ? h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'button danger', id: 'delete-group', onclick: (e) => confirmDelete(g, e.currentTarget) }, 'Delete group…')) : null);

    const sections = h('div', { class: 'group-grid' },
      detailsSection(g, can('bag_write'), reload),
      membersSection(g),
      aclSection(g, reload),
      systemRightsSection(g, reload),
      auditSection(g));

    page(groupTitle(g),
      h('p', { class: 'crumbs' }, h('a', { href: '#/groups' }, '‹ All groups')),
      summary, sections);
    if (focusSel) { const el = $(focusSel); if (el) el.focus(); }
  }

  // saveGroup sends one changed group (version + 1) and shows the result:
  // the page is redrawn from what the server answered, never from what was
  // sent.
  async function saveGroup(g, changes, errors, button, what, focusSel) {
    clear(errors);
    hideToast(); // an earlier success must not stand next to a refusal
    button.disabled = true;
    const item = { _basetype: 'group', group: Object.assign({ _id: g.group._id, _version: g.group._version + 1 }, changes.group || {}) };
    if (changes._acl !== undefined) item._acl = changes._acl;
    if (changes._system_rights !== undefined) item._system_rights = changes._system_rights;
    try {
      const r = await api('POST', '/api/v1/group', { body: [item] });
      const saved = r.data[0];
      renderGroup(saved, focusSel);
      notify(`${what} saved: the group is now at version ${saved.group._version}.`);
    } catch (e) {
      button.disabled = false;
      showError(errors, e, () => viewGroup(g.group._id));
    }
  }

  function detailsSection(g, canWrite, reload) {
    void reload;
    const gr = g.group;
    const system = gr.type === 'system';
    const errors = h('div', { id: 'details-errors' });
    const name = h('input', { id: 'edit-name', name: 'name', value: gr.name || '', disabled: !canWrite || system, autocomplete: 'off', maxlength: '256' });
    const dn = displaynameEditor(gr.displayname, !canWrite);
    const comment = h('textarea', { id: 'edit-comment', name: 'comment', rows: '3', disabled: !canWrite }, gr.comment || '');
    const reference = h('input', { id: 'edit-reference', name: 'reference', value: gr.reference || '', disabled: !canWrite, autocomplete: 'off' });
    const save = h('button', { type: 'submit', class: 'button', id: 'save-details' }, 'Save changes');
    const form = h('form', { id: 'details-form', novalidate: true },
      errors,
      field('Name', name, system ? 'System groups cannot be renamed.' : null),
      dn.el,
      field('Comment', comment),
      field('Reference', reference),
      canWrite ? h('div', { class: 'actions' }, save) : null);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const group = { displayname: dn.value(), comment: nullIfEmpty(comment.value), reference: nullIfEmpty(reference.value) };
      if (!system) group.name = nullIfEmpty(name.value);
      saveGroup(g, { group }, errors, save, 'Details', '#save-details');
    });
    return h('section', { class: 'card area-details', id: 'details', 'aria-labelledby': 'details-title' },
      h('h2', { id: 'details-title' }, 'Details'),
      canWrite ? null : h('p', { class: 'note' }, 'You can see this group but not change it: that needs bag_write.'),
      form);
  }

  function membersSection(g) {
    const gr = g.group;
    const rights = g._generated_rights || {};
    const canLink = 'link' in rights;
    const canUnlink = 'unlink' in rights;
    const system = gr.type === 'system';
    const errors = h('div', { id: 'members-errors' });
    const summary = h('p', { class: 'summary', id: 'members-summary' }, 'Loading…');
    const tbody = h('tbody', { id: 'members-body' });
    const table = h('table', { class: 'data responsive', id: 'members-table' },
      h('caption', { class: 'visually-hidden' }, 'Members'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Login'), h('th', { scope: 'col' }, 'Name'),
        h('th', { scope: 'col' }, 'ID'), canUnlink ? h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')) : null)),
      tbody);
    const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of members' });
    const results = h('div', { id: 'members-results', 'aria-live': 'polite', tabindex: '-1' });
    let offset = 0;

    async function load() {
      table.dataset.state = 'loading';
      try {
        const r = await api('GET', `/api/v1/group/${gr._id}/members`, { query: { limit: MEMBER_PAGE, offset } });
        const total = r.total === null ? r.data.length : r.total;
        if (total > 0 && offset >= total) { offset = Math.floor((total - 1) / MEMBER_PAGE) * MEMBER_PAGE; load(); return; }
        clear(errors);
        clear(tbody);
        for (const u of r.data) {
          const x = u.user || {};
          tbody.append(h('tr', { dataset: { userId: String(x._id), login: x.login || '' } },
            h('td', { 'data-label': 'Login' }, x.login || '—'),
            h('td', { 'data-label': 'Name' }, x._generated_displayname || ''),
            h('td', { 'data-label': 'ID' }, String(x._id)),
            canUnlink ? h('td', null, h('button', {
              type: 'button', class: 'button secondary small', 'aria-label': `Remove ${x.login || '#' + x._id} from the group`,
              onclick: (e) => change({ remove: [x._id] }, e.currentTarget, { [x._id]: x.login || '#' + x._id }),
            }, 'Remove')) : null));
        }
        if (!r.data.length) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: canUnlink ? '4' : '3' }, 'No members.')));
        summary.textContent = total === 0 ? 'This group has no members.'
          : `Members ${fmtNumber(offset + 1)}–${fmtNumber(offset + r.data.length)} of ${fmtNumber(total)}`;
        summary.dataset.total = String(total);
        renderPager(pager, offset, MEMBER_PAGE, total, (off) => { offset = off; load(); });
      } catch (e) {
        summary.textContent = '';
        clear(tbody);
        showError(errors, e);
      } finally {
        table.dataset.state = 'ready';
      }
    }

    const RESULT_TEXT = {
      added: 'added', already_member: 'was already a member', removed: 'removed',
      not_member: 'was not a member', not_found: 'does not exist',
    };

    // change posts {"add"|"remove": [ids]} and reports every id's result;
    // only "added" and "removed" are shown as done.
    async function change(body, button, labels) {
      hideToast(); // an earlier success must not stand next to a refusal
      clear(results);
      clear(errors);
      if (button) button.disabled = true;
      try {
        const r = await api('POST', `/api/v1/group/${gr._id}/members`, { body });
        const lines = memberResults(r.data).map(({ id, result }) => {
          const ok = result === 'added' || result === 'removed';
          return h('li', { class: ok ? 'ok' : 'warn', dataset: { result } },
            `${labels[id] || 'user #' + id} ${RESULT_TEXT[result] || result}.`);
        });
        const allOK = lines.every((li) => li.classList.contains('ok'));
        results.append(h('div', { class: 'alert ' + (allOK ? 'alert-ok' : 'alert-warn'), role: allOK ? 'status' : 'alert' },
          h('ul', { class: 'plain' }, lines)));
        await load();
        if (app.refreshAudit) app.refreshAudit();
        // A removed row took the focus with it: put it on the outcome.
        if (!document.activeElement || document.activeElement === document.body) results.focus();
      } catch (e) {
        if (button) button.disabled = false;
        showError(errors, e);
      }
    }

    let addForm = null;
    if (canLink) {
      const pk = picker({
        id: 'member-search', label_: 'Add a user (search by login)', placeholder: 'login or user id',
        help: 'Type a login and choose the user.',
        search: searchUsers, key: (u) => String(u.user._id), label: (u) => 'Add ' + userLabel(u),
        choose: async (u) => {
          await change({ add: [u.user._id] }, null, { [u.user._id]: u.user.login || '#' + u.user._id });
          pk.reset();
          pk.input.focus();
        },
      });
      addForm = h('div', { class: 'add-member' }, pk.el);
    }

    load();
    return h('section', { class: 'card area-members', id: 'members', 'aria-labelledby': 'members-title' },
      h('h2', { id: 'members-title' }, 'Members'),
      system ? h('p', { class: 'note' }, 'The members of a system group are computed by groupd; they cannot be added or removed.') : null,
      !system && !canLink && !canUnlink ? h('p', { class: 'note' }, 'You cannot change the members: that needs link (add) or unlink (remove).') : null,
      errors, results, summary, h('div', { class: 'table-wrap' }, table), pager, addForm);
  }

  // memberResults reads the per-id results of a members change, whichever
  // of the usual shapes the server uses: [{id, result}], {"<id>": "result"}
  // or {"added": [ids], "removed": [ids], ...}.
  function memberResults(data) {
    const out = [];
    const pick = (o) => {
      const id = o.id !== undefined ? o.id : o._id !== undefined ? o._id : o.user_id !== undefined ? o.user_id : (o.user && o.user._id);
      const result = o.result || o.status || o.action;
      out.push({ id: Number(id), result: String(result) });
    };
    const walk = (d) => {
      if (Array.isArray(d)) { d.forEach((o) => (o && typeof o === 'object' ? pick(o) : null)); return; }
      if (!d || typeof d !== 'object') return;
      for (const key of ['results', 'result', 'users', 'items']) {
        if (Array.isArray(d[key])) { walk(d[key]); return; }
      }
      for (const [k, v] of Object.entries(d)) {
        if (/^\d+$/.test(k) && typeof v === 'string') out.push({ id: Number(k), result: v });
        else if (/^\d+$/.test(k) && v && typeof v === 'object') out.push({ id: Number(k), result: String(v.result || v.status) });
        else if (Array.isArray(v)) v.forEach((id) => out.push({ id: Number(typeof id === 'object' ? id._id || id.id : id), result: k }));
      }
    };
    walk(data);
    return out;
  }

  // --- ACL -----------------------------------------------------------------

  // implied returns the rights granted by the explicit ones, without them.
  function impliedBy(explicit) {
    const out = new Map(); // right -> the explicit right that implies it
    const visit = (from, r) => {
      for (const x of IMPLIES[r] || []) {
        if (!out.has(x)) out.set(x, from);
        visit(from, x);
      }
    };
    for (const r of explicit) visit(r, r);
    for (const r of explicit) out.delete(r);
    return out;
  }

  function toLocalInput(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return '';
    const p = (n) => String(n).padStart(2, '0');
    return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
  }

  function fromLocalInput(v) {
    if (!v) return null;
    const d = new Date(v);
    if (isNaN(d)) return null;
    return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  function entryState(e) {
    if (!e.active) return 'inactive';
    const now = Date.now();
    if (e.when && e.when.from && Date.parse(e.when.from) > now) return 'not yet';
    if (e.when && e.when.to && Date.parse(e.when.to) <= now) return 'expired';
    return 'in effect';
  }

  // hiddenSection stands for a part of the full format the server leaves
  // out for a caller without bag_write on the group (_acl, _system_rights).
  function hiddenSection(id, area, title, what) {
    return h('section', { class: 'card ' + area, id, 'aria-labelledby': id + '-title' },
      h('h2', { id: id + '-title' }, title),
      h('p', { class: 'note', id: id + '-hidden' }, `Only holders of bag_write on this group see its ${what}.`));
  }

  function aclSection(g, reload) {
    void reload;
    if (!('_acl' in g)) return hiddenSection('acl', 'area-acl', 'Access control list', 'access control list');
    const rights = g._generated_rights || {};
    const editable = ('bag_write' in rights) && hasSys('system.group', 'edit_acl');
    const errors = h('div', { id: 'acl-errors' });
    const dirty = h('p', { class: 'dirty', id: 'acl-dirty', hidden: true }, 'Unsaved changes.');
    // The working copy: rows of {id, who, rights:{name:params}, active, from, to}.
    const rows = (g._acl || []).map((e) => ({
      id: e._id, who: e.who, rights: Object.assign({}, e.rights), active: e.active,
      from: e.when && e.when.from, to: e.when && e.when.to, created: e.date_created,
    }));
    const tbody = h('tbody', { id: 'acl-body' });
    const save = h('button', { type: 'button', class: 'button', id: 'acl-save', hidden: !editable }, 'Save access control');

    function markDirty() { dirty.hidden = false; }

    function draw() {
      clear(tbody);
      rows.forEach((row, i) => {
        const who = subjectLabel(row.who);
        const explicit = ACL_RIGHTS.filter((r) => r in row.rights);
        const implied = impliedBy(explicit);
        const tr = h('tr', { dataset: { who, index: String(i) } },
          h('th', { scope: 'row', 'data-label': 'Who' }, who));
        const cells = h('td', { 'data-label': 'Rights', class: 'rights-cell' });
        const list = h('div', { class: 'rights-list' });
        const realms = {};
        for (const [realm, label] of [['group', 'Group'], ['members', 'Members'], ['users', 'Users']]) {
          const ul = h('ul', { 'aria-label': `${label} rights for ${who}` });
          realms[realm] = ul;
          list.append(h('div', { class: 'realm' }, h('span', { class: 'realm-label', 'aria-hidden': 'true' }, label), ul));
        }
        for (const r of ACL_RIGHTS) {
          const isExplicit = r in row.rights;
          const by = implied.get(r);
          const id = nextId('acl');
          const cb = h('input', {
            type: 'checkbox', id, checked: isExplicit || !!by, disabled: !editable || (!!by && !isExplicit),
            dataset: { right: r, implied: by ? 'true' : 'false' },
          });
          cb.addEventListener('change', () => {
            if (cb.checked) row.rights[r] = row.rights[r] || {};
            else delete row.rights[r];
            markDirty();
            draw();
            const again = tbody.querySelector(`tr[data-index="${i}"] input[data-right="${r}"]`);
            if (again) again.focus();
          });
          const realm = r.startsWith('bag_') ? 'group' : r === 'link' || r === 'unlink' ? 'members' : 'users';
          realms[realm].append(h('li', { class: by && !isExplicit ? 'implied' : isExplicit ? 'explicit' : '' },
            cb, h('label', { for: id, title: RIGHT_INFO[r] }, r,
              by && !isExplicit ? h('span', { class: 'implied-note' }, ` (implied by ${by})`) : null,
              h('span', { class: 'visually-hidden' }, ` for ${who}`))));
        }
        cells.append(list);
        const effective = ACL_RIGHTS.filter((r) => r in row.rights || implied.has(r));
        cells.append(h('p', { class: 'help effective' }, 'Grants: ' + (effective.join(', ') || 'nothing')));
        tr.append(cells);

        const active = h('input', { type: 'checkbox', id: nextId('acl-active'), checked: row.active, disabled: !editable });
        active.addEventListener('change', () => { row.active = active.checked; markDirty(); draw(); });
        tr.append(h('td', { 'data-label': 'Active' }, h('div', { class: 'check' }, active,
          h('label', { for: active.id }, 'Active', h('span', { class: 'visually-hidden' }, ` for ${who}`))),
          h('p', { class: 'help state' }, entryState({ active: row.active, when: { from: row.from, to: row.to } }))));

        const from = h('input', { type: 'datetime-local', value: toLocalInput(row.from), disabled: !editable, 'aria-label': `Valid from, for ${who}` });
        const to = h('input', { type: 'datetime-local', value: toLocalInput(row.to), disabled: !editable, 'aria-label': `Valid until, for ${who}` });
        from.addEventListener('change', () => { row.from = fromLocalInput(from.value); markDirty(); });
        to.addEventListener('change', () => { row.to = fromLocalInput(to.value); markDirty(); });
        tr.append(h('td', { 'data-label': 'When' }, h('div', { class: 'when' },
          h('span', null, 'from'), from, h('span', null, 'until'), to)));
        tr.append(h('td', { 'data-label': '' }, editable ? h('button', {
          type: 'button', class: 'button secondary small', 'aria-label': `Remove the entry for ${who}`,
          onclick: () => { rows.splice(i, 1); markDirty(); draw(); save.focus(); },
        }, 'Remove') : null));
        tbody.append(tr);
      });
      if (!rows.length) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: '5' }, 'No entries: only the owner, the members and holders of system rights have access.')));
    }
    draw();

    save.addEventListener('click', () => {
      const acl = rows.map((row) => {
        const e = { who: row.who, rights: row.rights, active: !!row.active };
        if (row.id) e._id = row.id;
        if (row.from || row.to) e.when = { from: row.from || null, to: row.to || null };
        return e;
      });
      saveGroup(g, { _acl: acl }, errors, save, 'Access control', '#acl-save');
    });

    let adder = null;
    if (editable) {
      const kind = h('select', { id: 'acl-kind' }, h('option', { value: 'group' }, 'a group'), h('option', { value: 'user' }, 'a user'));
      const pk = picker({
        id: 'acl-search', label_: 'Find', placeholder: 'name or login',
        search: (text, signal) => kind.value === 'user' ? searchUsers(text, signal) : searchGroups(text, signal),
        key: (x) => (x.user ? 'user:' + x.user._id : 'group:' + x.group._id),
        label: (x) => 'Add ' + (x.user ? 'user ' + userLabel(x) : 'group ' + groupTitle(x)),
        choose: (x) => {
          const who = x.user ? { _basetype: 'user', user: { _id: x.user._id, login: x.user.login, _generated_displayname: x.user._generated_displayname } }
            : { _basetype: 'group', group: { _id: x.group._id, name: x.group.name, _displayname: x.group.displayname } };
          rows.push({ who, rights: { bag_read: {} }, active: true, from: null, to: null });
          markDirty();
          draw();
          pk.reset();
          const last = tbody.querySelector(`tr[data-index="${rows.length - 1}"] input[data-right="bag_read"]`);
          if (last) last.focus();
        },
      });
      kind.addEventListener('change', () => pk.reset());
      adder = h('div', { class: 'acl-add' }, h('h3', null, 'Add an entry'), field('For', kind), pk.el);
    }

    return h('section', { class: 'card area-acl', id: 'acl', 'aria-labelledby': 'acl-title' },
      h('h2', { id: 'acl-title' }, 'Access control list'),
      h('p', { class: 'help' }, 'Rights imply others: bag_delete ⇒ bag_write ⇒ bag_read, and delete ⇒ write ⇒ read (on the group’s users). ' +
        'Implied rights are ticked and greyed. The owner always has bag_read, bag_write and bag_delete; members can see the group.'),
      editable ? null : h('p', { class: 'note' }, 'You cannot change the access control list: that needs bag_write on the group and the system right system.group with edit_acl.'),
      errors,
      h('div', { class: 'table-wrap' }, h('table', { class: 'data responsive acl', id: 'acl-table' },
        h('caption', { class: 'visually-hidden' }, 'Access control entries'),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Who'), h('th', { scope: 'col' }, 'Rights'),
          h('th', { scope: 'col' }, 'Active'), h('th', { scope: 'col' }, 'When (your time zone)'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
        tbody)),
      adder,
      editable ? h('div', { class: 'actions' }, save, dirty) : null);
  }

  async function searchGroups(text, signal) {
    const r = await api('GET', '/api/v1/group', { signal, query: { name: text, limit: 10 } });
    return r.data;
  }

  // --- system rights ----------------------------------------------------------

  function systemRightsSection(g) {
    if (!('_system_rights' in g)) return hiddenSection('sysrights', 'area-sysrights', 'System rights', 'system rights');
    const rights = g._generated_rights || {};
    const sr = g._system_rights || {};
    const editable = ('bag_write' in rights) && hasSys('system.group', 'edit_system_rights');
    const errors = h('div', { id: 'sysrights-errors' });
    const names = Object.keys(sr).sort();
    const list = names.length ? h('dl', { class: 'sysrights', id: 'sysrights-list' }, names.map((n) => {
      const params = Object.entries(sr[n] || {}).map(([k, v]) => (v === true ? k : `${k}: ${JSON.stringify(v)}`));
      return h('div', null, h('dt', null, n), h('dd', null, params.length ? params.join(', ') : h('span', { class: 'muted' }, 'no parameters')));
    })) : h('p', { class: 'muted', id: 'sysrights-list' }, 'This group grants no system rights to its members.');
    let editor = null;
    if (editable) {
      const ta = h('textarea', { id: 'sysrights-json', rows: '6', spellcheck: 'false', class: 'code' }, JSON.stringify(sr, null, 2));
      const save = h('button', { type: 'submit', class: 'button', id: 'sysrights-save' }, 'Save system rights');
      editor = h('form', { novalidate: true },
        h('details', null, h('summary', null, 'Edit as JSON'),
          field('System rights (JSON object: right → parameters)', ta, 'Example: {"system.group": {"create": true}}. Only holders of system.root may grant system.root.'),
          h('div', { class: 'actions' }, save)));
      editor.addEventListener('submit', (e) => {
        e.preventDefault();
        let value;
        try {
          value = JSON.parse(ta.value || '{}');
          if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error('a JSON object is expected');
        } catch (err) {
          showError(errors, new ApiError(0, { realm: 'client', code: 'client.invalid_json', description: 'Not valid JSON: ' + err.message }));
          return;
        }
        saveGroup(g, { _system_rights: value }, errors, save, 'System rights', '#sysrights-save');
      });
    }
    return h('section', { class: 'card area-sysrights', id: 'sysrights', 'aria-labelledby': 'sysrights-title' },
      h('h2', { id: 'sysrights-title' }, 'System rights'),
      h('p', { class: 'help' }, 'Every member of the group holds these.'),
      errors, list, editor,
      editable ? null : h('p', { class: 'note' }, 'Changing them needs bag_write and the system right system.group with edit_system_rights.'));
  }

  // --- audit trail -------------------------------------------------------------

  function auditSection(g) {
    const sec = h('section', { class: 'card area-audit', id: 'audit', 'aria-labelledby': 'audit-title' },
      h('h2', { id: 'audit-title' }, 'Audit trail'));
    if (!isRoot()) {
      sec.append(h('p', { class: 'note', id: 'audit-note' }, 'The audit trail can be read by holders of the system right system.root only.'));
      return sec;
    }
    const errors = h('div', { id: 'audit-errors' });
    const list = h('ol', { class: 'events', id: 'audit-list' });
    const more = h('button', { type: 'button', class: 'button secondary', id: 'audit-more', hidden: true }, 'Load more');
    // The group's own events and its membership events, each read from
    // its own position, shown merged in the order they happened.
    const since = { group: 0, membership: 0 };
    const events = [];
    async function load() {
      more.disabled = true;
      try {
        const pages = await Promise.all(['group', 'membership'].map((type) =>
          api('GET', '/api/v1/events', { query: { type, object_id: g.group._id, since: since[type], limit: EVENT_PAGE } })
            .then((r) => ({ type, data: r.data }))));
        clear(errors);
        let full = false;
        for (const { type, data } of pages) {
          for (const ev of data) {
            since[type] = Math.max(since[type], ev._id);
            events.push(ev);
          }
          if (data.length >= EVENT_PAGE) full = true;
        }
        events.sort((a, b) => a._id - b._id);
        clear(list);
        for (const ev of events) list.append(eventItem(ev));
        if (!events.length) list.append(h('li', { class: 'muted' }, 'No events.'));
        more.hidden = !full;
      } catch (e) {
        showError(errors, e);
      } finally {
        more.disabled = false;
      }
    }
    more.addEventListener('click', load);
    app.refreshAudit = load; // new events after a change on this page
    load();
    sec.append(h('p', { class: 'help' }, 'Every change of this group, oldest first.'), errors, list, more);
    return sec;
  }

  const ACTIONS = { create: 'created', update: 'changed', delete: 'deleted', add_member: 'member added', remove_member: 'member removed' };

  function eventItem(ev) {
    let changes;
    if (ev.type === 'membership') {
      const m = ev.after || ev.before || {};
      changes = m.user_id ? [h('span', null, nameSpan(m.user_id), ev.action === 'add_member' ? ' joined the group' : ' left the group')] : [];
    } else {
      changes = describeChange(ev.before, ev.after);
    }
    return h('li', { dataset: { action: ev.action, type: ev.type } },
      h('div', { class: 'event-head' },
        h('strong', null, ACTIONS[ev.action] || ev.action), ' by ', nameSpan(ev.actor_user_id), ' · ', timeEl(ev.timestamp)),
      changes.length ? h('ul', { class: 'changes' }, changes.map((c) => h('li', null, c))) : null);
  }

  function describeChange(before, after) {
    const out = [];
    const b = (before && before.group) || {};
    const a = (after && after.group) || {};
    if (!before && after) { out.push(`created as “${a.name || ''}”`); return out; }
    if (before && !after) { out.push('deleted'); return out; }
    const show = (v) => (v === null || v === undefined || v === '' ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));
    for (const k of ['name', 'displayname', 'comment', 'reference', 'type']) {
      if (JSON.stringify(b[k]) !== JSON.stringify(a[k])) out.push(`${k}: ${show(b[k])} → ${show(a[k])}`);
    }
    const acl = (x) => JSON.stringify(((x && x._acl) || []).map((e) => [e.who, e.rights, e.active, e.when]));
    if (acl(before) !== acl(after)) {
      out.push(`access control: ${((before && before._acl) || []).length} → ${((after && after._acl) || []).length} entries`);
    }
    if (JSON.stringify((before && before._system_rights) || {}) !== JSON.stringify((after && after._system_rights) || {})) {
      out.push('system rights: ' + show(after && after._system_rights));
    }
    if (JSON.stringify(before && before._owner) !== JSON.stringify(after && after._owner)) {
      out.push(`owner: ${subjectLabel(before && before._owner)} → ${subjectLabel(after && after._owner)}`);
    }
    if (b._version !== a._version) out.push(`version ${show(b._version)} → ${show(a._version)}`);
    return out;
  }

  // --- delete --------------------------------------------------------------

  function confirmDelete(g, opener) {
    const dlg = $('#confirm');
    const title = groupTitle(g);
    $('#confirm-title').textContent = `Delete the group “${title}”?`;
    $('#confirm-message').textContent = 'This removes the group, its memberships and every access control entry that names it. It cannot be undone.';
    clear($('#confirm-error'));
    const ok = $('#confirm-ok');
    const fresh = ok.cloneNode(false); // drops listeners of earlier dialogs
    fresh.textContent = 'Delete group';
    ok.replaceWith(fresh);
    fresh.addEventListener('click', async () => {
      hideToast();
      fresh.disabled = true;
      try {
        await api('DELETE', '/api/v1/group/' + g.group._id);
        dlg.close('ok');
        location.hash = '#/groups';
        notify(`Group “${title}” deleted.`);
      } catch (e) {
        showError($('#confirm-error'), e);
      } finally {
        fresh.disabled = false;
      }
    });
    dlg.addEventListener('close', () => { if (dlg.returnValue !== 'ok' && opener && opener.isConnected) opener.focus(); }, { once: true });
    dlg.returnValue = '';
    dlg.showModal();
    $('#confirm-cancel').focus();
  }

  document.addEventListener('DOMContentLoaded', start);
})();
