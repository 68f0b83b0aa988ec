// shopauth's account page: the customer's own view of their login, and the reference integration
// for a storefront. Everything here is plain GraphQL over fetch against POST /graphql, and the
// passkey ceremonies use only the browser's WebAuthn Level 3 JSON helpers:
//
//   register: PasskeyRegistrationOptions -> PublicKeyCredential.parseCreationOptionsFromJSON
//             -> navigator.credentials.create -> RegisterPasskey(credential: JSON.stringify(cred.toJSON()))
//   log in:   PasskeyLoginOptions -> PublicKeyCredential.parseRequestOptionsFromJSON
//             -> navigator.credentials.get -> LoginWithPasskey(credential: JSON.stringify(cred.toJSON()))
//
// Social login is a redirect to GET /social-network/login/TYPE, with a PKCE challenge for the
// hand-off; shopauth sends the browser back here with a one-time code (or the reason it failed),
// which the page exchanges with LoginWithSocialCode. Linking an account is the same flow, begun
// from the URL SocialLinkUrl gives.
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

// Notice is a failure whose message is written for the customer as it is.
class Notice extends Error {}

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

// ---- social login ---------------------------------------------------------------------------

const FLOW_KEY = 'shopauth:account:social'; // the social login under way in this tab
const FLOW_TTL_MS = 10 * 60 * 1000; // as long as the server keeps a flow
const PROVIDER_NAMES = { google: 'Google', apple: 'Apple', facebook: 'Facebook', seznam: 'Seznam', oidc: 'OpenID Connect' };
const providerName = (type) => PROVIDER_NAMES[type] || type;

// What the server adds to this page's URL at the end of a social login, and what an email
// verification link carries: the page takes them out of the address bar once read.
const REDIRECT_PARAMS = ['code', 'isRegistration', 'showCartMergeInfo', 'redirect', 'cartUuid',
  'shouldOverwriteCustomerUserCart', 'productListUuids', 'exceptionType', 'socialNetwork', 'reason', 'verify', 'email'];

// What each failure reason of the redirect means for the customer.
const SOCIAL_FAILURES = {
  cancelled: (p) => `The login with ${p} was cancelled.`,
  'state-invalid': (p) => `The login with ${p} could not be finished: it was begun in another browser, ` +
    'took too long or was used already. Please try again.',
  'provider-error': (p) => `${p} did not answer as expected. Please try again later, or log in another way.`,
  'email-missing': (p) => `${p} did not give us your email address, which an account needs. ` +
    `Allow it at ${p}, or log in another way.`,
  'email-exists': (p) => 'An account with this email exists: log in with your password and link ' +
    `your ${p} account here, under "Linked accounts".`,
  'identity-linked-elsewhere': (p) => `This ${p} account is linked to another customer account already. ` +
    'Unlink it there first.',
};

let socialTypes; // settings { socialNetworkLoginConfig }, asked once

async function configuredProviders() {
  if (!socialTypes) {
    socialTypes = gql('{ settings { socialNetworkLoginConfig } }')
      .then((data) => data.settings.socialNetworkLoginConfig)
      .catch(() => []); // the page works without social login
  }
  return socialTypes;
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// goSocial opens a social login (or link) URL with a PKCE challenge of a fresh verifier, which
// this tab keeps to exchange the code it gets back. Without WebCrypto (a page on plain http that
// is not localhost) it goes without: the code is still single-use and lives a minute.
async function goSocial(url, type, link) {
  const flow = { type, link, at: Date.now() };
  if (window.crypto?.subtle) {
    flow.verifier = base64url(crypto.getRandomValues(new Uint8Array(32)));
    const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(flow.verifier));
    url.searchParams.set('code_challenge', base64url(new Uint8Array(digest)));
    url.searchParams.set('code_challenge_method', 'S256');
  }
  sessionStorage.setItem(FLOW_KEY, JSON.stringify(flow));
  location.assign(url.href);
}

function logInWithProvider(type) {
  return goSocial(new URL('/social-network/login/' + encodeURIComponent(type), location.href), type, false);
}

async function linkProvider(type) {
  const data = await gql('mutation ($t: LoginTypeEnum!) { SocialLinkUrl(type: $t) }', { t: type }, { auth: true });
  return goSocial(new URL(data.SocialLinkUrl, location.href), type, true);
}

// finishRedirect handles what this page was opened with: the end of a social login (a code to
// exchange, or why it failed) or an email verification link. It returns what to tell the customer.
async function finishRedirect() {
  const params = new URLSearchParams(location.search);
  if (!REDIRECT_PARAMS.some((k) => params.has(k))) return null;
  // A code is single-use and a verification link too: out of the address bar (and so out of a
  // reload, a bookmark or the history) before anything else happens.
  const clean = new URL(location.href);
  for (const k of REDIRECT_PARAMS) clean.searchParams.delete(k);
  history.replaceState(null, '', clean.pathname + clean.search + clean.hash);

  if (params.has('verify')) {
    await gql('mutation ($i: VerifyEmailInput!) { VerifyEmail(input: $i) }',
      { i: { email: params.get('email') || '', hash: params.get('verify') } }).catch((err) => {
      if (err.validation?.['input.hash']) {
        throw new Notice('This verification link does not work any more: it was used, has expired or a newer one ' +
          'was sent. Log in and ask for a new one.');
      }
      throw err;
    });
    return `Your email address ${params.get('email')} is verified.`;
  }

  let flow = JSON.parse(sessionStorage.getItem(FLOW_KEY) || 'null');
  sessionStorage.removeItem(FLOW_KEY);
  if (flow && !(Date.now() - flow.at < FLOW_TTL_MS)) flow = null; // long abandoned: not what came back
  if (params.get('exceptionType') === 'socialNetworkLoginException') {
    const name = providerName(params.get('socialNetwork') || flow?.type || '');
    const reason = params.get('reason');
    throw new Notice(SOCIAL_FAILURES[reason]?.(name) ?? `The login with ${name} failed (${reason}).`);
  }
  if (!params.has('code')) return null;
  if (!flow) {
    // A code this tab did not ask for: someone else's login, sent in a link, would log the
    // customer in to that account (login CSRF). Only the customer can say they meant it.
    askHandOff(params);
    return null;
  }
  return exchangeCode(params, flow);
}

// exchangeCode finishes a social login (or link) with the hand-off code of params and the flow
// this tab began (null: none), and returns what to tell the customer.
async function exchangeCode(params, flow) {
  const name = flow ? providerName(flow.type) : null;
  const data = await gql(
    'mutation ($i: LoginWithSocialCodeInput!) { LoginWithSocialCode(input: $i) { tokens { accessToken refreshToken } } }',
    { i: { code: params.get('code'), codeVerifier: flow?.verifier ?? null } }).catch((err) => {
    if (err.userCode !== 'invalid-credentials') throw err;
    throw new Notice(`The login${name ? ' with ' + name : ''} could not be finished: its one-time code was used ` +
      'already, has expired, or was not begun in this tab. Please try again.');
  });
  const fresh = data.LoginWithSocialCode.tokens;
  if (flow?.link && tokens) {
    // The account was linked from this session: the hand-off's session is a second one of the
    // same customer, not wanted, so it ends at once and this one goes on.
    await post('mutation { Logout }', {}, fresh.accessToken).catch(() => {});
    return `Your ${name} account is linked: you can log in with it from now on.`;
  }
  keepTokens(fresh);
  if (params.get('isRegistration') === 'true') return `Welcome! Your account was created with ${name || 'a social login'}.`;
  return name ? `Logged in with ${name}.` : 'Logged in.';
}

// askHandOff shows the choice to finish a login the page did not begin.
function askHandOff(params) {
  $('handoff').hidden = false;
  const done = () => { $('handoff').hidden = true; };
  $('handoff-continue').onclick = (e) => run(e.target, async () => {
    done(); // a code is tried once, whatever comes of it
    const message = await exchangeCode(params, null);
    await render();
    say(message);
  });
  $('handoff-cancel').onclick = () => {
    done();
    say('You were not logged in.');
  };
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
  if (err instanceof Notice) return err.message;
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

function emptyRow(text, columns = 4) {
  const tr = document.createElement('tr');
  const td = document.createElement('td');
  td.colSpan = columns;
  td.className = 'empty';
  td.textContent = text;
  tr.append(td);
  return tr;
}

function button(text, onClick, className) {
  const b = document.createElement('button');
  b.type = 'button';
  b.textContent = text;
  if (className) b.className = className;
  b.addEventListener('click', () => onClick(b));
  return b;
}

// How the session began, in words (currentCustomerUser.loginInfo).
function loginInfoText(info) {
  switch (info.loginType) {
    case 'web': return 'your password';
    case 'passkey': return 'a passkey';
    case 'admin': return 'the shop\'s staff, logging in as you';
    default: return `${providerName(info.loginType)}` + (info.externalId ? ` (account ${info.externalId})` : '');
  }
}

function renderSocialButtons(types) {
  $('social-login').hidden = types.length === 0;
  $('social-buttons').replaceChildren(...types.map((type) => button(`Log in with ${providerName(type)}`,
    (b) => run(b, () => logInWithProvider(type)), `social ${type}`)));
}

// renderIdentities lists every configured provider, linked (Unlink) or not (Link), and the linked
// accounts of providers no longer configured (Unlink only).
function renderIdentities(types, identities) {
  const byType = new Map(identities.map((i) => [i.type, i]));
  const all = [...types, ...identities.map((i) => i.type).filter((t) => !types.includes(t))];
  $('linked').hidden = all.length === 0;
  $('identities').replaceChildren(...all.map((type) => {
    const name = providerName(type);
    const id = byType.get(type);
    let tr;
    if (!id) {
      tr = row([name, 'not linked', '—', '—'], button('Link', (b) => run(b, () => linkProvider(type))));
    } else {
      const unlink = button('Unlink', (b) => run(b, async () => {
        await gql('mutation ($t: LoginTypeEnum!) { UnlinkSocialIdentity(type: $t) }', { t: type }, { auth: true });
        await render();
      }, `Your ${name} account is unlinked.`));
      tr = row([name, id.email || id.externalId, when(id.linkedAt), when(id.lastUsedAt)], unlink);
    }
    tr.dataset.type = type;
    return tr;
  }));
}

async function render() {
  const loggedIn = Boolean(tokens);
  $('login').hidden = loggedIn;
  $('account').hidden = !loggedIn;
  for (const el of document.querySelectorAll('.passkey-only')) el.hidden = !passkeysSupported;
  const types = await configuredProviders();
  if (!loggedIn) {
    renderSocialButtons(types);
    return;
  }

  const data = await gql(`{
    currentCustomerUser { email firstName lastName emailVerified loginInfo { loginType externalId } }
    customerSessions { deviceId createdAt lastRefreshedAt expiresAt current loginInfo { loginType } }
    passkeys { id name createdAt lastUsedAt }
    socialIdentities { type externalId email linkedAt lastUsedAt }
  }`, {}, { auth: true });
  const me = data.currentCustomerUser;
  const fullName = `${me.firstName} ${me.lastName}`.trim();
  $('who').textContent = fullName ? `${fullName} <${me.email}>` : me.email;
  $('login-info').textContent = loginInfoText(me.loginInfo);
  $('email-verified').textContent = me.emailVerified ? 'is verified.' : 'is not verified yet.';
  $('email-verified').className = me.emailVerified ? 'verified' : 'unverified';
  $('verify-email').hidden = me.emailVerified;
  document.querySelector('#change-password [name=email]').value = me.email;
  renderIdentities(types, data.socialIdentities);

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

  $('verify-email').addEventListener('click', (e) => run(e.target, async () => {
    await gql('mutation { RequestEmailVerification }', {}, { auth: true });
    say('We have sent a link to your email address. Open it to verify the address (it works for 24 hours).');
  }));

  (async () => {
    let message = null;
    try {
      message = await finishRedirect();
    } finally {
      await render(); // logged in or not, whatever the redirect brought
    }
    if (message) say(message);
  })().catch((err) => say(explain(err), 'error'));
});
