// Drives shopauth's /account page in headless Chromium with Chromium's virtual
// authenticator (CDP WebAuthn domain: ctap2, internal, resident keys, user
// verification): log in with a password, add a passkey, log out, log in with
// the passkey by clicking, check currentCustomerUser with the page's token,
// remove the passkey, and check that it no longer logs in; then end the other
// sessions and change the password. The page may make no request off this
// machine and throw no error.
//
// Usage: node e2e/account.mjs http://localhost:PORT /tmp/account.png
//
// The URL must be on localhost: a WebAuthn RP ID is a domain, never an IP
// address, so the server runs with issuer http://localhost:PORT (RP ID
// localhost). Prints "ACCOUNT ok screenshot=PATH" or "ACCOUNT FAILED: ...".
import { Run } from './chromium.mjs';

const [baseArg, screenshot] = process.argv.slice(2);
if (!baseArg || !screenshot) {
  console.error('usage: node account.mjs http://localhost:PORT SCREENSHOT.png');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const run = new Run('ACCOUNT', 90_000);
const email = `passkey-${Date.now()}@shop.example`;
const password = 'correct horse battery';

async function api(query, variables, token) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(`${base}/graphql`, { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  return res.json();
}

try {
  run.step('registering a customer through the API');
  const reg = await api(
    'mutation ($i: RegistrationDataInput!) { Register(input: $i) { accessToken } }',
    { i: { firstName: 'Jana', lastName: 'Passkeyová', email, password } },
  );
  if (!reg.data?.Register) await run.fail(`Register: ${JSON.stringify(reg)}`);

  const page = await run.newPage(base);
  run.step('adding a virtual authenticator over CDP');
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  const status = () => page.locator('#status').textContent();

  run.step(`loading ${base}/account`);
  const res = await page.goto(`${base}/account`, { waitUntil: 'load' });
  if (!res || res.status() !== 200) await run.fail(`GET /account answered ${res ? res.status() : 'nothing'}`);
  if (!/script-src 'self'/.test(res.headers()['content-security-policy'] || '')) {
    await run.fail('the page has no strict script-src CSP');
  }

  run.step('logging in with email and password');
  await page.locator('#password-login [name=email]').fill(email);
  await page.locator('#password-login [name=password]').fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.locator('#who').filter({ hasText: email }).waitFor();

  run.step('adding a passkey');
  await page.locator('#add-passkey [name=name]').fill('Virtual laptop');
  await page.getByRole('button', { name: 'Add a passkey' }).click();
  await page.locator('#passkeys').getByText('Virtual laptop').waitFor();
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  if (credentials.length !== 1 || !credentials[0].isResidentCredential || credentials[0].rpId !== 'localhost') {
    await run.fail(`the authenticator holds ${JSON.stringify(credentials)}, want one resident credential for localhost`);
  }

  run.step('logging out');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#passkey-login').waitFor({ state: 'visible' });
  if (await page.locator('#account').isVisible()) await run.fail('still logged in after Log out');

  run.step('logging in with the passkey');
  await page.getByRole('button', { name: 'Log in with a passkey' }).click();
  await page.locator('#who').filter({ hasText: email }).waitFor();
  await page.locator('#passkeys td', { hasText: 'Virtual laptop' }).waitFor();

  run.step('asking currentCustomerUser with the token the passkey login gave the page');
  const me = await page.evaluate(async () => {
    const { accessToken } = JSON.parse(sessionStorage.getItem('shopauth:account'));
    const r = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ query: '{ currentCustomerUser { email } passkeys { name lastUsedAt } }' }),
    });
    return r.json();
  });
  if (me.data?.currentCustomerUser?.email !== email || !me.data.passkeys[0]?.lastUsedAt) {
    await run.fail(`currentCustomerUser after the passkey login: ${JSON.stringify(me)}`);
  }
  run.step('taking the screenshot');
  await page.screenshot({ path: screenshot, fullPage: true });

  run.step('removing the passkey');
  await page.locator('#passkeys').getByRole('button', { name: 'Remove' }).click();
  await page.locator('#passkeys').getByText('No passkeys yet.').waitFor();

  run.step('checking that the removed passkey no longer logs in');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#passkey-login').waitFor({ state: 'visible' });
  await page.getByRole('button', { name: 'Log in with a passkey' }).click();
  await page.locator('#status.error').waitFor();
  if ((await status()) !== 'Log in failed.' || (await page.locator('#account').isVisible())) {
    await run.fail(`the removed passkey: status ${JSON.stringify(await status())}, want "Log in failed." and no login`);
  }

  run.step('logging in with the password again and ending the other sessions');
  await page.locator('#password-login [name=email]').fill(email);
  await page.locator('#password-login [name=password]').fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.locator('#who').filter({ hasText: email }).waitFor();
  await page.getByRole('button', { name: 'End all other sessions' }).click();
  await page.locator('#status', { hasText: 'session(s) ended.' }).waitFor();
  if ((await page.locator('#sessions tr').count()) !== 1) await run.fail('other sessions are still listed');

  run.step('changing the password');
  const newPassword = 'another horse battery';
  await page.locator('#change-password [name=oldPassword]').fill(password);
  await page.locator('#change-password [name=newPassword]').fill(newPassword);
  await page.getByRole('button', { name: 'Change password' }).click();
  await page.locator('#status', { hasText: 'Password changed' }).waitFor();
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.locator('#password-login').waitFor({ state: 'visible' });
  await page.locator('#password-login [name=email]').fill(email);
  await page.locator('#password-login [name=password]').fill(newPassword);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.locator('#who').filter({ hasText: email }).waitFor();

  await run.finish(page, screenshot, false);
} catch (err) {
  await run.fail(err?.message || String(err));
}
