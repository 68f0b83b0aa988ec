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
import { Run, runQuery, expectResult } from './chromium.mjs';

const [baseArg, screenshot] = process.argv.slice(2);
if (!baseArg || !screenshot) {
  console.error('usage: node browser.mjs BASEURL SCREENSHOT.png');
  process.exit(2);
}
const baseURL = baseArg.replace(/\/+$/, '');
const query = process.env.E2E_QUERY || '{ __typename }';
const expected = process.env.E2E_EXPECT || '"__typename": "Query"';

const run = new Run('BROWSER', 30_000);
try {
  const { page, res } = await run.open(baseURL);
  const csp = res.headers()['content-security-policy'] || '';
  if (!/script-src 'self'/.test(csp)) {
    console.log(`BROWSER note: the page has no strict script-src CSP (got ${JSON.stringify(csp)})`);
  }
  // Run anonymously and without variables, whatever the open tab holds.
  await runQuery(run, page, query);
  await expectResult(run, page, expected, screenshot);
  await run.finish(page, screenshot);
} catch (err) {
  await run.fail(err?.message || String(err));
}
