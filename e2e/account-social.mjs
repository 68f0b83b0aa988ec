// Drives social login on shopauth's /account page in headless Chromium, against a server whose
// --oidc-issuer is the OpenID Connect stand-in of social/socialtest (it logs in at once as its
// user and sends the browser straight back). The Go test (account_test.go) starts both
// and registers the password customer. In the browser:
//
//   1. "Verify my email" has the server mail a link (to its log, SERVER_LOG, without a mail
//      server), which verifies the address; a wrong or used-up link is refused;
//   2. the password customer links the stand-in account (the hand-off's extra session ends at
//      once), sees it under "Linked accounts" and unlinks it;
//   3. "Log in with OpenID Connect" registers the stand-in's user and logs them in (name, email,
//      loginInfo, the code gone from the address bar); "Verify my email" asks for a mail; the only
//      way to log in cannot be unlinked;
//   4. a flow begun in one browser context is refused when its callback is opened in another
//      (state-invalid), and then in the first as well (the state is used up); begun and finished
//      in one context, the same steps log in;
//   5. a code the page did not ask for (a login link made in another browser) logs in only when
//      the customer says so.
//
// Usage: node e2e/account-social.mjs BASE SERVER_LOG EMAIL PASSWORD SOCIAL_EMAIL SOCIAL_SUBJECT SCREENSHOT.png
// Prints "ACCOUNT-SOCIAL ok screenshot=PATH" or "ACCOUNT-SOCIAL FAILED: ...".
import { readFileSync } from 'node:fs';
import { Run } from './chromium.mjs';

const [baseArg, serverLog, email, password, socialEmail, socialSubject, screenshot] = process.argv.slice(2);
if (!screenshot) {
  console.error('usage: node account-social.mjs BASE SERVER_LOG EMAIL PASSWORD SOCIAL_EMAIL SOCIAL_SUBJECT SCREENSHOT.png');
  process.exit(2);
}
const base = baseArg.replace(/\/+$/, '');
const run = new Run('ACCOUNT-SOCIAL', 150_000);
const BUTTON = 'Log in with OpenID Connect';
const CALLBACK = /\/social-network\/login\/oidc\?/;

// mailedLink waits for the server to log (no mail server: the log is the mailbox) the email
// verification link of address, and returns it.
async function mailedLink(address) {
  const want = new RegExp(`(http://[^"\\s]+/account\\?verify=[^"\\s]+?email=${encodeURIComponent(address)})`);
  for (;;) {
    const found = want.exec(readFileSync(serverLog, 'utf8').replaceAll('\\u0026', '&'));
    if (found) return found[1];
    await new Promise((resolve) => setTimeout(resolve, 100)); // the run's watchdog ends a wait in vain
  }
}

try {
  const page = await run.newPage(base);
  const status = () => page.locator('#status').textContent();
  // expectStatus waits for the status line to say text (class kind), and checks that the page's
  // address has lost every parameter it was opened with.
  const expectStatus = async (p, text, kind) => {
    await p.locator(`#status.${kind}`, { hasText: text }).waitFor();
    const search = await p.evaluate(() => location.search);
    if (search !== '') await run.fail(`the address still has ${search} after "${text}"`);
  };
  const oidcRow = page.locator('#identities tr[data-type=oidc]');

  run.step(`loading ${base}/account and logging in with the password`);
  await page.goto(`${base}/account`);
  await page.getByRole('button', { name: BUTTON }).waitFor();
  await page.locator('#password-login [name=email]').fill(email);
  await page.locator('#password-login [name=password]').fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await page.locator('#who').filter({ hasText: email }).waitFor();
  await page.locator('#login-info', { hasText: 'your password' }).waitFor();

  run.step('asking for a verification mail');
  await page.locator('#email-verified', { hasText: 'is not verified yet.' }).waitFor();
  await page.getByRole('button', { name: 'Verify my email' }).click();
  await page.locator('#status.ok', { hasText: 'We have sent a link' }).waitFor();
  const link = await mailedLink(email);

  run.step('opening a wrong verification link');
  await page.goto(`${base}/account?verify=not-the-hash&email=${encodeURIComponent(email)}`);
  await expectStatus(page, 'This verification link does not work any more', 'error');

  run.step(`opening the mailed link ${link}`);
  await page.goto(link);
  await expectStatus(page, `Your email address ${email} is verified.`, 'ok');
  await page.locator('#email-verified', { hasText: 'is verified.' }).waitFor();
  if (await page.locator('#verify-email').isVisible()) await run.fail('"Verify my email" shown for a verified address');

  run.step('opening the mailed link again');
  await page.goto(link);
  await expectStatus(page, 'This verification link does not work any more', 'error');
  const sessions = await page.locator('#sessions tr').count();

  run.step('linking the stand-in account');
  await oidcRow.filter({ hasText: 'not linked' }).getByRole('button', { name: 'Link', exact: true }).click();
  // shopauth's own page names the shop account the link is for before going to the provider.
  await page.locator('#account', { hasText: `${email[0]}***@` }).waitFor();
  await page.getByRole('button', { name: 'Continue to OpenID Connect' }).click();
  await expectStatus(page, 'Your OpenID Connect account is linked', 'ok');
  await oidcRow.filter({ hasText: socialEmail }).getByRole('button', { name: 'Unlink' }).waitFor();
  await page.locator('#login-info', { hasText: 'your password' }).waitFor();
  if ((await page.locator('#sessions tr').count()) !== sessions) {
    await run.fail(`linking left ${await page.locator('#sessions tr').count()} sessions, want the ${sessions} before it`);
  }
  run.step('taking the screenshot');
  await page.screenshot({ path: screenshot, fullPage: true });

  run.step('unlinking it');
  await oidcRow.getByRole('button', { name: 'Unlink' }).click();
  await expectStatus(page, 'Your OpenID Connect account is unlinked.', 'ok');
  await oidcRow.filter({ hasText: 'not linked' }).waitFor();

  run.step('logging out, then in with the stand-in');
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('button', { name: BUTTON }).click();
  await expectStatus(page, 'Welcome! Your account was created with OpenID Connect.', 'ok');
  await page.locator('#who', { hasText: `Jane Social <${socialEmail}>` }).waitFor();
  await page.locator('#login-info', { hasText: `OpenID Connect (account ${socialSubject})` }).waitFor();
  await oidcRow.filter({ hasText: socialEmail }).waitFor();
  const me = await page.evaluate(async () => {
    if (sessionStorage.getItem('shopauth:account:social')) return 'the flow is still in sessionStorage';
    const { accessToken } = JSON.parse(sessionStorage.getItem('shopauth:account'));
    const r = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ query: '{ currentCustomerUser { email emailVerified loginInfo { loginType externalId } } }' }),
    });
    return r.json();
  });
  const want = { email: socialEmail, emailVerified: false, loginInfo: { loginType: 'oidc', externalId: socialSubject } };
  if (JSON.stringify(me?.data?.currentCustomerUser) !== JSON.stringify(want)) {
    await run.fail(`currentCustomerUser with the page's token: ${JSON.stringify(me)}, want ${JSON.stringify(want)}`);
  }

  run.step('asking for a verification mail');
  await page.locator('#email-verified', { hasText: 'is not verified yet.' }).waitFor();
  await page.getByRole('button', { name: 'Verify my email' }).click();
  await page.locator('#status.ok', { hasText: 'We have sent a link' }).waitFor();

  run.step('unlinking the only way to log in');
  await oidcRow.getByRole('button', { name: 'Unlink' }).click();
  await page.locator('#status.error', { hasText: 'This is the last way to log in' }).waitFor();
  await oidcRow.filter({ hasText: socialEmail }).waitFor();

  // follow requests url with context's cookies and follows hops redirects by hand, returning
  // where the last one points.
  const follow = async (context, url, hops) => {
    let next = url;
    for (let hop = 0; hop < hops; hop++) {
      const res = await context.request.get(next, { maxRedirects: 0 });
      if (res.status() !== 302) await run.fail(`GET ${next} answered ${res.status()}, want a redirect`);
      next = new URL(res.headers().location, next).href;
    }
    return next;
  };

  // beginFlow clicks the provider button in page but stops the browser at the start URL, then
  // walks the redirects with the page's context (its cookies) up to the callback URL the provider
  // sends back, which it returns unopened.
  const beginFlow = async (p) => {
    let started;
    const opened = new Promise((resolve) => { started = resolve; });
    await p.route(CALLBACK, (route) => {
      started(route.request().url());
      return route.abort('aborted');
    });
    await p.getByRole('button', { name: BUTTON }).click();
    const start = await opened; // the run's watchdog ends a wait that never does
    await p.unroute(CALLBACK);
    const u = new URL(start);
    if (u.searchParams.get('code_challenge_method') !== 'S256' || (u.searchParams.get('code_challenge') || '').length !== 43) {
      await run.fail(`the start URL ${start} has no S256 code_challenge`);
    }
    const next = await follow(p.context(), start, 2);
    if (!CALLBACK.test(next) || !new URL(next).searchParams.get('state')) {
      await run.fail(`the provider sent the browser to ${next}, want the callback with a state`);
    }
    return next;
  };

  run.step('beginning a login in one browser context');
  await page.getByRole('button', { name: 'Log out' }).click();
  const callback = await beginFlow(page);

  run.step('finishing it in another context');
  const other = await run.newContextPage();
  await other.goto(callback);
  await expectStatus(other, 'could not be finished: it was begun in another browser', 'error');
  if (await other.locator('#account').isVisible()) await run.fail('the other context is logged in');

  run.step('finishing it in the first context after that');
  await page.goto(callback);
  await expectStatus(page, 'could not be finished: it was begun in another browser', 'error');
  if (await page.locator('#account').isVisible()) await run.fail('a used state logged in');

  run.step('beginning and finishing a login in one context, the same way');
  await page.goto(await beginFlow(page));
  await expectStatus(page, 'Logged in with OpenID Connect.', 'ok');
  await page.locator('#who', { hasText: socialEmail }).waitFor();

  // A login link made by someone else (a whole flow in their browser, without PKCE, up to the
  // redirect with its code) must not log the customer in to that account unasked.
  const lure = async () => {
    const link = await follow((await run.newContextPage()).context(), `${base}/social-network/login/oidc`, 3);
    if (!/\/account\?(.*&)?code=/.test(link)) await run.fail(`the login ended at ${link}, want /account with a code`);
    return link;
  };
  run.step('opening a login link made in another browser');
  const victim = await run.newContextPage();
  await victim.goto(await lure());
  await victim.locator('#handoff').waitFor();
  if (await victim.locator('#account').isVisible()) await run.fail('a code the page did not ask for logged in unasked');
  if ((await victim.evaluate(() => location.search)) !== '') await run.fail('the code stayed in the address bar');
  await victim.getByRole('button', { name: 'Do not log in' }).click();
  await victim.locator('#status', { hasText: 'You were not logged in.' }).waitFor();
  if (await victim.locator('#account').isVisible() || await victim.locator('#handoff').isVisible()) {
    await run.fail('"Do not log in" logged in or left the question');
  }
  run.step('opening another one and continuing, as the customer may');
  await victim.goto(await lure());
  await victim.getByRole('button', { name: 'Continue logging in' }).click();
  await expectStatus(victim, 'Logged in.', 'ok');
  await victim.locator('#who', { hasText: socialEmail }).waitFor();

  if ((await status()) === '') await run.fail('the status line is empty');
  await run.finish(page, screenshot, false);
} catch (err) {
  await run.fail(err?.message || String(err));
}
