// What the GraphiQL browser checks share: headless Debian Chromium through
// playwright-core (which never downloads a browser), a guard that blocks and
// reports any request for a non-loopback host, a record of uncaught page errors
// and CSP violations, and helpers that drive GraphiQL as a person would.
import { chromium } from 'playwright-core';

export const STEP_MS = 20_000; // one wait, so that a stuck step is reported as such

export function isLoopback(rawURL) {
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

// A Run is one check: it prints "LABEL ok screenshot=PATH" and exits 0, or
// "LABEL FAILED: ..." and exits 1, also when the whole run takes longer than
// timeoutMs.
export class Run {
  constructor(label, timeoutMs) {
    this.label = label;
    this.current = 'starting'; // what the check is doing, for failure messages
    this.offHost = []; // requests for non-loopback hosts
    this.problems = []; // uncaught page errors and CSP violations
    this.browser = null;
    this.watchdog = setTimeout(
      () => this.fail(`timed out after ${timeoutMs / 1000} s while ${this.current}`),
      timeoutMs,
    );
  }

  step(what) {
    this.current = what;
    if (process.env.E2E_DEBUG) console.error(`[${(performance.now() / 1000).toFixed(1)}s] ${what}`);
  }

  async fail(message) {
    clearTimeout(this.watchdog);
    setTimeout(() => process.exit(1), 5_000).unref(); // in case closing the browser hangs
    console.log(`${this.label} FAILED: ${message}`);
    if (this.offHost.length) console.log(`  requests to non-loopback hosts (blocked): ${this.offHost.join(', ')}`);
    for (const p of this.problems) console.log(`  page: ${p}`);
    if (this.browser) await this.browser.close().catch(() => {});
    process.exit(1);
  }

  // open launches Chromium and loads baseURL + '/' until GraphiQL has
  // rendered; it returns the page and the response to the page load.
  async open(baseURL) {
    const page = await this.newPage(baseURL);
    this.step(`loading ${baseURL}/`);
    const res = await page.goto(baseURL + '/', { waitUntil: 'load' });
    if (!res || res.status() !== 200) {
      await this.fail(`GET ${baseURL}/ answered ${res ? res.status() : 'nothing'}`);
    }

    // GraphiQL has rendered once its query editor (CodeMirror 5) and run button exist.
    this.step('waiting for GraphiQL to render');
    await page.waitForSelector('.graphiql-container .graphiql-query-editor .CodeMirror');
    await page.waitForSelector('.graphiql-execute-button');
    return { page, res };
  }

  // newPage launches Chromium and returns a blank page that may only reach
  // loopback hosts and whose errors and CSP violations are recorded.
  async newPage(baseURL) {
    if (!isLoopback(baseURL)) await this.fail(`BASEURL ${baseURL} is not a loopback address`);
    this.step('launching Chromium');
    this.browser = await chromium.launch({
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
      timeout: STEP_MS,
    });
    return this.newContextPage();
  }

  // newContextPage opens a page in a new context of the browser newPage launched: cookies and
  // storage of its own (another browser, as far as a server can tell), guarded as newPage's.
  async newContextPage() {
    const context = await this.browser.newContext({ viewport: { width: 1400, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(STEP_MS);

    page.on('request', (req) => {
      if (!isLoopback(req.url())) this.offHost.push(req.url());
    });
    // Nothing leaves the machine, even if the page tried.
    await page.route('**/*', (route) =>
      isLoopback(route.request().url()) ? route.continue() : route.abort('blockedbyclient'),
    );
    page.on('pageerror', (err) => this.problems.push(`uncaught error: ${err.message}`));
    page.on('console', (msg) => {
      const text = msg.text();
      if (/Content.Security.Policy/i.test(text)) this.problems.push(`CSP violation: ${text}`);
    });
    return page;
  }

  // finish takes the screenshot (unless shoot is false: the check took it
  // already), fails on any blocked request or page problem, and reports success.
  async finish(page, screenshot, shoot = true) {
    if (shoot) {
      this.step('taking the screenshot');
      await page.screenshot({ path: screenshot });
    }
    if (this.offHost.length) await this.fail('the page tried to reach hosts other than loopback');
    if (this.problems.length) await this.fail('the page reported errors');
    clearTimeout(this.watchdog);
    await this.browser.close();
    console.log(`${this.label} ok screenshot=${screenshot}`);
  }
}

// runQuery empties the variables and headers editors (so the query runs
// without variables and with no headers of its own) and the result pane,
// replaces the query editor's content as a user would (select all, type) and
// presses the run button.
export async function runQuery(run, page, query) {
  run.step('clearing the variables and headers editors and the result pane');
  await page.evaluate(() => {
    for (const el of document.querySelectorAll('.graphiql-editor-tool .CodeMirror, .graphiql-response .CodeMirror')) {
      el.CodeMirror.setValue('');
    }
  });

  run.step(`typing ${query}`);
  await page.click('.graphiql-query-editor .CodeMirror');
  await page.keyboard.press('ControlOrMeta+A');
  await page.keyboard.press('Delete');
  await page.keyboard.type(query);
  // CodeMirror may auto-close brackets: make sure the editor holds exactly the query.
  await page.evaluate((q) => {
    const cm = document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror;
    if (cm.getValue() !== q) cm.setValue(q);
  }, query);

  // GraphiQL reads the operation name from the editor after a short delay and
  // sends it with the request; wait until the active tab is titled after the
  // new query, or the request would still name the tab's old operation.
  run.step('waiting for GraphiQL to take in the query');
  const name = /^(?!#).*(query|subscription|mutation)\s+([a-zA-Z0-9_]+)/m.exec(query)?.[2] ?? null;
  await page.waitForFunction(
    (want) => document.querySelector('.graphiql-tab-active .graphiql-tab-button')?.textContent.trim() === want
      || document.querySelectorAll('.graphiql-tab').length === 0,
    name ?? '<untitled>',
    { polling: 50 },
  );
  await waitForOperation(page, name);
  await page.waitForTimeout(300);

  run.step(`running ${query}`);
  await page.click('.graphiql-execute-button');
}

// waitForOperation waits until GraphiQL's query editor has parsed its content
// into the operation it will send, named name (null: anonymous). GraphiQL
// does that a moment after the content changes (typing, switching tabs), and
// the run button sends whatever it parsed last.
export async function waitForOperation(page, name) {
  await page.waitForFunction(
    (want) => {
      const cm = document.querySelector('.graphiql-query-editor .CodeMirror')?.CodeMirror;
      return Boolean(cm && cm.documentAST) && (cm.operationName ?? null) === want;
    },
    name,
    { polling: 50 },
  );
}

export function resultText(page) {
  return page
    .evaluate(() => document.querySelector('.graphiql-response .CodeMirror')?.CodeMirror?.getValue() ?? '(no result pane)')
    .catch(() => '(page gone)');
}

// expectResult waits until the result pane contains expected; on a timeout
// it saves a screenshot and fails the run. runQuery empties the pane first,
// so what it finds is the answer to the last run.
export async function expectResult(run, page, expected, screenshot) {
  run.step(`waiting for a result with ${JSON.stringify(expected)}`);
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
    const got = await resultText(page);
    await page.screenshot({ path: screenshot }).catch(() => {});
    await run.fail(`the result pane never showed ${JSON.stringify(expected)}; it shows ${JSON.stringify(got)} (screenshot ${screenshot})`);
  }
  return resultText(page);
}
