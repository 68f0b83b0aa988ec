// Logs in through shopauth's GraphiQL page in headless Chromium and checks the
// session the page keeps: Register, then currentCustomerUser with no token
// pasted anywhere, then the same query after the access token has expired (the
// page refreshes once and retries), then Log out. Takes a screenshot of the
// logged-in page after the refresh.
//
// Usage: node e2e/session.mjs http://127.0.0.1:8000 /tmp/graphiql-session.png
//
// The server must run with a short --access-ttl (the test uses 3s): the check
// waits until the page itself says the access token has expired. Like
// browser.mjs it blocks and fails on any request for a non-loopback host, an
// uncaught page error or a CSP violation. Prints "SESSION ok screenshot=PATH"
// and exits 0, or "SESSION FAILED: ..." and exits 1 (2 on bad usage).
import { Run, runQuery, expectResult } from './chromium.mjs';

const [baseArg, screenshot] = process.argv.slice(2);
if (!baseArg || !screenshot) {
  console.error('usage: node session.mjs BASEURL SCREENSHOT.png');
  process.exit(2);
}
const baseURL = baseArg.replace(/\/+$/, '');
const email = `eva.${Date.now()}@shop.test`;
const register =
  `mutation Register { Register(input: { firstName: "Eva", lastName: "Novak", email: "${email}", ` +
  'password: "correct horse" }) { accessToken refreshToken } }';
const whoAmI = '{ currentCustomerUser { email } }';
const STORAGE_KEY = 'shopauth:session';

const run = new Run('SESSION', 90_000);

// exchanges records every POST /graphql the page makes, in order.
const exchanges = [];

// since returns the exchanges from index from on, once each has its answer.
async function since(from) {
  for (let i = 0; i < 100 && exchanges.slice(from).some((x) => x.status === null); i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return exchanges.slice(from);
}
function describe(list) {
  return list.map((x) => `${x.op} ${x.auth ? 'Bearer' : 'anonymous'} -> ${x.status}`).join(', ');
}

async function check(ok, message) {
  if (!ok) await run.fail(message);
}

async function stored(page) {
  return page.evaluate((key) => JSON.parse(window.sessionStorage.getItem(key) || 'null'), STORAGE_KEY);
}

function payload(jwt) {
  return JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
}

async function barText(page) {
  return (await page.textContent('.shopauth-session').catch(() => '')) || '';
}

async function waitForBar(page, what, test) {
  run.step(`waiting for the session bar to show ${what}`);
  try {
    await page.waitForFunction(test, null, { polling: 100 });
  } catch {
    await run.fail(`the session bar never showed ${what}; it shows ${JSON.stringify(await barText(page))}`);
  }
}

try {
  const { page } = await run.open(baseURL);
  // Recorded in request order at once; the headers and the status as they come.
  page.on('request', (req) => {
    if (req.method() !== 'POST' || new URL(req.url()).pathname !== '/graphql') return;
    const body = JSON.parse(req.postData() || '{}');
    const x = { op: body.operationName || /\{\s*(\w+)/.exec(body.query || '')?.[1] || '?', auth: null, status: null };
    exchanges.push(x);
    Promise.all([req.allHeaders(), req.response()])
      .then(([headers, res]) => {
        x.auth = headers.authorization || '';
        x.status = res ? res.status() : 0;
      })
      .catch(() => {
        x.auth = x.auth ?? '';
        x.status = 0;
      });
  });
  await waitForBar(page, 'Not logged in', () =>
    document.querySelector('.shopauth-session')?.textContent.includes('Not logged in'));

  // 1. Register: the page keeps the pair and shows who is logged in.
  await runQuery(run, page, register);
  await expectResult(run, page, '"accessToken": "ey', screenshot);
  let pair = await stored(page);
  await check(pair && pair.accessToken && pair.refreshToken, `sessionStorage holds no token pair after Register: ${JSON.stringify(pair)}`);
  await check(payload(pair.accessToken).email === email, `the stored access token is not ${email}'s`);
  await waitForBar(page, `${email} and the token's time left`, () => {
    const t = document.querySelector('.shopauth-session')?.textContent || '';
    return t.includes('@shop.test') && /access token (\d+:\d\d left|expired)/.test(t) && t.includes('Log out');
  });

  // 2. currentCustomerUser, with nothing pasted: the page sends the token.
  let from = exchanges.length;
  await runQuery(run, page, whoAmI);
  await expectResult(run, page, `"email": "${email}"`, screenshot);
  const mine = (await since(from)).filter((x) => x.op === 'currentCustomerUser');
  await check(mine.length >= 1 && mine.every((x) => x.auth.startsWith('Bearer ey')),
    `currentCustomerUser did not carry the page's access token: ${describe(exchanges.slice(from))}`);

  // 3. Past the access token's expiry: one 401, one RefreshTokens, one retry.
  pair = await stored(page);
  const expired = payload(pair.accessToken).exp;
  await waitForBar(page, 'that the access token has expired', () =>
    document.querySelector('.shopauth-session-ttl')?.textContent.includes('expired'));
  await check(Date.now() / 1000 >= expired, 'the page says "expired" before the token\'s exp');
  from = exchanges.length;
  await runQuery(run, page, whoAmI);
  await expectResult(run, page, `"email": "${email}"`, screenshot);
  const seen = await since(from);
  const want = 'currentCustomerUser Bearer -> 401, RefreshTokens anonymous -> 200, currentCustomerUser Bearer -> 200';
  await check(describe(seen) === want, `after expiry the page made: ${describe(seen)}; want: ${want}`);
  const renewed = await stored(page);
  await check(renewed && renewed.accessToken !== pair.accessToken && renewed.refreshToken !== pair.refreshToken,
    'the page did not keep the refreshed pair');
  await check(seen[2].auth === `Bearer ${renewed.accessToken}`, 'the retry did not carry the refreshed access token');
  await waitForBar(page, 'that it refreshed', () =>
    document.querySelector('.shopauth-session-notice')?.textContent.includes('Refreshed the expired access token.'));
  await check((await barText(page)).includes(email), `the session bar lost the email: ${await barText(page)}`);
  run.step('taking the screenshot of the logged-in page');
  await page.screenshot({ path: screenshot });

  // 4. Log out: Logout is called with the token, and the page forgets the pair.
  from = exchanges.length;
  run.step('pressing Log out');
  await page.click('.shopauth-logout');
  await waitForBar(page, 'Not logged in', () =>
    document.querySelector('.shopauth-session')?.textContent.includes('Not logged in'));
  const logout = (await since(from)).filter((x) => x.op === 'Logout');
  await check(logout.length >= 1 && logout.at(-1).status === 200 && logout.at(-1).auth.startsWith('Bearer ey'),
    `Log out did not call Logout with the access token: ${describe(exchanges.slice(from))}`);
  await check((await stored(page)) === null, 'sessionStorage still holds the pair after Log out');
  await check((await barText(page)).includes('Logged out.'), `the session bar does not say "Logged out.": ${await barText(page)}`);

  from = exchanges.length;
  await runQuery(run, page, whoAmI);
  await expectResult(run, page, 'No customer user is currently logged in.', screenshot);
  await check((await since(from)).every((x) => !x.auth),
    `after Log out a request still carried a token: ${describe(exchanges.slice(from))}`);

  await run.finish(page, screenshot, false);
} catch (err) {
  await run.fail(err?.message || String(err));
}
