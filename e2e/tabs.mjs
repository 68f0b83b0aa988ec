// Runs GraphiQL's example tabs as they open on a first visit, in order, in
// headless Chromium, with nothing typed or pasted: Register, CurrentCustomer,
// RefreshTokens, CurrentCustomer, Logout, CurrentCustomer, Login. Checks each
// answer and what the session bar then says. Guards as browser.mjs.
//
// Usage: node e2e/tabs.mjs http://127.0.0.1:8000 /tmp/graphiql-tabs.png
//
// The server's database must not hold jane.doe@example.com yet (the Register
// tab's customer). Prints "TABS ok screenshot=PATH" and exits 0, or
// "TABS FAILED: ..." and exits 1 (2 on bad usage).
import { Run, expectResult, waitForOperation } from './chromium.mjs';

const [baseArg, screenshot] = process.argv.slice(2);
if (!baseArg || !screenshot) {
  console.error('usage: node tabs.mjs BASEURL SCREENSHOT.png');
  process.exit(2);
}
const baseURL = baseArg.replace(/\/+$/, '');
const email = 'jane.doe@example.com';

// tab name, text the answer must contain, text the session bar must then contain
const steps = [
  ['Register', '"accessToken": "ey', `Logged in (Register).${email}`],
  ['CurrentCustomer', `"email": "${email}"`, email],
  ['RefreshTokens', '"refreshToken": "ey', `Logged in (RefreshTokens).${email}`],
  ['CurrentCustomer', `"email": "${email}"`, email],
  ['Logout', '"Logout": true', 'Logged out.Not logged in'],
  ['CurrentCustomer', 'No customer user is currently logged in.', 'Not logged in'],
  ['Login', '"accessToken": "ey', `Logged in (Login).${email}`],
];

const run = new Run('TABS', 90_000);
try {
  const { page } = await run.open(baseURL);
  for (const [name, answer, bar] of steps) {
    run.step(`opening the ${name} tab`);
    await page.click(`.graphiql-tab-button:text-is("${name}")`);
    await page.waitForFunction(
      (want) => document.querySelector('.graphiql-tab-active .graphiql-tab-button')?.textContent.trim() === want,
      name,
    );
    await waitForOperation(page, name); // each tab's operation is named after it
    await page.evaluate(() => document.querySelector('.graphiql-response .CodeMirror').CodeMirror.setValue(''));
    run.step(`running the ${name} tab`);
    await page.click('.graphiql-execute-button');
    await expectResult(run, page, answer, screenshot);
    run.step(`waiting for the session bar to show ${bar}`);
    try {
      await page.waitForFunction((want) => document.querySelector('.shopauth-session')?.textContent.includes(want), bar);
    } catch {
      await run.fail(`after ${name} the session bar shows ${JSON.stringify(await page.textContent('.shopauth-session'))}, want ${JSON.stringify(bar)}`);
    }
  }
  await run.finish(page, screenshot);
} catch (err) {
  await run.fail(err?.message || String(err));
}
