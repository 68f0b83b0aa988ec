// Opens shopauth's GraphiQL page in headless Chromium, runs a query from the
// page the way a person would, and takes a screenshot.
//
// Usage: node e2e/browser.mjs http://127.0.0.1:8000 /tmp/graphiql.png
//
// Uses the system Chromium ($CHROMIUM, default /usr/bin/chromium); playwright-core
// never downloads a browser. Every request the page makes must stay on a loopback
// host; any other is blocked and fails the run. Prints "BROWSER ok screenshot=PATH"
// and exits 0, or "BROWSER FAILED: ..." and exits 1 (2 on bad usage).
//
// E2E_QUERY and E2E_EXPECT override the query typed into the editor and the text
// the result pane must then contain.
import { chromium } from 'playwright-core';

const [baseArg, screenshot] = process.argv.slice(2);
if (!baseArg || !screenshot) {
  console.error('usage: node browser.mjs BASEURL SCREENSHOT.png');
  process.exit(2);
}
const baseURL = baseArg.replace(/\/+$/, '');
const query = process.env.E2E_QUERY || '{ __typename }';
const expected = process.env.E2E_EXPECT || '"__typename": "Query"';
const TIMEOUT_MS = 30_000; // the whole run
const STEP_MS = 20_000; // one wait inside it, so that a stuck step is reported as such

let browser;
let watchdog;
let current = 'starting'; // what the script is doing, for failure messages
function step(what) {
  current = what;
  if (process.env.E2E_DEBUG) console.error(`[${(performance.now() / 1000).toFixed(1)}s] ${what}`);
}
const offHost = []; // requests for non-loopback hosts
const problems = []; // uncaught page errors and CSP violations

function isLoopback(rawURL) {
  let u;
  try {
    u = new URL(rawURL);
  } catch {
    return false;
  }
  if (u.protocol === 'data:' || u.protocol === 'blob:' || u.protocol === 'about:') return true;
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

async function fail(message) {
  clearTimeout(watchdog);
  setTimeout(() => process.exit(1), 5_000).unref(); // in case closing the browser hangs
  console.log(`BROWSER FAILED: ${message}`);
  if (offHost.length) console.log(`  requests to non-loopback hosts (blocked): ${offHost.join(', ')}`);
  for (const p of problems) console.log(`  page: ${p}`);
  if (browser) await browser.close().catch(() => {});
  process.exit(1);
}

watchdog = setTimeout(() => fail(`timed out after ${TIMEOUT_MS / 1000} s while ${current}`), TIMEOUT_MS);

try {
  if (!isLoopback(baseURL)) {
    await fail(`BASEURL ${baseURL} is not a loopback address`);
  }
  step('launching Chromium');
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: TIMEOUT_MS,
  });
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);

  page.on('request', (req) => {
    if (!isLoopback(req.url())) offHost.push(req.url());
  });
  // Nothing leaves the machine, even if the page tried.
  await page.route('**/*', (route) =>
    isLoopback(route.request().url()) ? route.continue() : route.abort('blockedbyclient'),
  );
  page.on('pageerror', (err) => problems.push(`uncaught error: ${err.message}`));
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content.Security.Policy/i.test(text)) problems.push(`CSP violation: ${text}`);
  });

  step(`loading ${baseURL}/`);
  const res = await page.goto(baseURL + '/', { waitUntil: 'load' });
  if (!res || res.status() !== 200) {
    await fail(`GET ${baseURL}/ answered ${res ? res.status() : 'nothing'}`);
  }
  const csp = res.headers()['content-security-policy'] || '';
  if (!/script-src 'self'/.test(csp)) {
    console.log(`BROWSER note: the page has no strict script-src CSP (got ${JSON.stringify(csp)})`);
  }

  // GraphiQL has rendered once its query editor (CodeMirror 5) and run button exist.
  step('waiting for GraphiQL to render');
  await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror');
  await page.waitForSelector('.graphiql-execute-button');

  // Replace the editor's content as a user would (select all, type), then make
  // sure it holds exactly the query: CodeMirror may auto-close brackets.
  // Run anonymously and without variables, whatever the open tab holds.
  step('clearing the variables and headers editors');
  await page.evaluate(() => {
    for (const el of document.querySelectorAll('.graphiql-editor-tool .CodeMirror')) el.CodeMirror.setValue('');
  });

  step('typing the query');
  await page.click('.graphiql-query-editor .CodeMirror');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(query);
  await page.evaluate((q) => {
    const cm = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
    if (cm.getValue() !== q) cm.setValue(q);
  }, query);

  // GraphiQL reads the operation name from the editor after a short delay and
  // sends it with the request; wait until the active tab is titled after the
  // new query, or the request would still name the tab's old operation.
  step('waiting for GraphiQL to take in the query');
  const title = /^(?!#).*(query|subscription|mutation)\s+([a-zA-Z0-9_]+)/m.exec(query)?.[2] ?? '<untitled>';
  await page.waitForFunction(
    (want) => document.querySelector('.graphiql-tab-active .graphiql-tab-button')?.textContent.trim() === want
      || document.querySelectorAll('.graphiql-tab').length === 0,
    title,
    { polling: 50 },
  );
  await page.waitForTimeout(300);

  step('clicking the run button');
  await page.click('.graphiql-execute-button');
  step('waiting for the result');

  try {
    await page.waitForFunction(
      (want) => {
        const el = document.querySelector('.graphiql-response .CodeMirror');
        return el && el.CodeMirror && el.CodeMirror.getValue().includes(want);
      },
      expected,
      { timeout: STEP_MS, polling: 100 },
    );
  } catch {
    const got = await page
      .evaluate(() => document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror?.getValue() ?? '(no result pane)')
      .catch(() => '(page gone)');
    await page.screenshot({ path: screenshot }).catch(() => {});
    await fail(`the result pane never showed ${JSON.stringify(expected)}; it shows ${JSON.stringify(got)} (screenshot ${screenshot})`);
  }

  step('taking the screenshot');
  await page.screenshot({ path: screenshot });
  if (offHost.length) await fail('the page tried to reach hosts other than loopback');
  if (problems.length) await fail('the page reported errors');
  clearTimeout(watchdog);
  await browser.close();
  console.log(`BROWSER ok screenshot=${screenshot}`);
} catch (err) {
  await fail(err?.message || String(err));
}
