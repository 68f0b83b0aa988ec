// shopauth's account page: the customer's own view of their login, and the reference integration
// for a storefront. Everything here is plain GraphQL over fetch against POST /graphql, and the
// passkey ceremonies use only the browser's WebAuthn Level 3 JSON helpers:
//
//   register: PasskeyRegistrationOptions -> PublicKeyCredential.parseCreationOptionsFromJSON
//             -> navigator.credentials.create -> RegisterPasskey(credential: JSON.stringify(cred.toJSON()))
//   log in:   PasskeyLoginOptions -> PublicKeyCredential.parseRequestOptionsFromJSON
//             -> navigator.credentials.get -> LoginWithPasskey(credential: JSON.stringify(cred.toJSON()))
//
// The token pair lives in sessionStorage (this tab only). An access token the server refuses
// (401 invalid-token) is renewed once with RefreshTokens; if that fails the page logs out.
'use strict';

const ENDPOINT = '/graphql';
const STORAGE_KEY = 'shopauth:account';

// ---- the API --------------------------------------------------------------------------------

let tokens = JSON.parse(sessionStorage.getItem(STORAGE_KEY) || 'null');

function keepTokens(pair) {
  tokens = pair;
  if (pair) sessionStorage.setItem(STORAGE_KEY, JSON.stringify(pair));
  else sessionStorage.removeItem(STORAGE_KEY);
}

// ApiError carries the server's message and extensions.userCode (and validation details).
class ApiError extends Error {
  constructor(error) {
    super(error.message);
    this.userCode = error.extensions?.userCode;
    this.validation = error.extensions?.validation;
  }
}

async function post(query, variables, accessToken) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (accessToken) headers.Authorization = 'Bearer ' + accessToken;
  const res = await fetch(ENDPOINT, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  const body = await res.json();
  return { status: res.status, body };
}

// gql runs one operation and returns its data; with auth it sends the access token and renews
// the pair once when the server says the token is no longer valid.
async function gql(query, variables = {}, { auth = false } = {}) {
  let { status, body } = await post(query, variables, auth ? tokens?.accessToken : null);
  if (auth && status === 401 && tokens?.refreshToken) {
    const renewed = await post(
      'mutation ($t: String!) { RefreshTokens(input: {refreshToken: $t}) { accessToken refreshToken } }',
      { t: tokens.refreshToken });
    if (renewed.body.data?.RefreshTokens) {
      keepTokens(renewed.body.data.RefreshTokens);
      ({ status, body } = await post(query, variables, tokens.accessToken));
    }
  }
  if (body.errors?.length) {
    if (auth && body.errors[0].extensions?.userCode === 'invalid-token') {
      keepTokens(null);
      render();
    }
    throw new ApiError(body.errors[0]);
  }
  return body.data;
}

async function logIn(email, password) {
  const data = await gql('mutation ($e: String!, $p: Password!) { Login(input: {email: $e, password: $p}) { accessToken refreshToken } }',
    { e: email, p: password });
  keepTokens(data.Login);
}

// ---- passkeys -------------------------------------------------------------------------------

const passkeysSupported = typeof window.PublicKeyCredential === 'function' &&
  typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function' &&
  typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function';

async function addPasskey(name) {
  const data = await gql('mutation { PasskeyRegistrationOptions }', {}, { auth: true });
  const publicKey = PublicKeyCredential.parseCreationOptionsFromJSON(JSON.parse(data.PasskeyRegistrationOptions).publicKey);
  const credential = await navigator.credentials.create({ publicKey });
  await gql('mutation ($c: String!, $n: String) { RegisterPasskey(input: {credential: $c, name: $n}) { id name } }',
    { c: JSON.stringify(credential.toJSON()), n: name || null }, { auth: true });
}

async function logInWithPasskey() {
  const data = await gql('mutation { PasskeyLoginOptions }');
  const publicKey = PublicKeyCredential.parseRequestOptionsFromJSON(JSON.parse(data.PasskeyLoginOptions).publicKey);
  const credential = await navigator.credentials.get({ publicKey });
  const result = await gql('mutation ($c: String!) { LoginWithPasskey(input: {credential: $c}) { accessToken refreshToken } }',
    { c: JSON.stringify(credential.toJSON()) });
  keepTokens(result.LoginWithPasskey);
}

// ---- the page -------------------------------------------------------------------------------

const $ = (id) => document.getElementById(id);

function say(message, kind = 'ok') {
  $('status').textContent = message;
  $('status').className = kind;
}

// explain turns what went wrong into a sentence for the customer.
function explain(err) {
  if (err instanceof ApiError) {
    const details = Object.values(err.validation || {}).flat().map((v) => v.message);
    return details.length ? details.join(' ') : err.message;
  }
  if (err?.name === 'NotAllowedError') return 'The passkey prompt was closed or timed out.';
  if (err?.name === 'InvalidStateError') return 'This device already holds a passkey for your account.';
  if (err?.name === 'SecurityError') return 'Passkeys are not available at this address (' + location.host + ').';
  return 'Something went wrong: ' + (err?.message || err);
}

// run disables the button that started an action until it ends, and reports the outcome.
async function run(button, action, done) {
  if (button) button.disabled = true;
  say('');
  try {
    await action();
    if (done) say(done);
  } catch (err) {
    say(explain(err), 'error');
  } finally {
    if (button) button.disabled = false;
  }
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');

function row(cells, button) {
  const tr = document.createElement('tr');
  for (const c of cells) {
    const td = document.createElement('td');
    if (c instanceof Node) td.append(c); else td.textContent = c;
    tr.append(td);
  }
  const td = document.createElement('td');
  if (button) td.append(button);
  tr.append(td);
  return tr;
}

function emptyRow(text) {
  const tr = document.createElement('tr');
  const td = document.createElement('td');
  td.colSpan = 4;
  td.className = 'empty';
  td.textContent = text;
  tr.append(td);
  return tr;
}

async function render() {
  const loggedIn = Boolean(tokens);
  $('login').hidden = loggedIn;
  $('account').hidden = !loggedIn;
  for (const el of document.querySelectorAll('.passkey-only')) el.hidden = !passkeysSupported;
  if (!loggedIn) return;

  const data = await gql(`{
    currentCustomerUser { email firstName lastName }
    customerSessions { deviceId createdAt lastRefreshedAt expiresAt current loginInfo { loginType } }
    passkeys { id name createdAt lastUsedAt }
  }`, {}, { auth: true });
  const me = data.currentCustomerUser;
  $('who').textContent = `${me.firstName} ${me.lastName} <${me.email}>`;
  document.querySelector('#change-password [name=email]').value = me.email;

  $('passkeys').replaceChildren(...(data.passkeys.length ? data.passkeys.map((p) => {
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Remove';
    remove.dataset.passkey = p.id;
    remove.addEventListener('click', () => run(remove, async () => {
      await gql('mutation ($id: String!) { RemovePasskey(id: $id) }', { id: p.id }, { auth: true });
      await render();
    }, `Passkey "${p.name}" removed.`));
    return row([p.name, when(p.createdAt), when(p.lastUsedAt)], remove);
  }) : [emptyRow('No passkeys yet.')]));

  $('sessions').replaceChildren(...data.customerSessions.map((s) => {
    const started = document.createElement('span');
    started.textContent = when(s.createdAt);
    if (s.current) {
      const mark = document.createElement('span');
      mark.className = 'current';
      mark.textContent = ' (this one)';
      started.append(mark);
    }
    if (s.loginInfo.loginType === 'admin') {
      const staff = document.createElement('span');
      staff.className = 'staff';
      staff.textContent = ' (the shop\'s staff, logged in as you)';
      started.append(staff);
    }
    return row([started, when(s.lastRefreshedAt), when(s.expiresAt)]);
  }));
}

function formValues(form) {
  return Object.fromEntries(new FormData(form));
}

document.addEventListener('DOMContentLoaded', () => {
  $('password-login').addEventListener('submit', (e) => {
    e.preventDefault();
    const { email, password } = formValues(e.target);
    run(e.submitter, async () => {
      await logIn(email, password);
      e.target.reset();
      await render();
    }, 'Logged in.');
  });

  $('passkey-login').addEventListener('click', (e) => run(e.target, async () => {
    await logInWithPasskey();
    await render();
  }, 'Logged in with a passkey.'));

  $('add-passkey').addEventListener('submit', (e) => {
    e.preventDefault();
    run(e.submitter, async () => {
      await addPasskey(formValues(e.target).name.trim());
      e.target.reset();
      await render();
    }, 'Passkey added.');
  });

  $('logout').addEventListener('click', (e) => run(e.target, async () => {
    await gql('mutation { Logout }', {}, { auth: true }).catch(() => {}); // logged out either way
    keepTokens(null);
    await render();
  }, 'Logged out.'));

  const revoke = (scope) => (e) => run(e.target, async () => {
    const data = await gql('mutation ($s: SessionScope!) { RevokeSessions(scope: $s) }', { s: scope }, { auth: true });
    if (scope === 'ALL') keepTokens(null);
    await render();
    say(`${data.RevokeSessions} session(s) ended.`);
  });
  $('end-others').addEventListener('click', revoke('OTHERS'));
  $('end-all').addEventListener('click', revoke('ALL'));

  $('change-password').addEventListener('submit', (e) => {
    e.preventDefault();
    const { email, oldPassword, newPassword } = formValues(e.target);
    run(e.submitter, async () => {
      await gql('mutation ($i: ChangePasswordInput!) { ChangePassword(input: $i) { email } }',
        { i: { email, oldPassword, newPassword } }, { auth: true });
      // Every session has ended, this one too: log in again with the new password.
      await logIn(email, newPassword);
      e.target.reset();
      await render();
    }, 'Password changed; the other sessions have ended.');
  });

  render().catch((err) => say(explain(err), 'error'));
});
