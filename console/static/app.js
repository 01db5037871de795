// The groupd admin console. Plain JavaScript, no build step, no framework:
// a client of the public API (session, group, members, user, events) only.
// Every text that comes from the server is put into the page as text, never
// as HTML.
(function () {
  'use strict';

  const TOKEN_KEY = 'groupd.console.token';
  // The unsaved edits of a group page, kept in this tab across a sign-in
  // after the session ended: {kind, groupId (the group's or user's id), version, title, drafts, labels, attempted}.
  const DRAFT_KEY = 'groupd.console.draft';
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
    tokens: new Set(), // every token this page held: never shown, whatever an answer says
    // The group page on screen: {id, hash, sections: {key: {label, dirty(), draft()}}}.
    // Sections with unsaved edits guard navigation and survive a save of another section.
    page: null,
    saving: '', // what is being saved (for the sign-in page, when the session ended meanwhile)
  };
  if (app.token) app.tokens.add(app.token);

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

  // Numbers and dates follow the browser's locale, as its date inputs do: one
  // format on the whole page.
  function fmtNumber(n) { return Number(n).toLocaleString(); }

  function fmtTime(iso) {
    if (!iso) return '';
    const d = new Date(iso);
    if (isNaN(d)) return iso;
    return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
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
      case 'network': return 'The server is unreachable: groupd did not answer (it may be down or restarting). Nothing was changed by this attempt.';
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
      case 'error.api.attribute_expected':
        if (p.attribute === 'group.name') return 'A group needs a name or a display name.';
        return `Missing value${at}: it is required.`;
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
    return redact(err.description) || 'The server refused this.';
  }

  // redact removes every token this page has held from a text the server
  // sent (session_not_found carries the token as its id): a token on the
  // screen is a token in a screenshot.
  function redact(text) {
    let out = String(text || '');
    for (const t of app.tokens) if (t) out = out.split(t).join('…');
    return out;
  }

  // shownParameters are an error's parameters fit for the screen: no token.
  function shownParameters(err) {
    return Object.entries(err.parameters || {}).filter(([k, v]) => {
      if (k === 'token') return false;
      if (k === 'id' && /session_not_found/.test(err.code || '')) return false;
      return redact(String(v)) === String(v);
    });
  }

  // errorBox shows an error in plain words, with its code and parameters.
  // A version conflict offers a reload button; an unreachable server offers
  // Retry (onRetry repeats what failed).
  function errorBox(err, onReload, onRetry) {
    if (!(err instanceof ApiError)) {
      err = new ApiError(0, { realm: 'client', code: 'client.error', description: String(err && err.message || err) });
    }
    const conflict = err.code === 'error.user.version_mismatch';
    const box = h('div', { class: 'alert alert-error' + (conflict ? ' conflict' : ''), role: 'alert', tabindex: '-1', dataset: { code: err.code } });
    if (conflict) {
      box.append(
        h('p', { class: 'alert-title' }, 'Changed by someone else — reload'),
        h('p', null, `This ${app.page && app.page.kind === 'user' ? 'user' : 'group'} was saved by someone else after you loaded it, so your change was not saved. ` +
          'Reload to see the current version, then make your change again.'),
      );
      if (onReload) box.append(h('p', null, h('button', { type: 'button', class: 'button', 'data-action': 'reload', onclick: onReload }, 'Reload')));
    } else {
      box.append(h('p', { class: 'alert-title' }, explain(err)));
      if (err.code === 'network' && onRetry) {
        box.append(h('p', null, h('button', { type: 'button', class: 'button', 'data-action': 'retry', onclick: onRetry }, 'Retry')));
      }
    }
    const params = shownParameters(err).map(([k, v]) => `${k}=${v}`).join(', ');
    const detail = h('p', { class: 'alert-code' }, 'Code: ', h('code', null, err.code || '—'));
    if (params) detail.append(' · ', params);
    if (err.uuid) detail.append(' · Reference: ', h('code', null, err.uuid));
    box.append(detail);
    return box;
  }

  function showError(container, err, onReload, onRetry) {
    clear(container);
    const box = errorBox(err, onReload, onRetry);
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

  // notify announces a success (or a note) in the polite live region, for
  // the page at forHash (default: this one); another page hides it.
  function notify(message, kind, forHash) {
    const t = $('#toast');
    t.className = 'toast show ' + (kind || 'ok');
    t.textContent = message;
    t.dataset.page = forHash || location.hash;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => { t.className = 'toast'; t.textContent = ''; }, 6000);
  }

  // --- session ------------------------------------------------------------

  function setToken(t) {
    app.token = t;
    if (t) app.tokens.add(t);
    if (t) sessionStorage.setItem(TOKEN_KEY, t); else sessionStorage.removeItem(TOKEN_KEY);
  }

  function sessionLost(err) {
    if (!app.session) return;
    keepDraft();
    app.session = null;
    setToken(null);
    showLogin(err);
  }

  // --- unsaved edits ------------------------------------------------------

  function dirtySections() {
    if (!app.page) return [];
    return Object.entries(app.page.sections).filter(([, sec]) => sec.dirty()).map(([key, sec]) => ({ key, label: sec.label }));
  }

  // drafts are the unsaved edits of the page's sections, but the one in except.
  function drafts(except) {
    const out = {};
    for (const { key } of dirtySections()) if (key !== except) out[key] = app.page.sections[key].draft();
    return out;
  }

  // keepDraft stores the page's unsaved edits in this tab (sessionStorage,
  // never sent anywhere), to be restored on the same group after a sign-in.
  function keepDraft() {
    if (!app.page) return;
    const dirty = dirtySections();
    if (!dirty.length && !app.saving) return;
    const labels = {};
    for (const d of dirty) labels[d.key] = d.label;
    sessionStorage.setItem(DRAFT_KEY, JSON.stringify({
      kind: app.page.kind || 'group', groupId: app.page.id, version: app.page.version, title: app.page.title, drafts: drafts(), labels, attempted: app.saving,
    }));
  }

  function storedDraft() {
    try { return JSON.parse(sessionStorage.getItem(DRAFT_KEY) || 'null'); } catch (e) { return null; }
  }

  function listWords(items) {
    if (items.length <= 1) return items.join('');
    return items.slice(0, -1).join(', ') + ' and ' + items[items.length - 1];
  }

  // draftNotice says plainly what was and was not saved, on the sign-in page
  // and then on the group page where the edits are back.
  function draftNotice(d, restored) {
    const parts = listWords(Object.values(d.labels || {}));
    const lines = [];
    if (d.attempted) lines.push(`Your session ended before “${d.attempted}” could be saved: it was NOT saved.`);
    if (restored) {
      lines.push(parts ? `Your unsaved changes (${parts}) are back in the form below. Nothing of them is saved yet: check them and save.`
        : 'Nothing else was pending.');
    } else {
      lines.push(parts ? `Your unsaved changes to ${d.kind === 'user' ? 'user' : 'group'} “${d.title}” (${parts}) are kept in this tab and come back after you sign in. Nothing of them is saved yet.`
        : `Nothing else of ${d.kind === 'user' ? 'user' : 'group'} “${d.title}” was pending.`);
    }
    return h('div', { class: 'alert alert-warn', role: 'alert', id: restored ? 'draft-restored' : 'draft-kept' },
      h('p', { class: 'alert-title' }, restored ? 'Restored after signing in again' : 'Your session has ended'),
      lines.map((l) => h('p', null, l)));
  }

  // askLeave asks before unsaved edits are left behind; it resolves to true
  // when the user chose to leave.
  function askLeave(sections) {
    const dlg = $('#confirm');
    $('#confirm-title').textContent = 'Leave without saving?';
    $('#confirm-message').textContent = `You have unsaved changes in ${listWords(sections.map((s) => s.label))}. ` +
      'If you leave this page, they are lost.';
    clear($('#confirm-error'));
    const ok = $('#confirm-ok');
    const fresh = ok.cloneNode(false); // drops listeners of earlier dialogs
    fresh.textContent = 'Leave and discard';
    ok.replaceWith(fresh);
    const opener = document.activeElement;
    return new Promise((resolve) => {
      fresh.addEventListener('click', () => dlg.close('ok'));
      dlg.addEventListener('close', () => {
        const leave = dlg.returnValue === 'ok';
        if (!leave && opener && opener.isConnected) opener.focus();
        resolve(leave);
      }, { once: true });
      dlg.returnValue = '';
      dlg.showModal();
      $('#confirm-cancel').focus();
    });
  }

  // leaveTo goes to hash, asking first when edits would be lost.
  async function leaveTo(hash) {
    const dirty = dirtySections();
    if (dirty.length && !(await askLeave(dirty))) return;
    app.page = null;
    location.hash = hash;
  }

  // A click on an in-app link asks before leaving unsaved edits.
  function guardLinks(e) {
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const a = e.target.closest && e.target.closest('a[href^="#/"]');
    if (!a || !dirtySections().length) return;
    e.preventDefault();
    leaveTo(a.getAttribute('href'));
  }

  function guardUnload(e) {
    if (!dirtySections().length) return;
    e.preventDefault();
    e.returnValue = ''; // older browsers ask only with a returnValue
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
    document.addEventListener('click', guardLinks, true);
    window.addEventListener('beforeunload', guardUnload);
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
    $('#nav-audit').hidden = !isRoot();
    const inst = session.instance || {};
    $('#footer').textContent = `${inst.name || 'groupd'} · server ${inst.server_version || ''} · API ${inst.api || ''}`;
    if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/groups');
    route();
  }

  async function logout() {
    const dirty = dirtySections();
    if (dirty.length && !(await askLeave(dirty))) return;
    app.page = null;
    sessionStorage.removeItem(DRAFT_KEY);
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
        showError(errors, e2, null, () => form.requestSubmit());
        password.focus();
      } finally {
        submit.disabled = false;
        submit.textContent = 'Sign in';
      }
    });
    const main = clear($('#main'));
    const kept = storedDraft();
    if (kept) main.append(draftNotice(kept, false));
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
    if (app.page && location.hash !== app.page.hash && dirtySections().length) {
      // Back, Forward or a typed address while edits are unsaved: stay on
      // the page (its address back in place) and ask.
      const target = location.hash;
      history.replaceState(null, '', app.page.hash);
      leaveTo(target);
      return;
    }
    app.page = null;
    const toast = $('#toast');
    if (toast.dataset.page !== location.hash) hideToast(); // a success of another page
    const { path, params } = parseHash();
    let m;
    for (const a of document.querySelectorAll('#mainnav a')) a.removeAttribute('aria-current');
    if (path === '/groups') { $('#nav-groups').setAttribute('aria-current', 'page'); viewGroups(params); return; }
    if (path === '/groups/new') { viewCreate(); return; }
    if ((m = path.match(/^\/group\/(\d+)$/))) { viewGroup(Number(m[1])); return; }
    if (path === '/users') { $('#nav-users').setAttribute('aria-current', 'page'); viewUsers(params); return; }
    if (path === '/users/new') { viewCreateUser(); return; }
    if ((m = path.match(/^\/user\/(\d+)$/))) { viewUser(Number(m[1])); return; }
    if (path === '/tokens') { $('#nav-tokens').setAttribute('aria-current', 'page'); viewTokens(); return; }
    if (path === '/audit') { $('#nav-audit').setAttribute('aria-current', 'page'); viewAudit(params); return; }
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
    if (names.length === ACL_RIGHTS.length) {
      return h('ul', { class: 'badges', 'aria-label': 'rights' },
        h('li', { class: 'badge badge-all', title: names.join(', ') }, 'all rights'));
    }
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

  // listNav records a new state of the list in the history, so that Back
  // returns to the previous page or filter. Typing in one field is one step:
  // its keystrokes replace each other.
  let typingIn = null;
  function listNav(hash, field) {
    if (hash === location.hash) return;
    if (field && typingIn === field) history.replaceState(null, '', hash);
    else history.pushState(null, '', hash);
    typingIn = field || null;
    if (app.page === null && $('#toast').dataset.page !== hash) hideToast();
  }

  function viewGroups(params) {
    const st = listState(params);
    typingIn = null;
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

    function update(reset, field) {
      if (reset) st.offset = 0;
      st.name = name.value.trim();
      st.type = typeSel.value === 'custom' ? custom.value.trim() : typeSel.value;
      st.member = member.value.trim();
      st.limit = Number(sizeSel.value);
      // The address keeps the filters (bookmarks, Back) without re-rendering
      // the page (the focus stays in the field).
      listNav(listHash(st), field);
      load();
    }

    let debounce = 0;
    const later = (field) => () => { clearTimeout(debounce); debounce = setTimeout(() => update(true, field), 250); };
    name.addEventListener('input', later('name'));
    member.addEventListener('input', later('member'));
    custom.addEventListener('input', later('custom'));
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
          if (ac !== app.listAbort) return;
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
        showError(errors, e, null, load);
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
        // Long texts are cut to one line; the tooltip has them whole.
        const cut = (text) => (text ? h('span', { class: 'cut', title: text }, text) : '');
        const owner = subjectLabel(g._owner);
        tbody.append(h('tr', { dataset: { groupId: String(gr._id), name: gr.name || '' } },
          h('td', { 'data-label': 'ID' }, String(gr._id)),
          h('td', { 'data-label': 'Name' }, h('a', { href: '#/group/' + gr._id, class: 'cut', title: gr.name || '' }, gr.name || h('span', { class: 'muted' }, '(no name)'))),
          h('td', { 'data-label': 'Display name' }, cut(displayname(g))),
          h('td', { 'data-label': 'Type' }, h('span', { class: 'type type-' + (gr.type === 'system' || gr.type === 'easydb' ? gr.type : 'custom') }, gr.type)),
          h('td', { 'data-label': 'Reference' }, cut(gr.reference || '')),
          h('td', { 'data-label': 'Owner' }, cut(owner)),
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
        listNav(listHash(st));
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

  // searchUsers finds users by login (or by id, when text is a number):
  // {items, total, searched}, the exact login first. The server orders
  // GET /api/v1/user?login= by match quality (the login itself, then logins
  // starting with the text, then containing it), so that "user1" is on the
  // first page among user1000..user1999.
  async function searchUsers(text, signal) {
    text = text.trim();
    if (!text) return { items: [], total: 0, searched: '' };
    if (/^#?\d+$/.test(text)) {
      const id = text.replace('#', '');
      const r = await api('GET', '/api/v1/user/' + id, { signal });
      const items = Array.isArray(r.data) ? r.data : [];
      return { items, total: items.length, searched: `the user with id ${id}` };
    }
    const r = await api('GET', '/api/v1/user', { signal, query: { login: text, limit: 10 } });
    const needle = text.toLowerCase();
    const rank = (u) => {
      const l = ((u.user || {}).login || '').toLowerCase();
      return l === needle ? 0 : l.startsWith(needle) ? 1 : 2;
    };
    const items = (Array.isArray(r.data) ? r.data : []).map((u, i) => [rank(u), i, u])
      .sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((x) => x[2]);
    return { items, total: r.total === null ? items.length : r.total, searched: `logins containing “${text}”` };
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
    const users = (await searchUsers(login, signal)).items;
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
        const res = await opts.search(text, mine.signal);
        if (mine !== ac) return;
        const found = Array.isArray(res) ? res : res.items;
        const total = Array.isArray(res) ? null : res.total;
        const searched = (!Array.isArray(res) && res.searched) || `“${text}”`;
        clear(results);
        // The picker says what it searched and how much of it is shown.
        results.append(h('li', { class: 'muted picker-searched' }, !found.length ? `Searched ${searched}: nothing found.`
          : `Searched ${searched}: ` + (total !== null && total > found.length
            ? `the best ${fmtNumber(found.length)} of ${fmtNumber(total)}, exact matches first; type more to narrow.`
            : `${fmtNumber(found.length)} found.`)));
        for (const item of found) {
          results.append(h('li', null, h('button', {
            type: 'button', class: 'button secondary small', dataset: { pick: opts.key(item) },
            onclick: () => { opts.choose(item); },
          }, opts.label(item))));
        }
      } catch (e) {
        if (e.name === 'AbortError') return;
        clear(results);
        errors.append(errorBox(e, null, run));
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

  function displaynameEditor(values, disabled, onChange) {
    const list = h('div', { class: 'cultures' });
    const rows = [];
    function addRow(culture, text, focus) {
      const c = h('input', { class: 'culture', value: culture || '', placeholder: 'en-US', list: 'cultures', disabled, 'aria-label': 'Culture', autocomplete: 'off' });
      const t = h('input', { class: 'culture-text', value: text || '', disabled, 'aria-label': 'Display name', autocomplete: 'off' });
      const row = h('div', { class: 'culture-row' });
      const rm = disabled ? null : h('button', {
        type: 'button', class: 'button secondary small', 'aria-label': 'Remove this display name',
        onclick: () => { row.remove(); rows.splice(rows.indexOf(entry), 1); addBtn.focus(); if (onChange) onChange(); },
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
      firstText() { return rows.length ? rows[0].t : null; },
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

  // fieldError attaches a message to its field (aria-invalid, described by
  // the message); clearFieldErrors removes them all from a form.
  function fieldError(input, message) {
    if (!input) return;
    const id = (input.id || (input.id = nextId('f'))) + '-error';
    const msg = h('p', { class: 'field-error', id }, message);
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', [input.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
    (input.closest('.culture-row') || input).insertAdjacentElement('afterend', msg);
  }

  function clearFieldErrors(form) {
    for (const el of form.querySelectorAll('.field-error')) el.remove();
    for (const el of form.querySelectorAll('[aria-invalid]')) {
      el.removeAttribute('aria-invalid');
      const rest = (el.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('-error'));
      if (rest.length) el.setAttribute('aria-describedby', rest.join(' ')); else el.removeAttribute('aria-describedby');
    }
  }

  // holderOfDisplayname finds the group that already uses one of the
  // display names (the server's refusal names the attribute, not the group).
  async function holderOfDisplayname(values, exceptId) {
    for (const [culture, value] of Object.entries(values)) {
      try {
        const r = await api('GET', '/api/v1/group', { query: { name: value, limit: 20 } });
        const g = r.data.find((x) => x.group._id !== exceptId && ((x.group.displayname || {})[culture] === value));
        if (g) return { g, culture, value };
      } catch (e) { return null; }
    }
    return null;
  }

  // showFieldErrors puts a refusal next to the field it is about: the
  // attribute of a missing or invalid value, the constraint of a clash.
  async function showFieldErrors(err, fields, displaynames, exceptId) {
    const p = err.parameters || {};
    const attr = p.attribute || p.constraint || '';
    if (err.code === 'error.user.integrity_constraint_violation' && attr === 'group.displayname') {
      const held = await holderOfDisplayname(displaynames, exceptId);
      fieldError(fields['group.displayname'], held
        ? `The display name “${held.value}” (${held.culture}) is used by the group “${groupTitle(held.g)}” (#${held.g.group._id}).`
        : 'Another group already uses this display name.');
      return;
    }
    if (!fields[attr]) return;
    fieldError(fields[attr], explain(err));
  }

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
    const fields = { 'group.name': name, 'group.displayname': dn.firstText(), 'group.reference': reference, 'group.type': type };
    const form = h('form', { class: 'card form', id: 'create-form', novalidate: true },
      errors,
      field('Name', name, 'Unique. A group needs a name or a display name (a display name alone is enough).'),
      dn.el,
      field('Comment', comment),
      field('Reference', reference, 'Optional, unique: an external id, e.g. of a directory.'),
      field('Type', type, '“easydb”, or “custom-<name>” for a custom group type.'),
      h('div', { class: 'actions' }, submit, h('a', { class: 'button secondary', href: '#/groups' }, 'Cancel')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clear(errors);
      clearFieldErrors(form);
      hideToast();
      const group = { _version: 1, name: nullIfEmpty(name.value), displayname: dn.value(), comment: nullIfEmpty(comment.value), reference: nullIfEmpty(reference.value) };
      if (type.value.trim() && type.value.trim() !== 'easydb') group.type = type.value.trim();
      if (!group.name && !Object.keys(group.displayname).length) {
        // Not sent: the server would refuse it, and the help says why.
        fieldError(name, 'Give the group a name or a display name (or both).');
        name.focus();
        return;
      }
      submit.disabled = true;
      try {
        const r = await api('PUT', '/api/v1/group', { body: [{ _basetype: 'group', group }] });
        const g = r.data[0];
        const target = '#/group/' + g.group._id;
        notify(`Group “${groupTitle(g)}” created.`, 'ok', target);
        location.hash = target;
      } catch (err) {
        showError(errors, err, null, () => form.requestSubmit());
        await showFieldErrors(err, fields, group.displayname, 0);
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
      if (!app.session) return; // the session ended: the sign-in page is up
      page('Group #' + id, h('div', { id: 'group-errors' }, errorBox(e, null, () => viewGroup(id))), h('p', null, h('a', { href: '#/groups' }, '‹ All groups')));
      return;
    }
    if (!g) {
      page('Group #' + id, h('div', { class: 'alert alert-warn', role: 'alert' },
        h('p', { class: 'alert-title' }, `There is no group #${id}. It may have been deleted.`)),
        h('p', null, h('a', { href: '#/groups' }, '‹ All groups')));
      return;
    }
    // Edits kept across a sign-in come back on their group, once.
    const kept = storedDraft();
    if (kept && (kept.kind || 'group') === 'group' && kept.groupId === id) {
      sessionStorage.removeItem(DRAFT_KEY);
      renderGroup(g, null, kept.drafts || {}, kept);
      return;
    }
    renderGroup(g);
  }

  // renderGroup draws a group page from what the server answered. drafts
  // are unsaved edits to put back into their sections ({details, acl,
  // sysrights}); kept is a draft restored after a sign-in, to report.
  function renderGroup(g, focusSel, drafts, kept) {
    app.refreshAudit = null;
    drafts = drafts || {};
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

    const pageState = { id: gr._id, version: gr._version, title: groupTitle(g), hash: location.hash, sections: {} };
    const details = detailsSection(g, can('bag_write'), drafts.details);
    const acl = aclSection(g, drafts.acl);
    const sysrights = systemRightsSection(g, drafts.sysrights);
    for (const [key, sec] of [['details', details], ['acl', acl], ['sysrights', sysrights]]) {
      if (sec.state) pageState.sections[key] = sec.state;
    }
    const sections = h('div', { class: 'group-grid' }, details.el, membersSection(g), acl.el, sysrights.el, auditSection(g),
      explainSection({ group: g }));

    let restored = null;
    if (kept) {
      restored = draftNotice(kept, true);
      if (kept.version !== gr._version) {
        restored.append(h('p', null, `The group was changed meanwhile (version ${kept.version} → ${gr._version}): ` +
          'the fields show your edits on top of the current version.'));
      }
    }
    page(groupTitle(g),
      h('p', { class: 'crumbs' }, h('a', { href: '#/groups' }, '‹ All groups')),
      restored, summary, sections);
    app.page = pageState;
    if (focusSel) { const el = $(focusSel); if (el) el.focus(); }
  }

  // saveGroup sends one section's changes (version + 1) and shows the
  // result: the page is redrawn from what the server answered, never from
  // what was sent, and the other sections keep their unsaved edits.
  async function saveGroup(g, changes, errors, button, what, focusSel, section, onRefused) {
    clear(errors);
    hideToast(); // an earlier success must not stand next to a refusal
    button.disabled = true;
    const item = { _basetype: 'group', group: Object.assign({ _id: g.group._id, _version: g.group._version + 1 }, changes.group || {}) };
    if (changes._acl !== undefined) item._acl = changes._acl;
    if (changes._system_rights !== undefined) item._system_rights = changes._system_rights;
    app.saving = what;
    try {
      const r = await api('POST', '/api/v1/group', { body: [item] });
      const saved = r.data[0];
      const others = drafts(section);
      renderGroup(saved, focusSel, others);
      const kept = Object.keys(others).map((k) => app.page.sections[k].label);
      notify(`${what} saved: the group is now at version ${saved.group._version}.` +
        (kept.length ? ` Your unsaved changes in ${listWords(kept)} are still there, not saved.` : ''));
    } catch (e) {
      button.disabled = false;
      if (!app.session) return; // the session ended: the sign-in page says what was not saved
      showError(errors, e, () => viewGroup(g.group._id), () => button.click());
      if (onRefused) onRefused(e);
    } finally {
      app.saving = '';
    }
  }

  // sectionState tracks the unsaved edits of one section: dirty() compares
  // what the fields hold now with what they were drawn from; the marker
  // ("Unsaved changes") follows it.
  function sectionState(label, current, original, marker) {
    const base = JSON.stringify(original);
    const state = {
      label,
      dirty: () => JSON.stringify(current()) !== base,
      draft: () => current(),
      update: () => { marker.hidden = !state.dirty(); },
    };
    return state;
  }

  function detailsSection(g, canWrite, draft) {
    const gr = g.group;
    const system = gr.type === 'system';
    const original = { name: gr.name || '', displayname: gr.displayname || {}, comment: gr.comment || '', reference: gr.reference || '' };
    const shown = draft || original;
    const errors = h('div', { id: 'details-errors' });
    const dirty = h('p', { class: 'dirty', id: 'details-dirty', hidden: true }, 'Unsaved changes.');
    const name = h('input', { id: 'edit-name', name: 'name', value: shown.name, disabled: !canWrite || system, autocomplete: 'off', maxlength: '256' });
    let state = null;
    const changed = () => { if (state) state.update(); };
    const dn = displaynameEditor(shown.displayname, !canWrite, changed);
    const comment = h('textarea', { id: 'edit-comment', name: 'comment', rows: '3', disabled: !canWrite }, shown.comment);
    const reference = h('input', { id: 'edit-reference', name: 'reference', value: shown.reference, disabled: !canWrite, autocomplete: 'off' });
    const save = h('button', { type: 'submit', class: 'button', id: 'save-details' }, 'Save changes');
    const form = h('form', { id: 'details-form', novalidate: true },
      errors,
      field('Name', name, system ? 'System groups cannot be renamed.' : null),
      dn.el,
      field('Comment', comment),
      field('Reference', reference),
      canWrite ? h('div', { class: 'actions' }, save, dirty) : null);
    if (canWrite) {
      state = sectionState('Details',
        () => ({ name: name.value, displayname: dn.value(), comment: comment.value, reference: reference.value }),
        { name: original.name, displayname: normalDisplaynames(original.displayname), comment: original.comment, reference: original.reference },
        dirty);
      form.addEventListener('input', changed);
      state.update();
    }
    const fields = { 'group.name': name, 'group.displayname': dn.firstText(), 'group.reference': reference, 'group.comment': comment };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      const group = { displayname: dn.value(), comment: nullIfEmpty(comment.value), reference: nullIfEmpty(reference.value) };
      if (!system) group.name = nullIfEmpty(name.value);
      saveGroup(g, { group }, errors, save, 'Details', '#save-details', 'details',
        (err) => showFieldErrors(err, fields, group.displayname, gr._id));
    });
    return {
      state,
      el: h('section', { class: 'card area-details', id: 'details', 'aria-labelledby': 'details-title' },
        h('h2', { id: 'details-title' }, 'Details'),
        canWrite ? null : h('p', { class: 'note' }, 'You can see this group but not change it: that needs bag_write.'),
        form),
    };
  }

  // normalDisplaynames is a display name object as the editor gives it back
  // (trimmed, no empty texts), so that an untouched form is not "changed".
  function normalDisplaynames(d) {
    const out = {};
    for (const [c, t] of Object.entries(d || {})) {
      const v = String(t || '').trim();
      if (v) out[c.trim()] = v;
    }
    return out;
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
        showError(errors, e, null, load);
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

  // groupACL says how the ACL section works on a group; userACL (below) on
  // a user: the rights an entry may grant, who may edit, how it is saved.
  function groupACL(g) {
    const rights = g._generated_rights || {};
    return {
      rights: ACL_RIGHTS,
      first: 'bag_read',
      hiddenNote: 'Only holders of bag_write on this group see its access control list.',
      editable: ('bag_write' in rights) && hasSys('system.group', 'edit_acl'),
      help: 'Rights imply others: bag_delete ⇒ bag_write ⇒ bag_read, and delete ⇒ write ⇒ read (on the group’s users). ' +
        'Implied rights are ticked and greyed. The owner always has bag_read, bag_write and bag_delete; members can see the group.',
      cannot: 'You cannot change the access control list: that needs bag_write on the group and the system right system.group with edit_acl.',
      empty: 'No entries: only the owner, the members and holders of system rights have access.',
      save: (acl, errors, button) => saveGroup(g, { _acl: acl }, errors, button, 'Access control', '#acl-save', 'acl'),
    };
  }

  function aclSection(g, draft, spec) {
    spec = spec || groupACL(g);
    if (!('_acl' in g)) {
      return { el: h('section', { class: 'card area-acl', id: 'acl', 'aria-labelledby': 'acl-title' },
        h('h2', { id: 'acl-title' }, 'Access control list'), h('p', { class: 'note', id: 'acl-hidden' }, spec.hiddenNote)) };
    }
    const editable = spec.editable;
    const errors = h('div', { id: 'acl-errors' });
    const dirty = h('p', { class: 'dirty', id: 'acl-dirty', hidden: true }, 'Unsaved changes.');
    // The working copy: rows of {id, who, rights:{name:params}, active, from, to}.
    const fromServer = (g._acl || []).map((e) => ({
      id: e._id, who: e.who, rights: Object.assign({}, e.rights), active: e.active,
      from: (e.when && e.when.from) || null, to: (e.when && e.when.to) || null,
    }));
    // canonical: the rows in a form whose JSON does not depend on the order
    // in which rights were ticked.
    const canonical = (rs) => rs.map((r) => ({
      id: r.id || null, who: r.who, active: !!r.active, from: r.from || null, to: r.to || null,
      rights: Object.fromEntries(Object.keys(r.rights).sort().map((k) => [k, r.rights[k]])),
    }));
    const rows = draft ? JSON.parse(JSON.stringify(draft)) : canonical(fromServer);
    const tbody = h('tbody', { id: 'acl-body' });
    const save = h('button', { type: 'button', class: 'button', id: 'acl-save', hidden: !editable }, 'Save access control');
    const state = editable ? sectionState('Access control', () => canonical(rows), canonical(fromServer), dirty) : null;

    function markDirty() { if (state) state.update(); }

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
        const realmOf = (r) => (r.startsWith('bag_') ? 'group' : r === 'link' || r === 'unlink' ? 'members' : 'users');
        for (const [realm, label] of [['group', 'Group'], ['members', 'Members'], ['users', 'Users']]) {
          if (!spec.rights.some((r) => realmOf(r) === realm)) continue;
          const ul = h('ul', { 'aria-label': `${label} rights for ${who}` });
          realms[realm] = ul;
          list.append(h('div', { class: 'realm' }, h('span', { class: 'realm-label', 'aria-hidden': 'true' }, label), ul));
        }
        for (const r of spec.rights) {
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
          realms[realmOf(r)].append(h('li', { class: by && !isExplicit ? 'implied' : isExplicit ? 'explicit' : '' },
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
      if (!rows.length) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: '5' }, spec.empty)));
    }
    draw();

    save.addEventListener('click', () => {
      const acl = rows.map((row) => {
        const e = { who: row.who, rights: row.rights, active: !!row.active };
        if (row.id) e._id = row.id;
        if (row.from || row.to) e.when = { from: row.from || null, to: row.to || null };
        return e;
      });
      spec.save(acl, errors, save);
    });
    markDirty();

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
          rows.push({ who, rights: { [spec.first]: {} }, active: true, from: null, to: null });
          markDirty();
          draw();
          pk.reset();
          const last = tbody.querySelector(`tr[data-index="${rows.length - 1}"] input[data-right="${spec.first}"]`);
          if (last) last.focus();
        },
      });
      kind.addEventListener('change', () => pk.reset());
      adder = h('div', { class: 'acl-add' }, h('h3', null, 'Add an entry'), field('For', kind), pk.el);
    }

    return { state, el: h('section', { class: 'card area-acl', id: 'acl', 'aria-labelledby': 'acl-title' },
      h('h2', { id: 'acl-title' }, 'Access control list'),
      h('p', { class: 'help' }, spec.help),
      editable ? null : h('p', { class: 'note' }, spec.cannot),
      errors,
      h('div', { class: 'table-wrap' }, h('table', { class: 'data responsive acl', id: 'acl-table' },
        h('caption', { class: 'visually-hidden' }, 'Access control entries'),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Who'), h('th', { scope: 'col' }, 'Rights'),
          h('th', { scope: 'col' }, 'Active'), h('th', { scope: 'col' }, 'When (your time zone)'), h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
        tbody)),
      adder,
      editable ? h('div', { class: 'actions' }, save, dirty) : null) };
  }

  async function searchGroups(text, signal) {
    const r = await api('GET', '/api/v1/group', { signal, query: { name: text, limit: 10 } });
    return { items: r.data, total: r.total === null ? r.data.length : r.total, searched: `groups whose name or display name contains “${text}”` };
  }

  // --- system rights ----------------------------------------------------------

  function groupSystemRights(g) {
    const rights = g._generated_rights || {};
    return {
      hiddenNote: 'Only holders of bag_write on this group see its system rights.',
      editable: ('bag_write' in rights) && hasSys('system.group', 'edit_system_rights'),
      help: 'Every member of the group holds these.',
      empty: 'This group grants no system rights to its members.',
      cannot: 'Changing them needs bag_write and the system right system.group with edit_system_rights.',
      save: (value, errors, button) => saveGroup(g, { _system_rights: value }, errors, button, 'System rights', '#sysrights-save', 'sysrights'),
    };
  }

  function systemRightsSection(g, draft, spec) {
    spec = spec || groupSystemRights(g);
    if (!('_system_rights' in g)) {
      return { el: h('section', { class: 'card area-sysrights', id: 'sysrights', 'aria-labelledby': 'sysrights-title' },
        h('h2', { id: 'sysrights-title' }, 'System rights'), h('p', { class: 'note', id: 'sysrights-hidden' }, spec.hiddenNote)) };
    }
    const sr = g._system_rights || {};
    const editable = spec.editable;
    const errors = h('div', { id: 'sysrights-errors' });
    const names = Object.keys(sr).sort();
    const list = names.length ? h('dl', { class: 'sysrights', id: 'sysrights-list' }, names.map((n) => {
      const params = Object.entries(sr[n] || {}).map(([k, v]) => (v === true ? k : `${k}: ${JSON.stringify(v)}`));
      return h('div', null, h('dt', null, n), h('dd', null, params.length ? params.join(', ') : h('span', { class: 'muted' }, 'no parameters')));
    })) : h('p', { class: 'muted', id: 'sysrights-list' }, spec.empty);
    let editor = null;
    let state = null;
    if (editable) {
      const original = JSON.stringify(sr, null, 2);
      const ta = h('textarea', { id: 'sysrights-json', rows: '6', spellcheck: 'false', class: 'code' }, draft === undefined ? original : draft);
      const save = h('button', { type: 'submit', class: 'button', id: 'sysrights-save' }, 'Save system rights');
      const dirty = h('p', { class: 'dirty', id: 'sysrights-dirty', hidden: true }, 'Unsaved changes.');
      state = sectionState('System rights', () => ta.value, original, dirty);
      ta.addEventListener('input', state.update);
      state.update();
      editor = h('form', { novalidate: true },
        h('details', { open: draft !== undefined }, h('summary', null, 'Edit as JSON'),
          field('System rights (JSON object: right → parameters)', ta, 'Example: {"system.group": {"create": true}}. Only holders of system.root may grant system.root.'),
          h('div', { class: 'actions' }, save, dirty)));
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
        spec.save(value, errors, save);
      });
    }
    return { state, el: h('section', { class: 'card area-sysrights', id: 'sysrights', 'aria-labelledby': 'sysrights-title' },
      h('h2', { id: 'sysrights-title' }, 'System rights'),
      h('p', { class: 'help' }, spec.help),
      errors, list, editor,
      editable ? null : h('p', { class: 'note' }, spec.cannot)) };
  }

  // --- audit trail -------------------------------------------------------------

  function auditSection(g) {
    const sec = h('section', { class: 'card area-audit', id: 'audit', 'aria-labelledby': 'audit-title' },
      h('h2', { id: 'audit-title' }, 'Audit trail'));
    if (!isRoot()) {
      sec.append(h('p', { class: 'note', id: 'audit-note' }, 'The audit trail can be read by holders of the system right system.root only.'));
      return sec;
    }
    const ev = eventList('audit', () => ['group', 'membership'].map((type) => ({ type, object_id: g.group._id })));
    app.refreshAudit = () => ev.load(true); // new events after a change on this page
    ev.load(true);
    sec.append(h('p', { class: 'help' }, 'Every change of this group and of its members, newest first.'), ...ev.el);
    return sec;
  }

  const ACTIONS = { create: 'created', update: 'changed', delete: 'deleted', add_member: 'member added', remove_member: 'member removed' };

  // eventItem shows one event; withObject names what it is about (for the
  // trail of everything).
  function eventItem(ev, withObject) {
    let changes;
    if (ev.type === 'membership') {
      const m = ev.after || ev.before || {};
      changes = m.user_id ? [h('span', null, nameSpan(m.user_id), ev.action === 'add_member' ? ' joined the group' : ' left the group')] : [];
    } else {
      changes = describeChange(ev.before, ev.after);
    }
    return h('li', { dataset: { action: ev.action, type: ev.type } },
      h('div', { class: 'event-head' },
        withObject ? eventObject(ev) : null,
        h('strong', null, ACTIONS[ev.action] || ev.action), ' by ', nameSpan(ev.actor_user_id), ' · ', timeEl(ev.timestamp)),
      changes.length ? h('ul', { class: 'changes' }, changes.map((c) => h('li', null, c))) : null);
  }

  function eventObject(ev) {
    const x = ev.after || ev.before || {};
    const label = {
      group: () => 'group ' + ((x.group && (x.group.name || displayname(x))) || '#' + ev.object_id),
      user: () => 'user ' + ((x.user && x.user.login) || '#' + ev.object_id),
      membership: () => 'members of group #' + ev.object_id,
      api_token: () => `API token “${x.name || '#' + ev.object_id}”`,
    }[ev.type];
    const text = label ? label() : ev.type + ' #' + ev.object_id;
    const href = ev.type === 'group' || ev.type === 'membership' ? '#/group/' + ev.object_id : ev.type === 'user' ? '#/user/' + ev.object_id : null;
    return h('span', { class: 'event-object' }, href && ev.action !== 'delete' ? h('a', { href }, text) : text, ': ');
  }

  function describeChange(before, after) {
    const out = [];
    const b = (before && (before.group || before.user)) || {};
    const a = (after && (after.group || after.user)) || {};
    const isUser = !!((before && before.user) || (after && after.user));
    if (!before && after && isUser) {
      out.push(`created as “${a.login || a._generated_displayname || '#' + a._id}”`);
      return out;
    }
    if (!before && after && after.group) {
      const names = Object.entries(a.displayname || {}).map(([c, t]) => `${c}: ${t}`).join(', ');
      out.push(a.name ? `created as “${a.name}”` + (names ? ` (${names})` : '') : `created with the display name ${names || '—'}`);
      return out;
    }
    if (before && !after) { out.push('deleted'); return out; }
    if (!b._id && !a._id) return out; // not a group or user (an API token's event)
    const show = (v) => (v === null || v === undefined || v === '' ? '—' : typeof v === 'object' ? JSON.stringify(v) : String(v));
    // Display names read as “en-US: Readers, de-DE: Leser”, not as JSON.
    const showNames = (d) => {
      if (typeof d === 'string') return d;
      const e = Object.entries(d || {});
      return e.length ? e.map(([c, t]) => `${c}: ${t}`).join(', ') : '—';
    };
    const keys = isUser
      ? [['login', 'login'], ['first_name', 'first name'], ['last_name', 'last name'], ['displayname', 'display name'],
        ['frontend_language', 'language'], ['reference', 'reference'], ['login_disabled', 'sign-in disabled']]
      : [['name', 'name'], ['displayname', 'display name'], ['comment', 'comment'], ['reference', 'reference'], ['type', 'type']];
    for (const [k, label] of keys) {
      if (JSON.stringify(b[k]) === JSON.stringify(a[k])) continue;
      out.push(k === 'displayname' ? `${label}: ${showNames(b[k])} → ${showNames(a[k])}` : `${label}: ${show(b[k])} → ${show(a[k])}`);
    }
    if (isUser) {
      const emails = (x) => ((x && x._emails) || []).map((m) => m.email + (m.use_for_login ? ' (login)' : '')).join(', ') || '—';
      if (emails(before) !== emails(after)) out.push(`e-mail: ${emails(before)} → ${emails(after)}`);
      const grp = (x) => ((x && x._groups) || []).map((g) => subjectLabel(g)).join(', ') || '—';
      if (grp(before) !== grp(after)) out.push(`groups: ${grp(before)} → ${grp(after)}`);
    }
    out.push(...aclChanges((before && before._acl) || [], (after && after._acl) || []));
    const srBefore = (before && before._system_rights) || {};
    const srAfter = (after && after._system_rights) || {};
    for (const n of Object.keys(srAfter)) if (!(n in srBefore)) out.push(`system right granted: ${n}`);
    for (const n of Object.keys(srBefore)) if (!(n in srAfter)) out.push(`system right withdrawn: ${n}`);
    for (const n of Object.keys(srAfter)) {
      if (n in srBefore && JSON.stringify(srBefore[n]) !== JSON.stringify(srAfter[n])) out.push(`system right ${n}: ${show(srBefore[n])} → ${show(srAfter[n])}`);
    }
    if (JSON.stringify(before && before._owner) !== JSON.stringify(after && after._owner)) {
      out.push(`owner: ${subjectLabel(before && before._owner)} → ${subjectLabel(after && after._owner)}`);
    }
    if (b._version !== a._version) out.push(`version ${show(b._version)} → ${show(a._version)}`);
    return out;
  }

  // aclChanges says who gained or lost which right between two ACLs
  // (entries matched by who they are for).
  function aclChanges(before, after) {
    const byWho = (acl) => {
      const m = new Map();
      for (const e of acl) {
        const k = subjectLabel(e.who);
        const prev = m.get(k);
        m.set(k, { rights: new Set([...(prev ? prev.rights : []), ...Object.keys(e.rights || {})]), active: e.active, when: e.when });
      }
      return m;
    };
    const b = byWho(before);
    const a = byWho(after);
    const order = (set) => ACL_RIGHTS.filter((r) => set.has(r)).concat([...set].filter((r) => !ACL_RIGHTS.includes(r)));
    const out = [];
    for (const [who, e] of a) {
      const old = b.get(who);
      if (!old) { out.push(`${who} gained ${order(e.rights).join(', ') || 'an entry without rights'}`); continue; }
      const gained = order(new Set([...e.rights].filter((r) => !old.rights.has(r))));
      const lost = order(new Set([...old.rights].filter((r) => !e.rights.has(r))));
      if (gained.length) out.push(`${who} gained ${gained.join(', ')}`);
      if (lost.length) out.push(`${who} lost ${lost.join(', ')}`);
      if (!!old.active !== !!e.active) out.push(`${who}: entry ${e.active ? 'activated' : 'deactivated'}`);
      if (JSON.stringify(old.when || null) !== JSON.stringify(e.when || null)) {
        const w = e.when || {};
        out.push(`${who}: valid ${w.from ? 'from ' + fmtTime(w.from) : 'from any time'} ${w.to ? 'until ' + fmtTime(w.to) : 'without end'}`);
      }
    }
    for (const [who, e] of b) if (!a.has(who)) out.push(`${who} lost ${order(e.rights).join(', ') || 'its entry'} (entry removed)`);
    return out;
  }

  // --- users ---------------------------------------------------------------

  const USER_TYPES = ['easydb', 'system'];

  function userListState(params) {
    let limit = Number(params.get('limit')) || 50;
    if (!PAGE_SIZES.includes(limit)) limit = 50;
    const st = { offset: Math.max(0, Number(params.get('offset')) || 0), limit };
    for (const k of ['login', 'name', 'email', 'group', 'type']) st[k] = params.get(k) || '';
    return st;
  }

  function userListHash(st) {
    const q = new URLSearchParams();
    for (const k of ['login', 'name', 'email', 'group', 'type']) if (st[k]) q.set(k, st[k]);
    if (st.offset) q.set('offset', String(st.offset));
    if (st.limit !== 50) q.set('limit', String(st.limit));
    const s = q.toString();
    return '#/users' + (s ? '?' + s : '');
  }

  // groupNames shows a user's static groups, cut to a few.
  function groupNames(list, most) {
    const names = (list || []).map((x) => groupTitle({ group: x.group || x }));
    if (!names.length) return h('span', { class: 'muted' }, 'none');
    const shown = names.slice(0, most);
    return h('span', { class: 'cut', title: names.join(', ') },
      shown.join(', ') + (names.length > most ? ` and ${fmtNumber(names.length - most)} more` : ''));
  }

  // findGroup resolves a group filter (an id, or a name or display name)
  // to a group id: the group whose name or display name is the text, else the
  // only group that contains it; null when none or several do.
  async function findGroup(text, signal) {
    if (/^\d+$/.test(text)) return Number(text);
    const r = await api('GET', '/api/v1/group', { signal, query: { name: text, limit: 20 } });
    const lower = text.toLowerCase();
    const exact = r.data.find((g) => (g.group.name || '').toLowerCase() === lower ||
      Object.values(g.group.displayname || {}).some((v) => v.toLowerCase() === lower));
    if (exact) return exact.group._id;
    return r.data.length === 1 ? r.data[0].group._id : null;
  }

  function viewUsers(params) {
    const st = userListState(params);
    typingIn = null;
    if (!hasSys('system.user')) {
      page('Users', h('div', { class: 'alert alert-warn', role: 'alert' },
        h('p', { class: 'alert-title' }, 'Listing users needs the system right system.user.')),
      h('p', null, h('a', { href: '#/user/' + me()._id }, 'Your own account'), ' · ', h('a', { href: '#/tokens' }, 'Your API tokens')));
      return;
    }
    const inputs = {
      login: h('input', { type: 'search', id: 'ufilter-login', name: 'login', value: st.login, autocomplete: 'off' }),
      name: h('input', { type: 'search', id: 'ufilter-name', name: 'name', value: st.name, autocomplete: 'off' }),
      email: h('input', { type: 'search', id: 'ufilter-email', name: 'email', value: st.email, autocomplete: 'off' }),
      group: h('input', { type: 'search', id: 'ufilter-group', name: 'group', value: st.group, autocomplete: 'off' }),
    };
    const typeSel = h('select', { id: 'ufilter-type', name: 'type' }, h('option', { value: '' }, 'Any type'),
      USER_TYPES.map((t) => h('option', { value: t, selected: st.type === t }, t)));
    const sizeSel = h('select', { id: 'ufilter-limit', name: 'limit' },
      PAGE_SIZES.map((n) => h('option', { value: String(n), selected: n === st.limit }, String(n))));
    const clearBtn = h('button', { type: 'button', class: 'button secondary', id: 'ufilter-clear' }, 'Clear filters');
    const filters = h('form', { class: 'filters filters-users', role: 'search', 'aria-label': 'Filter users', id: 'user-filters' },
      field('Login contains', inputs.login),
      field('Name contains', inputs.name),
      field('E-mail contains', inputs.email),
      field('In group (name or id)', inputs.group),
      field('Type', typeSel),
      field('Per page', sizeSel),
      h('div', { class: 'field field-button' }, clearBtn));
    const summary = h('p', { class: 'summary', id: 'users-summary', 'aria-live': 'polite' }, 'Loading…');
    const errors = h('div', { id: 'users-errors' });
    const tbody = h('tbody', { id: 'users-body' });
    const table = h('table', { class: 'data responsive', id: 'users-table' },
      h('caption', { class: 'visually-hidden' }, 'Users'),
      h('thead', null, h('tr', null,
        h('th', { scope: 'col' }, 'ID'), h('th', { scope: 'col' }, 'Login'), h('th', { scope: 'col' }, 'Name'),
        h('th', { scope: 'col' }, 'E-mail'), h('th', { scope: 'col' }, 'Type'), h('th', { scope: 'col' }, 'Groups'),
        h('th', { scope: 'col' }, 'Your rights'))),
      tbody);
    const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of users', id: 'users-pager' });
    page('Users',
      h('div', { class: 'toolbar' },
        hasSys('system.user', 'create') ? h('a', { class: 'button', href: '#/users/new', id: 'new-user' }, 'New user') : null),
      filters, summary, errors, h('div', { class: 'table-wrap' }, table), pager);

    function update(reset, fieldName) {
      if (reset) st.offset = 0;
      for (const k of Object.keys(inputs)) st[k] = inputs[k].value.trim();
      st.type = typeSel.value;
      st.limit = Number(sizeSel.value);
      listNav(userListHash(st), fieldName);
      load();
    }
    let debounce = 0;
    for (const [k, input] of Object.entries(inputs)) {
      input.addEventListener('input', () => { clearTimeout(debounce); debounce = setTimeout(() => update(true, 'u' + k), 250); });
    }
    typeSel.addEventListener('change', () => update(true));
    sizeSel.addEventListener('change', () => update(true));
    filters.addEventListener('submit', (e) => { e.preventDefault(); clearTimeout(debounce); update(true); });
    clearBtn.addEventListener('click', () => {
      for (const input of Object.values(inputs)) input.value = '';
      typeSel.value = '';
      update(true);
      inputs.login.focus();
    });

    async function load() {
      if (app.listAbort) app.listAbort.abort();
      const ac = new AbortController();
      app.listAbort = ac;
      table.setAttribute('aria-busy', 'true');
      table.dataset.state = 'loading';
      const t0 = performance.now();
      try {
        let groupID = '';
        if (st.group) {
          groupID = await findGroup(st.group, ac.signal);
          if (ac !== app.listAbort) return;
          if (groupID === null) {
            clear(errors).append(h('div', { class: 'alert alert-warn', role: 'alert' },
              h('p', { class: 'alert-title' }, `No single group is called “${st.group}”: type more of its name, or its id.`)));
            renderRows([], 0);
            return;
          }
        }
        const r = await api('GET', '/api/v1/user', {
          signal: ac.signal,
          query: { limit: st.limit, offset: st.offset, login: st.login, name: st.name, email: st.email, groupids: groupID, type: st.type },
        });
        if (ac !== app.listAbort) return;
        clear(errors);
        if (r.total > 0 && st.offset >= r.total) {
          st.offset = Math.floor((r.total - 1) / st.limit) * st.limit;
          history.replaceState(null, '', userListHash(st));
          load();
          return;
        }
        renderRows(r.data, r.total === null ? r.data.length : r.total);
        table.dataset.ms = String(Math.round(performance.now() - t0));
      } catch (e) {
        if (e.name === 'AbortError' || ac !== app.listAbort) return;
        showError(errors, e, null, load);
        renderRows([], 0, true);
      } finally {
        if (ac === app.listAbort) {
          table.removeAttribute('aria-busy');
          table.dataset.state = 'ready';
        }
      }
    }

    function renderRows(list, total, failed) {
      clear(tbody);
      for (const u of list) {
        const x = u.user;
        const emails = (u._emails || []).map((e) => e.email);
        const cut = (text) => (text ? h('span', { class: 'cut', title: text }, text) : '');
        tbody.append(h('tr', { dataset: { userId: String(x._id), login: x.login || '' } },
          h('td', { 'data-label': 'ID' }, String(x._id)),
          h('td', { 'data-label': 'Login' }, h('a', { href: '#/user/' + x._id, class: 'cut', title: x.login || '' }, x.login || h('span', { class: 'muted' }, '(no login)')),
            x.login_disabled ? h('span', { class: 'badge badge-off', title: 'This user cannot sign in.' }, 'disabled') : null),
          h('td', { 'data-label': 'Name' }, cut(x._generated_displayname && x._generated_displayname !== x.login ? x._generated_displayname : '')),
          h('td', { 'data-label': 'E-mail' }, cut(emails.join(', '))),
          h('td', { 'data-label': 'Type' }, h('span', { class: 'type type-' + (x.type === 'system' ? 'system' : 'easydb') }, x.type)),
          h('td', { 'data-label': 'Groups' }, groupNames(u._groups, 3)),
          h('td', { 'data-label': 'Your rights' }, rightBadges(u._generated_rights))));
      }
      if (!list.length) {
        tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: '7' }, failed ? 'Could not load the users.' : 'No users match.')));
      }
      summary.textContent = failed ? '' : total === 0 ? 'No users match the filters.'
        : `Users ${fmtNumber(st.offset + 1)}–${fmtNumber(st.offset + list.length)} of ${fmtNumber(total)}`;
      summary.dataset.total = String(total);
      renderPager(pager, st.offset, st.limit, total, (off) => {
        st.offset = off;
        listNav(userListHash(st));
        load();
      });
    }
    load();
  }

  // --- passwords -------------------------------------------------------------

  const MIN_PASSWORD = 8; // the server's default -min-password-length; it may ask for more

  // passwordStrength rates a password for the hint next to its field: a
  // rough estimate (length and kinds of characters), never a promise.
  function passwordStrength(pw) {
    if (!pw) return { score: 0, text: `At least ${MIN_PASSWORD} characters.` };
    if (pw.length < MIN_PASSWORD) return { score: 0, text: `Too short: ${pw.length} of at least ${MIN_PASSWORD} characters.` };
    const kinds = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(pw)).length;
    const repeated = /^(.)\1+$/.test(pw) || /^(0123|1234|abcd|qwer|pass)/i.test(pw);
    let score = (pw.length >= 12 ? 2 : 1) + (kinds >= 3 ? 1 : 0) + (pw.length >= 16 ? 1 : 0);
    if (repeated) score = 1;
    score = Math.min(4, score);
    const words = ['', 'Weak: easy to guess. Use a longer one with more kinds of characters.',
      'Fair: longer, or with more kinds of characters, would be better.', 'Good.', 'Strong.'];
    return { score, text: words[score] };
  }

  // generatePassword makes a 20-character password from crypto.getRandomValues,
  // without characters that are easy to confuse (0/O, 1/l/I).
  function generatePassword() {
    const alphabet = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.!';
    const out = [];
    const buf = new Uint32Array(20);
    crypto.getRandomValues(buf);
    for (const n of buf) out.push(alphabet[n % alphabet.length]);
    return out.join('');
  }

  // passwordField is a password input with its strength hint, read aloud
  // as it changes.
  function passwordField(id, label, autocomplete) {
    const input = h('input', { id, type: 'password', autocomplete: autocomplete || 'new-password', spellcheck: 'false' });
    const meter = h('meter', { min: '0', max: '4', low: '2', high: '3', optimum: '4', value: '0', id: id + '-meter', 'aria-hidden': 'true' });
    const hint = h('p', { class: 'help strength', id: id + '-strength', 'aria-live': 'polite' }, passwordStrength('').text);
    input.setAttribute('aria-describedby', hint.id);
    const show = h('input', { type: 'checkbox', id: id + '-show' });
    show.addEventListener('change', () => { input.type = show.checked ? 'text' : 'password'; });
    const update = () => {
      const s = passwordStrength(input.value);
      meter.value = s.score;
      hint.textContent = s.text;
      hint.dataset.score = String(s.score);
    };
    input.addEventListener('input', update);
    return {
      input, update,
      el: h('div', { class: 'field password-field' }, h('label', { for: id }, label), input,
        h('div', { class: 'strength-row' }, meter, hint),
        h('div', { class: 'check' }, show, h('label', { for: show.id }, 'Show the password'))),
    };
  }

  // copyButton copies the text of el to the clipboard and says so.
  function copyButton(el, id, what) {
    const status = h('span', { class: 'help', 'aria-live': 'polite' });
    const btn = h('button', { type: 'button', class: 'button secondary small', id }, 'Copy');
    btn.addEventListener('click', async () => {
      try {
        await navigator.clipboard.writeText(el.textContent);
        status.textContent = `${what} copied to the clipboard.`;
      } catch (e) {
        // No clipboard (an insecure origin, a refused permission): select it.
        const range = document.createRange();
        range.selectNodeContents(el);
        const sel = window.getSelection();
        sel.removeAllRanges();
        sel.addRange(range);
        status.textContent = `${what} selected: press Ctrl+C (⌘C) to copy it.`;
      }
    });
    return h('span', { class: 'copy' }, btn, ' ', status);
  }

  // secretBox shows a secret once, with a copy button: it is not kept
  // anywhere, and leaving the page loses it.
  function secretBox(id, title, secret, note) {
    const code = h('code', { class: 'secret', id: id + '-value' }, secret);
    return h('div', { class: 'alert alert-ok secret-box', role: 'status', id, tabindex: '-1' },
      h('p', { class: 'alert-title' }, title),
      h('p', null, code, ' ', copyButton(code, id + '-copy', title.split(':')[0])),
      h('p', null, note));
  }

  // --- new user --------------------------------------------------------------

  function viewCreateUser() {
    if (!hasSys('system.user', 'create')) {
      page('New user', h('div', { class: 'alert alert-warn', role: 'alert' },
        h('p', { class: 'alert-title' }, 'You cannot create users: this needs the system right system.user with create.')),
      h('p', null, h('a', { href: '#/users' }, '‹ All users')));
      return;
    }
    const errors = h('div', { id: 'cuser-errors' });
    const login = h('input', { id: 'cuser-login', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false' });
    const first = h('input', { id: 'cuser-first', autocomplete: 'off' });
    const last = h('input', { id: 'cuser-last', autocomplete: 'off' });
    const email = h('input', { id: 'cuser-email', type: 'email', autocomplete: 'off' });
    const emailLogin = h('input', { type: 'checkbox', id: 'cuser-email-login' });
    const pw = passwordField('cuser-password', 'Initial password');
    const modeSet = h('input', { type: 'radio', name: 'pwmode', id: 'cuser-pw-set', value: 'set', checked: true });
    const modeGen = h('input', { type: 'radio', name: 'pwmode', id: 'cuser-pw-generate', value: 'generate' });
    const modeNone = h('input', { type: 'radio', name: 'pwmode', id: 'cuser-pw-none', value: 'none' });
    const modes = h('fieldset', { class: 'field' }, h('legend', null, 'Password'),
      h('div', { class: 'check' }, modeSet, h('label', { for: modeSet.id }, 'Set an initial password')),
      h('div', { class: 'check' }, modeGen, h('label', { for: modeGen.id }, 'Generate one (shown once, after creating)')),
      h('div', { class: 'check' }, modeNone, h('label', { for: modeNone.id }, 'No password (cannot sign in with one)')));
    const syncMode = () => { pw.el.hidden = !modeSet.checked; };
    for (const m of [modeSet, modeGen, modeNone]) m.addEventListener('change', syncMode);
    const submit = h('button', { type: 'submit', class: 'button', id: 'cuser-submit' }, 'Create user');
    const fields = { 'user.login': login, _password: pw.input, 'user.first_name': first, 'user.last_name': last, '_emails.email': email };
    const result = h('div', { id: 'cuser-result' });
    const form = h('form', { class: 'card form', id: 'cuser-form', novalidate: true },
      errors,
      field('Login', login, 'Unique; also the name to sign in with.'),
      h('div', { class: 'field-pair' }, field('First name', first), field('Last name', last)),
      field('E-mail', email),
      h('div', { class: 'check' }, emailLogin, h('label', { for: emailLogin.id }, 'This address may be used to sign in')),
      modes, pw.el,
      h('div', { class: 'actions' }, submit, h('a', { class: 'button secondary', href: '#/users' }, 'Cancel')));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clear(errors);
      clearFieldErrors(form);
      hideToast();
      const user = { _version: 1, login: nullIfEmpty(login.value), first_name: nullIfEmpty(first.value), last_name: nullIfEmpty(last.value) };
      const item = { _basetype: 'user', user };
      if (email.value.trim()) item._emails = [{ email: email.value.trim(), use_for_login: emailLogin.checked, use_for_email: true }];
      let generated = '';
      if (modeSet.checked) {
        if (pw.input.value.length < MIN_PASSWORD) {
          fieldError(pw.input, `The password needs at least ${MIN_PASSWORD} characters.`);
          pw.input.focus();
          return;
        }
        item._password = pw.input.value;
      } else if (modeGen.checked) {
        generated = generatePassword();
        item._password = generated;
      }
      if (!user.login && !item._emails) {
        fieldError(login, 'Give the user a login (or an e-mail address to sign in with).');
        login.focus();
        return;
      }
      submit.disabled = true;
      try {
        const r = await api('PUT', '/api/v1/user', { body: [item] });
        const u = r.data[0];
        pw.input.value = '';
        if (!generated) {
          const target = '#/user/' + u.user._id;
          notify(`User “${userLabel(u)}” created.`, 'ok', target);
          location.hash = target;
          return;
        }
        // The generated password is shown here, once: it is not stored in the page.
        form.hidden = true;
        clear(result).append(
          secretBox('cuser-secret', 'Password of ' + userLabel(u) + ': shown once', generated,
            'Give it to the user now; it is not shown again. groupd keeps only its hash.'),
          h('p', null, h('a', { class: 'button', href: '#/user/' + u.user._id, id: 'cuser-open' }, 'Open the user'), ' ',
            h('a', { class: 'button secondary', href: '#/users' }, 'All users')));
        result.firstChild.focus();
      } catch (err) {
        showError(errors, err, null, () => form.requestSubmit());
        const attr = (err.parameters || {}).attribute || (err.parameters || {}).constraint || '';
        if (fields[attr]) fieldError(fields[attr], err.code === 'error.user.integrity_constraint_violation'
          ? `Another user already uses this ${attr.replace(/^user\.|^_emails\./, '')}.` : explain(err));
      } finally {
        submit.disabled = false;
      }
    });
    page('New user', h('p', null, h('a', { href: '#/users' }, '‹ All users')), form, result);
    login.focus();
  }

  // --- one user --------------------------------------------------------------

  function userTitle(u) {
    const x = u.user;
    return x.login || x._generated_displayname || ('User #' + x._id);
  }

  async function viewUser(id) {
    const main = clear($('#main'));
    main.append(h('p', { class: 'loading' }, 'Loading user…'));
    let u;
    try {
      const r = await api('GET', '/api/v1/user/' + id);
      u = r.data[0];
    } catch (e) {
      if (!app.session) return;
      page('User #' + id, h('div', { id: 'user-errors' }, errorBox(e, null, () => viewUser(id))), h('p', null, h('a', { href: '#/users' }, '‹ All users')));
      return;
    }
    if (!u) {
      page('User #' + id, h('div', { class: 'alert alert-warn', role: 'alert' },
        h('p', { class: 'alert-title' }, `There is no user #${id}. It may have been deleted.`)),
      h('p', null, h('a', { href: '#/users' }, '‹ All users')));
      return;
    }
    const kept = storedDraft();
    if (kept && kept.kind === 'user' && kept.groupId === id) {
      sessionStorage.removeItem(DRAFT_KEY);
      renderUser(u, null, kept.drafts || {}, kept);
      return;
    }
    renderUser(u);
  }

  // saveUser sends one section's changes of a user (version + 1), as
  // saveGroup does for a group.
  async function saveUser(u, changes, errors, button, what, focusSel, section, onRefused) {
    clear(errors);
    hideToast();
    button.disabled = true;
    const item = Object.assign({ _basetype: 'user', user: Object.assign({ _id: u.user._id, _version: u.user._version + 1 }, changes.user || {}) },
      changes.extra || {});
    app.saving = what;
    try {
      const r = await api('POST', '/api/v1/user', { body: [item] });
      const saved = r.data[0];
      const others = drafts(section);
      renderUser(saved, focusSel, others);
      const kept = Object.keys(others).map((k) => app.page.sections[k].label);
      notify(`${what} saved: the user is now at version ${saved.user._version}.` +
        (kept.length ? ` Your unsaved changes in ${listWords(kept)} are still there, not saved.` : ''));
      return true;
    } catch (e) {
      button.disabled = false;
      if (!app.session) return false;
      showError(errors, e, () => viewUser(u.user._id), () => button.click());
      if (onRefused) onRefused(e);
      return false;
    } finally {
      app.saving = '';
    }
  }

  function renderUser(u, focusSel, drafts, kept) {
    app.refreshAudit = null;
    drafts = drafts || {};
    const x = u.user;
    const rights = u._generated_rights || {};
    const self = me() && me()._id === x._id;
    const canWrite = 'write' in rights;
    const summary = h('section', { class: 'card summary-card', 'aria-labelledby': 'summary-title' },
      h('h2', { id: 'summary-title', class: 'visually-hidden' }, 'Summary'),
      h('dl', { class: 'facts' },
        h('div', null, h('dt', null, 'ID'), h('dd', { id: 'user-id' }, String(x._id))),
        h('div', null, h('dt', null, 'Type'), h('dd', null, x.type)),
        h('div', null, h('dt', null, 'Version'), h('dd', { id: 'user-version' }, String(x._version))),
        h('div', null, h('dt', null, 'Sign-in'), h('dd', { id: 'user-login-state' }, x.login_disabled
          ? h('span', { class: 'badge badge-off' }, 'disabled') : 'allowed')),
        h('div', null, h('dt', null, 'Owner'), h('dd', null, subjectLabel(u._owner))),
        h('div', null, h('dt', null, 'Created'), h('dd', null, timeEl(x.created_timestamp))),
        h('div', { class: 'wide' }, h('dt', null, 'Your rights on this user'), h('dd', { id: 'my-user-rights' }, rightBadges(rights, self ? 'none (you see yourself)' : 'none')))),
      'delete' in rights && !self && x.type !== 'system' ? h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'button danger', id: 'delete-user', onclick: (e) => confirmDeleteUser(u, e.currentTarget) }, 'Delete user…')) : null);

    const pageState = { kind: 'user', id: x._id, version: x._version, title: userTitle(u), hash: location.hash, sections: {} };
    const details = userDetailsSection(u, canWrite || self, drafts.details);
    const acl = aclSection(u, drafts.acl, userACL(u));
    const sysrights = systemRightsSection(u, drafts.sysrights, userSystemRights(u));
    for (const [key, sec] of [['details', details], ['acl', acl], ['sysrights', sysrights]]) {
      if (sec.state) pageState.sections[key] = sec.state;
    }
    const grid = h('div', { class: 'user-grid' }, details.el, passwordSection(u, canWrite, self), userGroupsSection(u),
      tokensSection(x._id, self), explainSection({ user: u }), acl.el, sysrights.el, userAuditSection(u));
    let restored = null;
    if (kept) {
      restored = draftNotice(kept, true);
      if (kept.version !== x._version) {
        restored.append(h('p', null, `The user was changed meanwhile (version ${kept.version} → ${x._version}): ` +
          'the fields show your edits on top of the current version.'));
      }
    }
    page(userTitle(u), h('p', { class: 'crumbs' }, h('a', { href: '#/users' }, '‹ All users')), restored, summary, grid);
    app.page = pageState;
    if (focusSel) { const el = $(focusSel); if (el) el.focus(); }
  }

  function userDetailsSection(u, canWrite, draft) {
    const x = u.user;
    const self = me() && me()._id === x._id;
    const original = {
      login: x.login || '', first_name: x.first_name || '', last_name: x.last_name || '', displayname: x.displayname || '',
      frontend_language: x.frontend_language || '', reference: x.reference || '', login_disabled: !!x.login_disabled,
      emails: (u._emails || []).map((e) => ({ email: e.email, use_for_login: !!e.use_for_login })),
    };
    const shown = draft ? JSON.parse(JSON.stringify(draft)) : JSON.parse(JSON.stringify(original));
    const system = x.type === 'system';
    const errors = h('div', { id: 'udetails-errors' });
    const dirty = h('p', { class: 'dirty', id: 'udetails-dirty', hidden: true }, 'Unsaved changes.');
    const input = (id, key, attrs) => h('input', Object.assign({ id, value: shown[key], disabled: !canWrite, autocomplete: 'off' }, attrs || {}));
    const login = input('uedit-login', 'login', { disabled: !canWrite || system, autocapitalize: 'none', spellcheck: 'false' });
    const first = input('uedit-first', 'first_name');
    const last = input('uedit-last', 'last_name');
    const displayname = input('uedit-displayname', 'displayname');
    const language = input('uedit-language', 'frontend_language', { list: 'languages', placeholder: 'en-US' });
    const reference = input('uedit-reference', 'reference');
    const disabled = h('input', { type: 'checkbox', id: 'uedit-disabled', checked: shown.login_disabled, disabled: !canWrite || self || system });
    const emailRows = h('div', { class: 'emails', id: 'uedit-emails' });
    const emails = shown.emails;
    let state = null;
    const changed = () => { if (state) state.update(); };
    function drawEmails(focusLast) {
      clear(emailRows);
      emails.forEach((e, i) => {
        const addr = h('input', { type: 'email', value: e.email, disabled: !canWrite, 'aria-label': `E-mail address ${i + 1}`, class: 'email-address', autocomplete: 'off' });
        addr.addEventListener('input', () => { e.email = addr.value; changed(); });
        const forLogin = h('input', { type: 'checkbox', id: nextId('email-login'), checked: e.use_for_login, disabled: !canWrite });
        forLogin.addEventListener('change', () => { e.use_for_login = forLogin.checked; changed(); });
        const rm = canWrite ? h('button', {
          type: 'button', class: 'button secondary small', 'aria-label': `Remove the address ${e.email || i + 1}`,
          onclick: () => { emails.splice(i, 1); drawEmails(); changed(); addEmail.focus(); },
        }, 'Remove') : null;
        emailRows.append(h('div', { class: 'email-row' }, addr,
          h('span', { class: 'check' }, forLogin, h('label', { for: forLogin.id }, 'use for login', h('span', { class: 'visually-hidden' }, ` (${e.email || 'address ' + (i + 1)})`))), rm));
        if (focusLast && i === emails.length - 1) addr.focus();
      });
      if (!emails.length) emailRows.append(h('p', { class: 'muted' }, 'No e-mail addresses.'));
    }
    const addEmail = h('button', { type: 'button', class: 'button secondary small', id: 'uedit-add-email', hidden: !canWrite,
      onclick: () => { emails.push({ email: '', use_for_login: false }); drawEmails(true); changed(); } }, 'Add an address');
    drawEmails();
    const save = h('button', { type: 'submit', class: 'button', id: 'save-user-details' }, 'Save changes');
    const languages = document.getElementById('languages') ? null : h('datalist', { id: 'languages' },
      ['en-US', 'de-DE', 'fr-FR', 'es-ES', 'it-IT', 'nl-NL', 'da-DK', 'sv-SE', 'fi-FI', 'pl-PL', 'cs-CZ', 'ru-RU', 'ja-JP', 'zh-CN'].map((v) => h('option', { value: v })));
    const form = h('form', { id: 'user-details-form', novalidate: true },
      errors,
      field('Login', login, system ? 'The login of a system user cannot change.' : null),
      h('div', { class: 'field-pair' }, field('First name', first), field('Last name', last)),
      field('Display name', displayname, 'Shown instead of the names when set.'),
      h('fieldset', { class: 'field' }, h('legend', null, 'E-mail addresses'), emailRows, addEmail),
      h('div', { class: 'field-pair' }, field('Language', language), field('Reference', reference)),
      h('div', { class: 'check' }, disabled, h('label', { for: disabled.id }, 'Sign-in disabled (the user’s sessions and tokens stop at once)')),
      languages,
      canWrite ? h('div', { class: 'actions' }, save, dirty) : null);
    const current = () => ({
      login: login.value, first_name: first.value, last_name: last.value, displayname: displayname.value,
      frontend_language: language.value, reference: reference.value, login_disabled: disabled.checked,
      emails: emails.map((e) => ({ email: e.email, use_for_login: !!e.use_for_login })),
    });
    if (canWrite) {
      state = sectionState('Details', current, original, dirty);
      form.addEventListener('input', changed);
      form.addEventListener('change', changed);
      state.update();
    }
    const fields = { 'user.login': login, 'user.first_name': first, 'user.last_name': last, 'user.displayname': displayname,
      'user.frontend_language': language, 'user.reference': reference, 'user.login_disabled': disabled };
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      const c = current();
      const user = { first_name: nullIfEmpty(c.first_name), last_name: nullIfEmpty(c.last_name), displayname: nullIfEmpty(c.displayname),
        frontend_language: nullIfEmpty(c.frontend_language), reference: nullIfEmpty(c.reference) };
      if (!system) user.login = nullIfEmpty(c.login);
      if (c.login_disabled !== original.login_disabled) user.login_disabled = c.login_disabled;
      const extra = {};
      if (JSON.stringify(c.emails) !== JSON.stringify(original.emails)) {
        extra._emails = c.emails.filter((m) => m.email.trim()).map((m) => ({ email: m.email.trim(), use_for_login: m.use_for_login, use_for_email: true }));
      }
      saveUser(u, { user, extra }, errors, save, 'Details', '#save-user-details', 'details', (err) => {
        const p = err.parameters || {};
        const attr = p.attribute || p.constraint || '';
        const target = fields[attr] || (attr.startsWith('_emails') ? emailRows.querySelector('input') : null);
        if (target) fieldError(target, err.code === 'error.user.integrity_constraint_violation' ? 'Another user already uses this value.' : explain(err));
      });
    });
    return {
      state,
      el: h('section', { class: 'card', id: 'user-details', 'aria-labelledby': 'user-details-title' },
        h('h2', { id: 'user-details-title' }, 'Details'),
        canWrite ? null : h('p', { class: 'note' }, 'You can see this user but not change it: that needs write on the user.'),
        form),
    };
  }

  function passwordSection(u, canWrite, self) {
    const x = u.user;
    const sec = h('section', { class: 'card', id: 'user-password', 'aria-labelledby': 'user-password-title' },
      h('h2', { id: 'user-password-title' }, 'Password'));
    if (!canWrite && !(self && hasSys('system.user.change_password'))) {
      sec.append(h('p', { class: 'note' }, 'Setting this user’s password needs write on the user.'));
      return sec;
    }
    const errors = h('div', { id: 'password-errors' });
    const result = h('div', { id: 'password-result' });
    const pw = passwordField('user-new-password', 'New password');
    const old = self ? h('input', { id: 'user-old-password', type: 'password', autocomplete: 'current-password' }) : null;
    const gen = h('button', { type: 'button', class: 'button secondary', id: 'password-generate' }, 'Generate one');
    const save = h('button', { type: 'submit', class: 'button', id: 'password-save' }, 'Set password');
    let generated = '';
    gen.addEventListener('click', () => {
      generated = generatePassword();
      pw.input.value = generated;
      pw.input.type = 'text';
      pw.update();
      pw.input.focus();
    });
    pw.input.addEventListener('input', () => { generated = ''; });
    const form = h('form', { id: 'password-form', novalidate: true }, errors,
      old ? field('Your current password', old) : null, pw.el,
      h('div', { class: 'actions' }, save, gen),
      h('p', { class: 'help' }, self ? 'Your other sessions end; this one stays.' : 'The user’s sessions end; API tokens stay until revoked.'));
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      clearFieldErrors(form);
      const value = pw.input.value;
      if (value.length < MIN_PASSWORD) {
        fieldError(pw.input, `The password needs at least ${MIN_PASSWORD} characters.`);
        pw.input.focus();
        return;
      }
      const extra = { _password: value };
      if (old) extra._old_password = old.value;
      const shownOnce = generated;
      const ok = await saveUser(u, { extra }, errors, save, 'Password', '#password-save', 'password', (err) => {
        const attr = (err.parameters || {}).attribute || '';
        if (attr === '_password') fieldError(pw.input, explain(err));
        if (attr === '_old_password' || err.code === 'error.user.login_failed') fieldError(old, 'This is not your current password.');
      });
      if (ok && shownOnce) {
        const box = $('#password-result');
        if (box) {
          box.append(secretBox('password-secret', `New password of ${x.login || '#' + x._id}: shown once`, shownOnce,
            'Give it to the user now; it is not shown again.'));
          box.firstChild.focus();
        }
      }
    });
    sec.append(result, form);
    return sec;
  }

  // userGroupsSection lists the user's static groups; adding and removing
  // go through the members API, which decides link and unlink per group.
  function userGroupsSection(u) {
    const x = u.user;
    const errors = h('div', { id: 'ugroups-errors' });
    const results = h('div', { id: 'ugroups-results', 'aria-live': 'polite', tabindex: '-1' });
    const list = h('ul', { class: 'plain group-list', id: 'ugroups-list' });
    const system = x.type === 'system';
    for (const gref of u._groups || []) {
      const g = gref.group;
      const label = groupTitle({ group: g });
      list.append(h('li', { dataset: { groupId: String(g._id) } }, h('a', { href: '#/group/' + g._id }, label), ' ',
        system ? null : h('button', { type: 'button', class: 'button secondary small', 'aria-label': `Remove from ${label}`,
          onclick: (e) => change(g._id, 'remove', label, e.currentTarget) }, 'Remove')));
    }
    if (!(u._groups || []).length) list.append(h('li', { class: 'muted' }, 'In no group (besides the computed :all and :non_system).'));
    async function change(groupID, op, label, button) {
      hideToast();
      clear(errors);
      clear(results);
      if (button) button.disabled = true;
      try {
        const r = await api('POST', `/api/v1/group/${groupID}/members`, { body: { [op]: [x._id] } });
        const res = memberResults(r.data)[0] || {};
        if (res.result === 'added' || res.result === 'removed') {
          notify(`${op === 'add' ? 'Added to' : 'Removed from'} “${label}”.`);
        }
        viewUser(x._id);
      } catch (e) {
        if (button) button.disabled = false;
        showError(errors, e);
      }
    }
    const pk = system ? null : picker({
      id: 'ugroups-search', label_: 'Add to a group (search by name)', placeholder: 'group name',
      help: 'Adding needs link on the group; removing needs unlink.',
      search: searchGroups, key: (g) => String(g.group._id), label: (g) => 'Add to ' + groupTitle(g),
      choose: (g) => change(g.group._id, 'add', groupTitle(g)),
    });
    return h('section', { class: 'card', id: 'user-groups', 'aria-labelledby': 'user-groups-title' },
      h('h2', { id: 'user-groups-title' }, 'Groups'),
      system ? h('p', { class: 'note' }, 'System users are in no group.') : null,
      errors, results, list, pk ? pk.el : null);
  }

  function userACL(u) {
    const rights = u._generated_rights || {};
    return {
      rights: ['read', 'write', 'delete'],
      first: 'read',
      hiddenNote: 'Only holders of write on this user see its access control list.',
      editable: ('write' in rights) && hasSys('system.user', 'edit_acl'),
      help: 'Who may see (read), change (write) and delete this user: delete ⇒ write ⇒ read. The owner has all three; ' +
        'the group-realm rights of the user’s groups’ ACL entries apply too.',
      cannot: 'You cannot change the access control list: that needs write on the user and the system right system.user with edit_acl.',
      empty: 'No entries: only the owner, holders of rights through the user’s groups and system.root have access.',
      save: (acl, errors, button) => saveUser(u, { extra: { _acl: acl } }, errors, button, 'Access control', '#acl-save', 'acl'),
    };
  }

  function userSystemRights(u) {
    const rights = u._generated_rights || {};
    return {
      hiddenNote: 'Only holders of write on this user see its system rights.',
      editable: ('write' in rights) && hasSys('system.user', 'edit_system_rights'),
      help: 'The user holds these, and those of every group it is in.',
      empty: 'The user holds no system rights of its own.',
      cannot: 'Changing them needs write on the user and the system right system.user with edit_system_rights.',
      save: (value, errors, button) => saveUser(u, { extra: { _system_rights: value } }, errors, button, 'System rights', '#sysrights-save', 'sysrights'),
    };
  }

  // --- API tokens --------------------------------------------------------------

  // tokensSection lists a user's API tokens with Revoke buttons; on one's
  // own page it also creates them. Another user's tokens need system.user
  // with manage_api_tokens.
  function tokensSection(userID, self) {
    const sec = h('section', { class: 'card', id: 'tokens', 'aria-labelledby': 'tokens-title' },
      h('h2', { id: 'tokens-title' }, self ? 'My API tokens' : 'API tokens'));
    if (!self && !hasSys('system.user', 'manage_api_tokens')) {
      sec.append(h('p', { class: 'note', id: 'tokens-note' }, 'Another user’s API tokens need the system right system.user with manage_api_tokens.'));
      return sec;
    }
    const errors = h('div', { id: 'tokens-errors' });
    const created = h('div', { id: 'token-created' });
    const tbody = h('tbody', { id: 'tokens-body' });
    const table = h('table', { class: 'data responsive', id: 'tokens-table' },
      h('caption', { class: 'visually-hidden' }, 'API tokens'),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Scope'),
        h('th', { scope: 'col' }, 'Created'), h('th', { scope: 'col' }, 'Expires'), h('th', { scope: 'col' }, 'Last used'),
        h('th', { scope: 'col' }, h('span', { class: 'visually-hidden' }, 'Actions')))),
      tbody);
    async function load() {
      table.dataset.state = 'loading';
      try {
        const r = await api('GET', '/api/v1/token', { query: self ? {} : { user: userID } });
        clear(errors);
        clear(tbody);
        for (const t of r.data) {
          const scope = t.scope || {};
          const sr = Object.keys(scope.system_rights || {});
          tbody.append(h('tr', { dataset: { tokenId: String(t._id), name: t.name } },
            h('td', { 'data-label': 'Name' }, h('span', { class: 'cut', title: t.name }, t.name)),
            h('td', { 'data-label': 'Scope' }, (scope.read_only ? 'read-only' : 'read and write') + (sr.length ? '; system rights: ' + sr.join(', ') : '')),
            h('td', { 'data-label': 'Created' }, timeEl(t.created)),
            h('td', { 'data-label': 'Expires' }, t.expires ? timeEl(t.expires) : 'never'),
            h('td', { 'data-label': 'Last used' }, t.last_used ? h('span', null, timeEl(t.last_used), t.last_used_address ? ' from ' + t.last_used_address : '') : 'never'),
            h('td', null, h('button', { type: 'button', class: 'button danger small', 'aria-label': `Revoke the token “${t.name}”`,
              onclick: (e) => revoke(t, e.currentTarget) }, 'Revoke'))));
        }
        if (!r.data.length) tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: '6' }, 'No API tokens.')));
      } catch (e) {
        showError(errors, e, null, load);
      } finally {
        table.dataset.state = 'ready';
      }
    }
    async function revoke(t, button) {
      hideToast();
      button.disabled = true;
      try {
        await api('DELETE', '/api/v1/token/' + t._id);
        notify(`Token “${t.name}” revoked: it no longer works.`);
        await load();
        const heading = $('#tokens-title');
        if (heading && (!document.activeElement || document.activeElement === document.body)) { heading.tabIndex = -1; heading.focus(); }
      } catch (e) {
        button.disabled = false;
        showError(errors, e);
      }
    }
    let form = null;
    if (self) {
      const name = h('input', { id: 'token-name', autocomplete: 'off', maxlength: '200' });
      const expires = h('input', { id: 'token-expires', type: 'date' });
      const readOnly = h('input', { type: 'checkbox', id: 'token-readonly' });
      const submit = h('button', { type: 'submit', class: 'button', id: 'token-create' }, 'Create token');
      form = h('form', { id: 'token-form', novalidate: true, class: 'token-form' },
        h('h3', null, 'New token'),
        h('div', { class: 'field-pair' }, field('Name', name, 'What the token is for, e.g. “nightly import”.'),
          field('Expires on (optional)', expires)),
        h('div', { class: 'check' }, readOnly, h('label', { for: readOnly.id }, 'Read-only (refuses every change)')),
        h('div', { class: 'actions' }, submit));
      form.addEventListener('submit', async (e) => {
        e.preventDefault();
        clear(errors);
        clearFieldErrors(form);
        clear(created);
        hideToast();
        if (!name.value.trim()) { fieldError(name, 'Give the token a name.'); name.focus(); return; }
        const body = { name: name.value.trim(), scope: { read_only: readOnly.checked } };
        if (expires.value) body.expires = new Date(expires.value + 'T00:00:00').toISOString().replace(/\.\d{3}Z$/, 'Z');
        submit.disabled = true;
        try {
          const r = await api('PUT', '/api/v1/token', { body });
          const secret = r.data.secret;
          app.tokens.add(secret); // never echoed by an error message
          created.append(secretBox('token-secret', `Token “${r.data.name}”: shown once`, secret,
            'Copy it now: groupd keeps only its hash, and it is not shown again. Send it as x-easydb-token.'));
          name.value = '';
          expires.value = '';
          readOnly.checked = false;
          await load();
          created.firstChild.focus();
        } catch (err) {
          showError(errors, err, null, () => form.requestSubmit());
          const attr = (err.parameters || {}).attribute;
          if (attr === 'name') fieldError(name, explain(err));
          if (attr === 'expires') fieldError(expires, explain(err));
        } finally {
          submit.disabled = false;
        }
      });
    }
    load();
    append(sec, [h('p', { class: 'help' }, 'A token acts as its user wherever a session does, without a password: for jobs and scripts.'),
      errors, created, h('div', { class: 'table-wrap' }, table), form]);
    return sec;
  }

  function viewTokens() {
    page('My API tokens', h('p', null, 'Personal tokens for jobs and scripts: each acts as you, narrowed by its scope, until it is revoked or expires.'),
      tokensSection(me()._id, true));
  }

  // --- why can this user see this group? ----------------------------------------

  const RULE_TEXT = {
    'system.root': 'the system right system.root (everything)',
    owner: 'owner of the group',
    member: 'member of this easydb group (members see it)',
    global_custom_bag_read: 'the system right system.group with global_custom_bag_read (every custom group)',
    acl: 'an entry of the group’s access control list',
  };

  function groundText(gr) {
    const who = gr.who ? subjectLabel(gr.who) : '';
    switch (gr.rule) {
      case 'owner': return gr.through_group ? `owner of the group through ${subjectLabel(gr.through_group)}` : 'owner of the group';
      case 'acl': {
        const via = gr.through_group ? `, through membership of ${subjectLabel(gr.through_group)}` : '';
        return `ACL entry #${gr.acl_index + 1} for ${who || 'the user'}${via} (grants ${(gr.entry_rights || []).join(', ')})`;
      }
      default: return RULE_TEXT[gr.rule] || gr.rule;
    }
  }

  // explainSection asks the server why a user holds each right on a group:
  // on a user's page one picks the group, on a group's page the user.
  function explainSection(ctx) {
    const onUser = !!ctx.user;
    const sec = h('section', { class: 'card area-explain', id: 'explain', 'aria-labelledby': 'explain-title' },
      h('h2', { id: 'explain-title' }, onUser ? 'Why can this user see a group?' : 'Why can a user see this group?'));
    const targetID = onUser ? ctx.user.user._id : ctx.group.group._id;
    const self = onUser && me() && me()._id === targetID;
    if (!isRoot() && !(onUser && self)) {
      sec.append(h('p', { class: 'note', id: 'explain-note' }, onUser
        ? 'Explaining another user’s rights needs the system right system.root.'
        : 'Explaining a user’s rights needs the system right system.root; you can ask about yourself on your own page.'));
      return sec;
    }
    const errors = h('div', { id: 'explain-errors' });
    const out = h('div', { id: 'explain-result', 'aria-live': 'polite', tabindex: '-1' });
    async function run(groupID, userID, label) {
      clear(errors);
      clear(out);
      out.dataset.state = 'loading';
      try {
        const r = await api('GET', `/api/v1/group/${groupID}/explain`, { query: { user: userID } });
        const d = r.data;
        const granted = d.rights.filter((x) => x.granted);
        out.append(h('h3', null, `${d.user.login || '#' + d.user._id} on ${subjectLabel(d.group)}`),
          h('p', { class: 'explain-verdict', id: 'explain-verdict' }, granted.some((x) => x.right === 'bag_read')
            ? `${d.user.login} can see this group.` : `${d.user.login} cannot see this group: no rule grants bag_read.`),
          h('table', { class: 'data responsive explain', id: 'explain-table' },
            h('caption', { class: 'visually-hidden' }, 'Rights and the rules that grant them'),
            h('thead', null, h('tr', null, h('th', { scope: 'col' }, 'Right'), h('th', { scope: 'col' }, 'Held'), h('th', { scope: 'col' }, 'Granted by'))),
            h('tbody', null, d.rights.map((x) => h('tr', { dataset: { right: x.right, granted: String(x.granted) } },
              h('th', { scope: 'row', 'data-label': 'Right' }, h('span', { title: RIGHT_INFO[x.right] }, x.right)),
              h('td', { 'data-label': 'Held' }, x.granted ? 'yes' : 'no'),
              h('td', { 'data-label': 'Granted by' }, x.grounds.length
                ? h('ul', { class: 'plain grounds' }, x.grounds.map((gr) => h('li', { dataset: { rule: gr.rule } }, groundText(gr))))
                : h('span', { class: 'muted' }, 'no rule')))))));
        out.dataset.state = 'ready';
        out.focus();
        void label;
      } catch (e) {
        out.dataset.state = 'failed';
        showError(errors, e, null, () => run(groupID, userID, label));
      }
    }
    const pk = onUser ? picker({
      id: 'explain-group', label_: 'Group (search by name)', placeholder: 'group name',
      search: searchGroups, key: (g) => String(g.group._id), label: (g) => 'Explain ' + groupTitle(g),
      choose: (g) => run(g.group._id, targetID, groupTitle(g)),
    }) : picker({
      id: 'explain-user', label_: 'User (search by login)', placeholder: 'login or user id',
      search: searchUsers, key: (u) => String(u.user._id), label: (u) => 'Explain ' + userLabel(u),
      choose: (u) => run(targetID, u.user._id, userLabel(u)),
    });
    sec.append(h('p', { class: 'help' }, 'Computed by the server with the same rules that decide every request: each right, and every rule that grants it on its own.'),
      pk.el, errors, out);
    return sec;
  }

  // --- audit trails ---------------------------------------------------------------

  // eventList reads events newest first in pages (order=newest, before),
  // from one stream per query (queries() gives them: a group's trail is its
  // own events and its membership events), each with its own cursor, shown
  // merged, newest first. Older events reads the next page of each stream
  // that has more; load(true) starts again from the newest.
  function eventList(idPrefix, queries, withObject) {
    const errors = h('div', { id: idPrefix + '-errors' });
    const list = h('ol', { class: 'events', id: idPrefix + '-list' });
    const more = h('button', { type: 'button', class: 'button secondary', id: idPrefix + '-more', hidden: true }, 'Older events');
    let streams = [];
    let events = [];
    async function load(fresh) {
      more.disabled = true;
      if (fresh || !streams.length) {
        streams = queries().map((q) => ({ q, before: 0, done: false }));
        events = [];
      }
      try {
        const pages = await Promise.all(streams.filter((st) => !st.done).map((st) =>
          api('GET', '/api/v1/events', { query: Object.assign({ order: 'newest', limit: EVENT_PAGE, before: st.before || '' }, st.q) })
            .then((r) => ({ st, data: r.data }))));
        clear(errors);
        for (const { st, data } of pages) {
          events.push(...data);
          if (data.length) st.before = data[data.length - 1]._id;
          st.done = data.length < EVENT_PAGE;
        }
        events.sort((a, b) => b._id - a._id);
        clear(list);
        for (const ev of events) list.append(eventItem(ev, withObject));
        if (!events.length) list.append(h('li', { class: 'muted' }, 'No events.'));
        more.hidden = streams.every((st) => st.done);
      } catch (e) {
        showError(errors, e, null, () => load(fresh));
      } finally {
        more.disabled = false;
      }
    }
    more.addEventListener('click', () => load(false));
    return { load, el: [errors, list, more] };
  }

  function userAuditSection(u) {
    const sec = h('section', { class: 'card area-audit', id: 'audit', 'aria-labelledby': 'audit-title' },
      h('h2', { id: 'audit-title' }, 'Audit trail'));
    if (!isRoot()) {
      sec.append(h('p', { class: 'note', id: 'audit-note' }, 'The audit trail can be read by holders of the system right system.root only.'));
      return sec;
    }
    const ev = eventList('audit', () => [{ type: 'user', object_id: u.user._id }]);
    sec.append(h('p', { class: 'help' }, 'Every change of this user, newest first (its group memberships are on the groups’ trails).'), ...ev.el);
    ev.load(true);
    return sec;
  }

  function viewAudit(params) {
    if (!isRoot()) {
      page('Audit trail', h('div', { class: 'alert alert-warn', role: 'alert' },
        h('p', { class: 'alert-title' }, 'The audit trail can be read by holders of the system right system.root only.')));
      return;
    }
    let type = params.get('type') || '';
    const typeSel = h('select', { id: 'audit-type' }, [['', 'Everything'], ['group', 'Groups'], ['user', 'Users'],
      ['membership', 'Memberships'], ['api_token', 'API tokens']].map(([v, l]) => h('option', { value: v, selected: v === type }, l)));
    const ev = eventList('all-audit', () => [{ type }], true);
    typeSel.addEventListener('change', () => {
      type = typeSel.value;
      listNav('#/audit' + (type ? '?type=' + type : ''));
      ev.load(true);
    });
    page('Audit trail', h('p', { class: 'help' }, 'Every change, newest first, by whom and when.'),
      h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter events', onsubmit: (e) => e.preventDefault() }, field('Show', typeSel)),
      h('div', { class: 'card' }, ...ev.el));
    ev.load(true);
  }

  // --- delete a user ---------------------------------------------------------------

  function confirmDeleteUser(u, opener) {
    const dlg = $('#confirm');
    const title = userTitle(u);
    $('#confirm-title').textContent = `Delete the user “${title}”?`;
    $('#confirm-message').textContent = 'This removes the user with its memberships, e-mail addresses, sessions, API tokens and every access control entry that names it. It cannot be undone.';
    clear($('#confirm-error'));
    const ok = $('#confirm-ok');
    const fresh = ok.cloneNode(false);
    fresh.textContent = 'Delete user';
    ok.replaceWith(fresh);
    fresh.addEventListener('click', async () => {
      hideToast();
      fresh.disabled = true;
      try {
        await api('DELETE', '/api/v1/user/' + u.user._id);
        dlg.close('ok');
        app.page = null;
        notify(`User “${title}” deleted.`, 'ok', '#/users');
        location.hash = '#/users';
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
        app.page = null; // the group is gone, and its unsaved edits with it
        notify(`Group “${title}” deleted.`, 'ok', '#/groups');
        location.hash = '#/groups';
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
