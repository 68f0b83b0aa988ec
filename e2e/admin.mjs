// Drives shopauth's admin console (--admin-addr) in headless Chromium with Chromium's virtual
// authenticator (CDP WebAuthn: ctap2, internal, resident keys, user verification): enrol an
// operator from the link `operators add` printed, log out and log in with the passkey, find a
// customer among many, end one of their sessions and see that session's token refused by the
// public API (the other still works), send them a recovery mail, log in as them (the console's
// one-time link opens /account in another browser, which asks, exchanges the code and holds an
// access token carrying the operator's administratorUuid; the session is marked as the staff's
// there and in the customer's own list), and delete them after typing
// their email (a wrong email leaves the button disabled), after which their last token is refused.
// The page may make no request off this machine and throw no error.
//
// Usage: node e2e/admin.mjs ENROL_URL PUBLIC_URL EMAIL TOKEN_A TOKEN_B SCREENSHOT.png
//
// ENROL_URL is http://localhost:PORT/admin#enrol=...; TOKEN_A and TOKEN_B are access tokens of
// two sessions of EMAIL. Prints "ADMIN ok screenshot=PATH" or "ADMIN FAILED: ...". The screenshot
// is of the customer's page.
import { Run } from './chromium.mjs';

const [enrolURL, publicArg, email, tokenA, tokenB, screenshot] = process.argv.slice(2);
if (!screenshot) {
  console.error('usage: node admin.mjs ENROL_URL PUBLIC_URL EMAIL TOKEN_A TOKEN_B SCREENSHOT.png');
  process.exit(2);
}
const admin = new URL(enrolURL).origin;
const publicURL = publicArg.replace(/\/+$/, '');
const run = new Run('ADMIN', 120_000);

// alive asks the public API who the token belongs to: true when it is still honoured.
async function alive(token) {
  const res = await fetch(`${publicURL}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ currentCustomerUser { email } }' }),
  });
  const body = await res.json();
  return res.status === 200 && body.data?.currentCustomerUser?.email === email;
}

const deviceOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).deviceId;

try {
  if (!(await alive(tokenA)) || !(await alive(tokenB))) await run.fail('the customer\'s tokens do not work to begin with');
  const page = await run.newPage(admin);
  run.step('adding a virtual authenticator over CDP');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2', transport: 'internal', hasResidentKey: true, hasUserVerification: true,
      isUserVerified: true, automaticPresenceSimulation: true,
    },
  });
  const status = () => page.locator('#status').textContent();

  run.step('opening the enrolment link');
  const res = await page.goto(enrolURL, { waitUntil: 'load' });
  const csp = res?.headers()['content-security-policy'] || '';
  if (!res || res.status() !== 200 || !/frame-ancestors 'none'/.test(csp) || !/script-src 'self'/.test(csp)) {
    await run.fail(`GET /admin answered ${res?.status()} with CSP ${JSON.stringify(csp)}`);
  }
  await page.locator('#enrol-name').filter({ hasText: 'ana' }).waitFor();

  run.step('registering the operator\'s passkey');
  await page.getByRole('button', { name: 'Register a passkey' }).click();
  await page.locator('#view-customers').waitFor({ state: 'visible' });
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  if (credentials.length !== 1 || !credentials[0].isResidentCredential || credentials[0].rpId !== 'localhost') {
    await run.fail(`the authenticator holds ${JSON.stringify(credentials)}, want one resident credential for localhost`);
  }
  const cookies = await page.context().cookies(`${admin}/admin`);
  const session = cookies.find((c) => c.name === 'shopauth_admin');
  if (!session || !session.httpOnly || session.sameSite !== 'Strict') {
    await run.fail(`the console cookie is ${JSON.stringify(session)}, want HttpOnly and SameSite=Strict`);
  }
  if (await page.evaluate(() => document.cookie.includes('shopauth_admin'))) await run.fail('the page script can read the session cookie');

  run.step('logging out and in again with the passkey');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#login').waitFor({ state: 'visible' });
  await page.reload({ waitUntil: 'load' }); // the cookie is gone: the page asks for a login
  await page.locator('#login').waitFor({ state: 'visible' });
  await page.getByRole('button', { name: 'Log in with a passkey' }).click();
  await page.locator('#who').filter({ hasText: 'ana' }).waitFor();
  await page.locator('#view-customers').waitFor({ state: 'visible' });

  run.step('finding the customer among many');
  await page.locator('#customers td', { hasText: '<script>alert(1)</script>' }).first().waitFor();
  if ((await page.locator('#customers img').count()) || (await page.title()) === 'pwned') {
    await run.fail('a customer\'s name was rendered as markup');
  }
  const total = await page.locator('#page-info').textContent();
  if (!/of (\d{4,})/.test(total)) await run.fail(`the first page says ${JSON.stringify(total)}, want thousands of customers`);
  await page.locator('#search [name=search]').fill(email.split('@')[0].toUpperCase());
  await page.getByRole('button', { name: 'Search' }).click();
  await page.locator('#page-info').filter({ hasText: '1–1 of 1' }).waitFor();
  await page.locator('#customers').getByRole('link', { name: email }).click();
  await page.locator('#c-details').filter({ hasText: email }).waitFor();
  if ((await page.locator('#c-sessions tr').count()) !== 2) await run.fail('the customer page does not list two sessions');

  run.step('taking the screenshot of the customer page');
  await page.screenshot({ path: screenshot, fullPage: true });

  run.step('ending one session');
  await page.locator('#c-sessions tr', { hasText: deviceOf(tokenA) }).getByRole('button', { name: 'End' }).click();
  await page.locator('#status', { hasText: 'Session ended' }).waitFor();
  await page.locator('#c-sessions tr', { hasText: deviceOf(tokenA) }).waitFor({ state: 'detached' });
  if (await alive(tokenA)) await run.fail('the ended session\'s token is still honoured');
  if (!(await alive(tokenB))) await run.fail('the other session\'s token is refused too');

  run.step('sending a recovery mail');
  await page.getByRole('button', { name: 'Send a recovery mail' }).click();
  await page.locator('#status', { hasText: 'recovery mail is on its way' }).waitFor();
  await page.locator('#c-audit', { hasText: 'recovery mail sent by the operator' }).waitFor();
  if (!(await page.locator('#c-audit tr', { hasText: 'recovery mail sent by the operator' }).first().textContent()).includes('ana')) {
    await run.fail('the audit row of the recovery mail does not name the operator');
  }

  run.step('logging in as the customer');
  await page.getByRole('button', { name: 'Log in as this customer' }).click();
  await page.locator('#login-as-link').waitFor({ state: 'visible' });
  const link = new URL(await page.locator('#login-as-url').getAttribute('href'));
  const me = await page.evaluate(async () => {
    const r = await fetch('/admin/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'e2e' },
      body: JSON.stringify({ query: '{ me { uuid } }' }),
    });
    return (await r.json()).data.me.uuid;
  });
  // The link opens the storefront's page (here /account) in another browser, which asks before it
  // finishes a login it did not begin, then exchanges the code with LoginWithSocialCode.
  if (link.origin !== publicURL || link.pathname !== '/account') await run.fail(`the log-in-as link is ${link}`);
  const shop = await run.newContextPage();
  await shop.goto(link.href, { waitUntil: 'load' });
  await shop.getByRole('button', { name: 'Continue logging in' }).click();
  await shop.locator('#who').filter({ hasText: email }).waitFor();
  await shop.locator('#sessions .staff').first().waitFor();
  const asToken = await shop.evaluate(() => JSON.parse(sessionStorage.getItem('shopauth:account') || '{}').accessToken);
  if (!asToken) await run.fail('the account page holds no token after the log-in-as link');
  await shop.close();
  const asClaims = JSON.parse(Buffer.from(asToken.split('.')[1], 'base64url'));
  if (asClaims.administratorUuid !== me || asClaims.email !== email) {
    await run.fail(`the log-in-as token's claims are ${JSON.stringify(asClaims)}, want administratorUuid ${me}`);
  }
  const seen = await (await fetch(`${publicURL}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${tokenB}` },
    body: JSON.stringify({ query: '{ customerSessions { loginInfo { loginType } } }' }),
  })).json();
  if (!seen.data?.customerSessions?.some((s) => s.loginInfo.loginType === 'admin')) {
    await run.fail(`the customer's own session list does not show the operator's session: ${JSON.stringify(seen)}`);
  }

  run.step('deleting the customer after typing the email');
  const confirmField = page.locator('#delete [name=confirmEmail]');
  const deleteButton = page.getByRole('button', { name: 'Delete customer' });
  await confirmField.fill('someone-else@shop.example');
  if (await deleteButton.isEnabled()) await run.fail('Delete is enabled with another email typed');
  await confirmField.fill(email);
  await deleteButton.click();
  await page.locator('#status', { hasText: `Customer ${email} deleted.` }).waitFor();
  await page.locator('#view-customers').waitFor({ state: 'visible' });
  if (await alive(tokenB)) await run.fail('the deleted customer\'s token is still honoured');

  run.step('reading the audit log');
  await page.locator('#nav').getByRole('link', { name: 'Audit log' }).click();
  await page.locator('#audit tr', { hasText: 'customer deleted by the operator' }).first().waitFor();
  if (await status() && (await page.locator('#status.error').count())) await run.fail(`the audit view says ${await status()}`);

  await run.finish(page, screenshot, false);
} catch (err) {
  await run.fail(`${run.current}: ${err?.message || err}`);
}
