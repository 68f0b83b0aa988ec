// shopauth's admin console, served on --admin-addr only. Plain GraphQL over fetch against
// POST /admin/graphql; the operator's session is an HttpOnly cookie this script never sees, and
// every request carries X-Requested-With (the server refuses one without it, so no other site's
// form can act here). Customer data is attacker-controlled text: it only ever goes into the page
// as textContent, never as HTML.
'use strict';

const ENDPOINT = '/admin/graphql';
const PAGE_SIZE = 20;

class ApiError extends Error {
  constructor(error) {
    super(error.message);
    this.userCode = error.extensions?.userCode;
    this.validation = error.extensions?.validation;
  }
}

async function gql(query, variables = {}) {
  const res = await fetch(ENDPOINT, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-Requested-With': 'shopauth-admin' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json();
  if (body.errors?.length) {
    const err = new ApiError(body.errors[0]);
    if (err.userCode === 'operator-login-required') showLogin();
    throw err;
  }
  return body.data;
}

// ---- the page -------------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

function say(message, kind = 'ok') {
  $('status').textContent = message;
  $('status').className = kind;
}

function explain(err) {
  if (err instanceof ApiError) {
    const details = Object.values(err.validation || {}).flat().map((v) => v.message);
    return details.length ? details.join(' ') : err.message;
  }
  if (err?.name === 'NotAllowedError') return 'The passkey prompt was closed or timed out.';
  if (err?.name === 'InvalidStateError') return 'This device already holds a passkey for this operator.';
  if (err?.name === 'SecurityError') return 'Passkeys are not available at this address (' + location.host + '): open the console at the address shopauth printed.';
  return 'Something went wrong: ' + (err?.message || err);
}

async function run(button, action, done) {
  if (button) button.disabled = true;
  say('');
  try {
    await action();
    if (done) say(typeof done === 'function' ? done() : done);
  } catch (err) {
    say(explain(err), 'error');
  } finally {
    if (button) button.disabled = false;
  }
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

function el(tag, text, props = {}) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = text;
  Object.assign(e, props);
  return e;
}

function button(text, onClick, className = '') {
  const b = el('button', text, { type: 'button', className });
  b.addEventListener('click', () => onClick(b));
  return b;
}

function row(cells) {
  const tr = el('tr');
  for (const c of cells) {
    const td = el('td');
    if (c instanceof Node) td.append(c); else td.textContent = c ?? '—';
    tr.append(td);
  }
  return tr;
}

function rows(tbody, list, columns, toCells, empty) {
  $(tbody).replaceChildren(...(list.length ? list.map((x) => row(toCells(x)))
    : [(() => { const tr = el('tr'); tr.append(el('td', empty, { colSpan: columns, className: 'empty' })); return tr; })()]));
}

function definitions(dl, pairs) {
  $(dl).replaceChildren(...pairs.flatMap(([k, v]) => {
    const dd = el('dd');
    if (v instanceof Node) dd.append(v); else dd.textContent = v ?? '—';
    return [el('dt', k), dd];
  }));
}

function showOnly(id) {
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== id;
}

function showLogin() {
  $('nav').hidden = true;
  $('operator').hidden = true;
  showOnly('login');
}

// ---- enrolment and login ----------------------------------------------------------------------

const passkeysSupported = typeof window.PublicKeyCredential === 'function' &&
  typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function' &&
  typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function';

function enrolToken() {
  const m = /^#enrol=([A-Za-z0-9_-]+)$/.exec(location.hash);
  return m ? m[1] : null;
}

async function enrol(token) {
  const data = await gql('mutation ($t: String!) { EnrolOptions(token: $t) { options } }', { t: token });
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(data.EnrolOptions.options).publicKey);
  const credential = await navigator.credentials.create({ publicKey });
  await gql('mutation ($i: EnrolInput!) { Enrol(input: $i) { name } }',
    { i: { token, credential: JSON.stringify(credential.toJSON()) } });
  history.replaceState(null, '', '/admin#customers'); // the link is used up
}

async function logIn() {
  const data = await gql('mutation { LoginOptions }');
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(data.LoginOptions).publicKey);
  const credential = await navigator.credentials.get({ publicKey });
  await gql('mutation ($c: String!) { Login(input: {credential: $c}) { name } }', { c: JSON.stringify(credential.toJSON()) });
}

// ---- views ----------------------------------------------------------------------------------

let search = '';
let offset = 0;

async function showCustomers() {
  const data = await gql(`query ($s: String, $o: Int, $l: Int) {
    customers(search: $s, offset: $o, limit: $l) { total offset customers { uuid email firstName lastName createdAt lastLoginAt sessions } }
  }`, { s: search, o: offset, l: PAGE_SIZE });
  const page = data.customers;
  rows('customers', page.customers, 5, (c) => [
    el('a', c.email, { href: '#customer/' + encodeURIComponent(c.uuid) }),
    `${c.firstName} ${c.lastName}`, when(c.createdAt), when(c.lastLoginAt), String(c.sessions),
  ], search ? 'No customer matches.' : 'No customers yet.');
  const last = page.offset + page.customers.length;
  $('page-info').textContent = page.total ? `${page.offset + 1}–${last} of ${page.total}` : '';
  $('prev').disabled = page.offset === 0;
  $('next').disabled = last >= page.total;
  showOnly('view-customers');
}

let current = null; // the customer on show

async function showCustomer(uuid) {
  const data = await gql(`query ($u: Uuid!) { customer(uuid: $u) {
    uuid email firstName lastName telephone createdAt lastLoginAt emailVerified hasPassword
    socialIdentities { type email linkedAt lastUsedAt }
    sessions { deviceId createdAt lastRefreshedAt expiresAt loginType administratorUuid }
    passkeys { name createdAt lastUsedAt }
    audit { at reason operator remoteAddr }
  } }`, { u: uuid });
  const c = data.customer;
  current = c;
  $('c-title').textContent = `${c.firstName} ${c.lastName}`;
  definitions('c-details', [
    ['Email', c.email],
    ['Email verified', el('span', c.emailVerified ? 'yes' : 'no', { className: c.emailVerified ? 'yes' : 'no' })],
    ['Password', c.hasPassword ? 'set' : 'none (logs in otherwise)'],
    ['UUID', el('span', c.uuid, { className: 'mono' })], ['Telephone', c.telephone],
    ['Created', when(c.createdAt)], ['Last login', when(c.lastLoginAt)],
  ]);
  rows('c-identities', c.socialIdentities, 4, (i) => [i.type, i.email, when(i.linkedAt), when(i.lastUsedAt)],
    'No linked social accounts.');
  rows('c-sessions', c.sessions, 6, (s) => [
    el('span', s.deviceId, { className: 'mono' }),
    s.loginType === 'admin' ? 'an operator (log in as)' : s.loginType,
    when(s.createdAt), when(s.lastRefreshedAt), when(s.expiresAt),
    button('End', (b) => run(b, async () => {
      await gql('mutation ($i: EndSessionInput!) { EndSession(input: $i) }', { i: { uuid: c.uuid, deviceId: s.deviceId } });
      await showCustomer(c.uuid);
    }, 'Session ended: its tokens no longer work.')),
  ], 'No live sessions.');
  rows('c-passkeys', c.passkeys, 3, (p) => [p.name, when(p.createdAt), when(p.lastUsedAt)], 'No passkeys.');
  rows('c-audit', c.audit, 4, (e) => [when(e.at), e.reason, e.operator, e.remoteAddr], 'No events.');
  $('login-as-link').hidden = true;
  const form = $('delete');
  form.reset();
  form.querySelector('button').disabled = true;
  showOnly('view-customer');
}

async function showAudit() {
  const f = Object.fromEntries(new FormData($('audit-filter')));
  const filter = { email: f.email || null, event: f.event || null, since: f.since || null };
  const data = await gql(`query ($f: AuditFilter) { auditLog(filter: $f) { at reason email customerUuid operator remoteAddr } }`, { f: filter });
  rows('audit', data.auditLog, 5, (e) => [when(e.at), e.reason, e.email || e.customerUuid, e.operator, e.remoteAddr], 'No events.');
  showOnly('view-audit');
}

async function showKeys() {
  const data = await gql('{ keys { id algorithm startsAt signing live pending shopsys refresh } }');
  rows('keys', data.keys, 4, (k) => [
    el('span', k.id, { className: 'mono' }), k.refresh ? `${k.algorithm} (refresh)` : k.algorithm, when(k.startsAt),
    [k.signing && 'signing', k.pending && 'next', k.live && 'live', k.shopsys && 'Shopsys', !k.live && 'retired']
      .filter(Boolean).join(', '),
  ], 'No keys.');
  showOnly('view-keys');
}

async function showSettings() {
  const data = await gql('{ summary { health version schemaVersion store issuer providers settings { name value } } }');
  const s = data.summary;
  definitions('summary', [
    ['Health', el('span', s.health, { className: s.health === 'ok' ? 'yes' : 'no' })],
    ['Version', s.version], ['Schema version', String(s.schemaVersion)], ['Store', s.store], ['Issuer', s.issuer],
    ['Social login', s.providers.length ? s.providers.join(', ') : 'none'],
  ]);
  rows('settings', s.settings, 2, (x) => [x.name, x.value], 'None.');
  showOnly('view-settings');
}

// route shows what location.hash names: #customers, #customer/UUID, #audit, #keys, #settings.
async function route() {
  const token = enrolToken();
  if (token) {
    showOnly('enrol');
    $('enrol-button').disabled = !passkeysSupported;
    const data = await gql('mutation ($t: String!) { EnrolOptions(token: $t) { operator } }', { t: token });
    $('enrol-name').textContent = data.EnrolOptions.operator;
    return;
  }
  const me = await gql('{ me { name } }');
  $('who').textContent = me.me.name;
  $('nav').hidden = false;
  $('operator').hidden = false;
  const [view, arg] = location.hash.slice(1).split('/');
  for (const a of document.querySelectorAll('#nav a')) a.classList.toggle('active', a.hash === '#' + (view === 'customer' ? 'customers' : view || 'customers'));
  switch (view) {
    case 'customer': return showCustomer(decodeURIComponent(arg || ''));
    case 'audit': return showAudit();
    case 'keys': return showKeys();
    case 'settings': return showSettings();
    default: return showCustomers();
  }
}

function formValues(form) {
  return Object.fromEntries(new FormData(form));
}

document.addEventListener('DOMContentLoaded', () => {
  $('login-button').disabled = !passkeysSupported;
  $('login-button').addEventListener('click', (e) => run(e.target, async () => {
    await logIn();
    await route();
  }, 'Logged in.'));
  $('enrol-button').addEventListener('click', (e) => run(e.target, async () => {
    await enrol(enrolToken());
    await route();
  }, 'Passkey registered; you are logged in.'));
  $('logout').addEventListener('click', (e) => run(e.target, async () => {
    await gql('mutation { Logout }').catch(() => {});
    showLogin();
  }, 'Logged out.'));

  $('search').addEventListener('submit', (e) => {
    e.preventDefault();
    search = formValues(e.target).search.trim();
    offset = 0;
    run(e.submitter, showCustomers);
  });
  $('prev').addEventListener('click', (e) => { offset = Math.max(0, offset - PAGE_SIZE); run(e.target, showCustomers); });
  $('next').addEventListener('click', (e) => { offset += PAGE_SIZE; run(e.target, showCustomers); });

  $('send-recovery').addEventListener('click', (e) => run(e.target, async () => {
    await gql('mutation ($u: Uuid!) { SendRecoveryMail(uuid: $u) }', { u: current.uuid });
    await showCustomer(current.uuid);
  }, () => `A recovery mail is on its way to ${current.email}.`));
  $('login-as').addEventListener('click', (e) => run(e.target, async () => {
    const data = await gql('mutation ($u: Uuid!) { LoginAsCustomer(uuid: $u) }', { u: current.uuid });
    $('login-as-url').href = data.LoginAsCustomer;
    $('login-as-url').textContent = 'open the storefront as ' + current.email;
    $('login-as-link').hidden = false;
  }, 'Link ready: it works once, within 60 seconds.'));
  $('end-all').addEventListener('click', (e) => run(e.target, async () => {
    const data = await gql('mutation ($u: Uuid!) { EndSessions(uuid: $u) }', { u: current.uuid });
    await showCustomer(current.uuid);
    say(data.EndSessions === 0 ? 'No sessions to end.' : `${data.EndSessions} session(s) ended.`);
  }));
  const confirmInput = $('delete').querySelector('[name=confirmEmail]');
  confirmInput.addEventListener('input', () => {
    $('delete').querySelector('button').disabled = confirmInput.value.trim().toLowerCase() !== current?.email;
  });
  $('delete').addEventListener('submit', (e) => {
    e.preventDefault();
    const email = current.email;
    run(e.submitter, async () => {
      await gql('mutation ($i: DeleteCustomerInput!) { DeleteCustomer(input: $i) }',
        { i: { uuid: current.uuid, confirmEmail: confirmInput.value } });
      location.hash = '#customers';
    }, () => `Customer ${email} deleted.`);
  });

  $('audit-filter').addEventListener('submit', (e) => { e.preventDefault(); run(e.submitter, showAudit); });
  const rotate = (now) => (e) => {
    if (now && !confirm('Sign with a new key at once? Services holding a cached JWKS refuse the new tokens until they fetch it again.')) return;
    run(e.target, async () => {
      const data = await gql('mutation ($n: Boolean) { RotateKeys(now: $n) { id } }', { n: now });
      await showKeys();
      say(`New key ${data.RotateKeys.id}.`);
    });
  };
  $('rotate').addEventListener('click', rotate(false));
  $('rotate-now').addEventListener('click', rotate(true));
  $('test-mail').addEventListener('submit', (e) => {
    e.preventDefault();
    const { to } = formValues(e.target);
    run(e.submitter, async () => {
      const data = await gql('mutation ($t: String!) { SendTestMail(to: $t) }', { t: to });
      say(`Test mail sent: ${data.SendTestMail}`);
    });
  });

  window.addEventListener('hashchange', () => route().catch((err) => say(explain(err), 'error')));
  route().catch((err) => say(explain(err), 'error'));
});
