// Unit tests of the GraphiQL page's session (web/graphiql/session.js), run
// with `node --test e2e/session.test.mjs` (e2e/external_test.go does, under
// ./test.sh). The script runs in a fresh context with a fake server (fetch),
// a fake sessionStorage and a fixed clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import vm from 'node:vm';

const source = readFileSync(new URL('../web/graphiql/session.js', import.meta.url), 'utf8');

function load() {
  const context = { atob, TextDecoder, Uint8Array, JSON, Date, Promise };
  vm.createContext(context);
  vm.runInContext(source, context, { filename: 'session.js' });
  return context.ShopauthSession;
}

function b64url(obj) {
  return Buffer.from(JSON.stringify(obj)).toString('base64url');
}

// jwt makes a token whose payload the page can read; the signature is junk,
// as the page never checks it.
function jwt(claims) {
  return `${b64url({ alg: 'RS256', typ: 'JWT', kid: 'k' })}.${b64url(claims)}.c2ln`;
}

const A1 = jwt({ email: 'jana@shop.cz', exp: 1000, nbf: 990, iat: 990 });
const A2 = jwt({ email: 'jana@shop.cz', exp: 2000 });
const R1 = 'refresh-1';
const R2 = 'refresh-2';

class Storage {
  constructor(init) {
    this.map = new Map(Object.entries(init || {}));
  }
  getItem(k) {
    return this.map.has(k) ? this.map.get(k) : null;
  }
  setItem(k, v) {
    this.map.set(k, String(v));
  }
  removeItem(k) {
    this.map.delete(k);
  }
}

// server answers each request with the next reply and records the requests.
function server(replies) {
  const requests = [];
  const fetch = async (url, init) => {
    const headers = {};
    for (const [k, v] of Object.entries(init.headers)) headers[k.toLowerCase()] = v;
    const req = { url, headers, body: JSON.parse(init.body) };
    requests.push(req);
    const reply = replies.shift();
    if (!reply) throw new Error('unexpected request ' + init.body);
    if (reply instanceof Error) throw reply;
    const r = typeof reply === 'function' ? reply(req) : reply;
    return { status: r.status || 200, text: async () => (typeof r.body === 'string' ? r.body : JSON.stringify(r.body)) };
  };
  return { fetch, requests };
}

const invalidToken = {
  status: 401,
  body: { errors: [{ message: 'Token is not valid.', extensions: { userCode: 'invalid-token' } }] },
};
const who = { body: { data: { currentCustomerUser: { email: 'jana@shop.cz' } } } };
const WHO = { query: '{ currentCustomerUser { email } }' };

function setup(replies, stored) {
  const S = load();
  const storage = new Storage(stored ? { [S.STORAGE_KEY]: JSON.stringify(stored) } : {});
  const srv = server(replies);
  const session = S.createSession({ endpoint: '/graphql', fetch: srv.fetch, storage, now: () => 1_000_000 });
  return { S, session, storage, srv };
}

test('decodeClaims reads the payload of a token and nothing else', () => {
  const S = load();
  const t = jwt({ email: 'žofie@shop.cz', exp: 5 });
  assert.equal(S.decodeClaims(t).email, 'žofie@shop.cz');
  assert.equal(S.decodeClaims(t).exp, 5);
  for (const bad of ['', 'a.b', 'a.!!!.c', `x.${Buffer.from('[1]').toString('base64url')}.y`, null, 42]) {
    assert.equal(S.decodeClaims(bad), null, String(bad));
  }
});

test('timeLeft', () => {
  const S = load();
  const cases = [
    [1000, 1000_000, 'expired'],
    [1000, 1001_000, 'expired'],
    [1000, 999_500, '0:01 left'],
    [1000, 997_000, '0:03 left'],
    [1000 + 3600, 1000_000, '1:00:00 left'],
    [1000 + 61, 1000_000, '1:01 left'],
  ];
  for (const [exp, now, want] of cases) assert.equal(S.timeLeft(exp, now), want, `${exp} at ${now}`);
});

test('a token pair under any alias becomes the session', async (t) => {
  const cases = [
    ['Register', { Register: { accessToken: A1, refreshToken: R1 } }],
    ['alias', { me: { accessToken: A1, refreshToken: R1 } }],
    ['RecoverPassword', { RecoverPassword: { accessToken: A1, refreshToken: R1 } }],
    ['LoginWithPasskey', { LoginWithPasskey: { refreshToken: R1, accessToken: A1 } }],
    ['the last of two', { a: { accessToken: A2, refreshToken: R2 }, b: { accessToken: A1, refreshToken: R1 } }],
  ];
  for (const [name, data] of cases) {
    await t.test(name, async () => {
      const { S, session, storage } = setup([{ body: { data } }]);
      const json = await session.fetcher({ query: 'mutation { x }' }, { headers: {} });
      assert.deepEqual(json, { data });
      assert.deepEqual(JSON.parse(storage.getItem(S.STORAGE_KEY)), { accessToken: A1, refreshToken: R1 });
      const st = session.state();
      assert.equal(st.loggedIn, true);
      assert.equal(st.email, 'jana@shop.cz');
      assert.equal(st.exp, 1000);
      assert.match(st.notice.text, /^Logged in \(/);
    });
  }
  await t.test('no pair: nothing kept', async () => {
    const { S, session, storage } = setup([{ body: { data: { Login: { accessToken: A1 } } } }]);
    await session.fetcher({ query: 'mutation { x }' }, {});
    assert.equal(storage.getItem(S.STORAGE_KEY), null);
    assert.equal(session.state().loggedIn, false);
  });
});

test('who sends the token', async (t) => {
  const cases = [
    ['no session, no tab header', null, {}, undefined],
    ['the session', { accessToken: A1, refreshToken: R1 }, {}, `Bearer ${A1}`],
    ['the tab wins', { accessToken: A1, refreshToken: R1 }, { Authorization: 'Bearer mine' }, 'Bearer mine'],
    ['the tab wins, any case', { accessToken: A1, refreshToken: R1 }, { authorization: 'Bearer mine' }, 'Bearer mine'],
    ['an empty tab header means anonymous', { accessToken: A1, refreshToken: R1 }, { Authorization: '' }, ''],
    ['X-Auth-Token in the tab', { accessToken: A1, refreshToken: R1 }, { 'X-Auth-Token': 'Bearer mine' }, undefined],
    ['the old placeholder does not win', { accessToken: A1, refreshToken: R1 },
      { Authorization: 'Bearer <paste accessToken here>' }, `Bearer ${A1}`],
  ];
  for (const [name, stored, tabHeaders, want] of cases) {
    await t.test(name, async () => {
      const { session, srv } = setup([who], stored);
      await session.fetcher(WHO, { headers: tabHeaders });
      assert.equal(srv.requests[0].headers.authorization, want);
      assert.equal(srv.requests[0].headers['content-type'], 'application/json');
    });
  }
});

test('401 invalid-token: one refresh, one retry with the new token', async () => {
  const { S, session, storage, srv } = setup(
    [invalidToken, { body: { data: { RefreshTokens: { accessToken: A2, refreshToken: R2 } } } }, who],
    { accessToken: A1, refreshToken: R1 },
  );
  const json = await session.fetcher(WHO, { headers: {} });
  assert.deepEqual(json, who.body);
  assert.equal(srv.requests.length, 3);
  assert.equal(srv.requests[0].headers.authorization, `Bearer ${A1}`);
  assert.equal(srv.requests[1].body.operationName, 'RefreshTokens');
  assert.deepEqual(srv.requests[1].body.variables, { input: { refreshToken: R1 } });
  assert.equal(srv.requests[1].headers.authorization, undefined);
  assert.equal(srv.requests[2].headers.authorization, `Bearer ${A2}`);
  assert.deepEqual(JSON.parse(storage.getItem(S.STORAGE_KEY)), { accessToken: A2, refreshToken: R2 });
  assert.equal(session.state().notice.text, 'Refreshed the expired access token.');
});

test('a second 401 after the refresh is answered, not retried again', async () => {
  const { session, srv } = setup(
    [invalidToken, { body: { data: { RefreshTokens: { accessToken: A2, refreshToken: R2 } } } }, invalidToken],
    { accessToken: A1, refreshToken: R1 },
  );
  const json = await session.fetcher(WHO, { headers: {} });
  assert.deepEqual(json, invalidToken.body);
  assert.equal(srv.requests.length, 3);
});

test('a refused refresh forgets the pair, says so, and retries anonymously', async () => {
  const anonymous = { body: { data: null, errors: [{ message: 'No customer user is currently logged in.' }] } };
  const { S, session, storage, srv } = setup(
    [invalidToken, { body: { data: null, errors: [{ message: 'Token is not valid.' }] } }, anonymous],
    { accessToken: A1, refreshToken: R1 },
  );
  const json = await session.fetcher(WHO, { headers: {} });
  assert.deepEqual(json, anonymous.body);
  assert.equal(srv.requests[2].headers.authorization, undefined);
  assert.equal(storage.getItem(S.STORAGE_KEY), null);
  const st = session.state();
  assert.equal(st.loggedIn, false);
  assert.equal(st.notice.kind, 'error');
  assert.equal(st.notice.text, 'Refresh failed (Token is not valid.): logged out.');
});

test('an unreachable server keeps the pair', async () => {
  const { session, srv } = setup(
    [invalidToken, new Error('network down'), invalidToken],
    { accessToken: A1, refreshToken: R1 },
  );
  const json = await session.fetcher(WHO, { headers: {} });
  assert.deepEqual(json, invalidToken.body);
  assert.equal(srv.requests.length, 3);
  assert.equal(session.state().loggedIn, true);
  assert.match(session.state().notice.text, /network down/);
});

test('the tab\'s own token gets no refresh', async () => {
  const { session, srv } = setup([invalidToken], { accessToken: A1, refreshToken: R1 });
  const json = await session.fetcher(WHO, { headers: { Authorization: 'Bearer old' } });
  assert.deepEqual(json, invalidToken.body);
  assert.equal(srv.requests.length, 1);
  assert.equal(session.state().loggedIn, true);
});

test('requests failing together share one refresh', async () => {
  // Both requests are sent before either answer is read, so both fail with A1.
  const { session, srv } = setup(
    [invalidToken, invalidToken, { body: { data: { RefreshTokens: { accessToken: A2, refreshToken: R2 } } } }, who, who],
    { accessToken: A1, refreshToken: R1 },
  );
  const both = await Promise.all([session.fetcher(WHO, {}), session.fetcher(WHO, {})]);
  assert.deepEqual(both, [who.body, who.body]);
  assert.equal(srv.requests.filter((r) => r.body.operationName === 'RefreshTokens').length, 1);
  assert.equal(srv.requests[3].headers.authorization, `Bearer ${A2}`);
  assert.equal(srv.requests[4].headers.authorization, `Bearer ${A2}`);
});

test('an empty refreshToken variable is filled with the session\'s', async () => {
  const { session, srv } = setup(
    [{ body: { data: { RefreshTokens: { accessToken: A2, refreshToken: R2 } } } }],
    { accessToken: A1, refreshToken: R1 },
  );
  await session.fetcher({ query: 'mutation RefreshTokens($input: RefreshTokenInput!) { x }', variables: { input: { refreshToken: '' }, other: '' } }, {});
  assert.deepEqual(srv.requests[0].body.variables, { input: { refreshToken: R1 }, other: '' });
  assert.equal(session.state().notice.text, 'Logged in (RefreshTokens).');
});

function logoutAST(alias) {
  return {
    kind: 'Document',
    definitions: [{
      kind: 'OperationDefinition',
      operation: 'mutation',
      name: { value: 'Bye' },
      selectionSet: { selections: [{ kind: 'Field', name: { value: 'Logout' }, alias: alias ? { value: alias } : undefined }] },
    }],
  };
}

test('a Logout run from a tab forgets the pair', async (t) => {
  const cases = [
    ['Logout true', logoutAST(), { Logout: true }, {}, false],
    ['aliased', logoutAST('bye'), { bye: true }, {}, false],
    ['Logout false', logoutAST(), { Logout: false }, {}, true],
    ['another token in the tab', logoutAST(), { Logout: true }, { Authorization: 'Bearer other' }, true],
    ['the session token in the tab', logoutAST(), { Logout: true }, { Authorization: `Bearer ${A1}` }, false],
  ];
  for (const [name, ast, data, headers, stillIn] of cases) {
    await t.test(name, async () => {
      const { session } = setup([{ body: { data } }], { accessToken: A1, refreshToken: R1 });
      await session.fetcher({ query: 'mutation Bye { Logout }', operationName: 'Bye' }, { headers, documentAST: ast });
      assert.equal(session.state().loggedIn, stillIn);
    });
  }
});

test('the Log out button calls Logout with the token and forgets the pair', async (t) => {
  const cases = [
    ['Logout true', [{ body: { data: { Logout: true } } }], 'Logged out.'],
    ['Logout refused', [{ body: { data: null, errors: [{ message: 'Token is not valid.' }] } }],
      'Logout answered Token is not valid.; forgot the tokens anyway.'],
    ['server down', [new Error('down')], 'Logout failed (down); forgot the tokens anyway.'],
  ];
  for (const [name, replies, notice] of cases) {
    await t.test(name, async () => {
      const { S, session, storage, srv } = setup(replies, { accessToken: A1, refreshToken: R1 });
      let calls = 0;
      session.subscribe(() => calls++);
      await session.logout();
      assert.equal(srv.requests[0].body.operationName, 'Logout');
      assert.equal(srv.requests[0].headers.authorization, `Bearer ${A1}`);
      assert.equal(storage.getItem(S.STORAGE_KEY), null);
      assert.equal(session.state().loggedIn, false);
      assert.equal(session.state().notice.text, notice);
      assert.ok(calls >= 1, 'listeners were not told');
    });
  }
});

test('a stored session survives a reload; a bad one is ignored', () => {
  const S = load();
  const good = new Storage({ [S.STORAGE_KEY]: JSON.stringify({ accessToken: A1, refreshToken: R1 }) });
  assert.equal(S.createSession({ endpoint: '/graphql', fetch() {}, storage: good }).state().email, 'jana@shop.cz');
  for (const bad of ['{', '"x"', '{"accessToken":1}']) {
    const st = new Storage({ [S.STORAGE_KEY]: bad });
    assert.equal(S.createSession({ endpoint: '/graphql', fetch() {}, storage: st }).state().loggedIn, false, bad);
  }
  const throwing = { getItem() { throw new Error('denied'); }, setItem() { throw new Error('denied'); }, removeItem() {} };
  assert.equal(S.createSession({ endpoint: '/graphql', fetch() {}, storage: throwing }).state().loggedIn, false);
});

test('a body that is not JSON is an error', async () => {
  const { session } = setup([{ status: 502, body: '<html>bad gateway</html>' }]);
  await assert.rejects(session.fetcher(WHO, {}), /HTTP 502 with a body that is not JSON/);
});
