// GraphQL-over-HTTP compliance audit (graphql-http's auditServer) of a running server.
//
// Usage: node e2e/audit.mjs http://127.0.0.1:8000/graphql
//
// Prints every result that is not ok (id, name, reason), then one line
//   AUDIT {"ok":N,"notice":N,"warn":N,"error":N}
// and exits 1 if any MUST audit failed (status "error"), 2 on bad usage or if
// the audit could not run.
import { auditServer } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL   (e.g. http://127.0.0.1:8000/graphql)');
  process.exit(2);
}

let results;
try {
  results = await auditServer({ url });
} catch (err) {
  console.log(`AUDIT FAILED: the audit could not run against ${url}: ${err?.cause?.message || err?.message || err}`);
  process.exit(2);
}

const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const r of results) {
  counts[r.status] = (counts[r.status] ?? 0) + 1;
  if (r.status !== 'ok') {
    console.log(`${r.status.toUpperCase()} ${r.id} ${r.name}\n    reason: ${formatReason(r.reason)}`);
  }
}
console.log(`AUDIT ${JSON.stringify(counts)}`);
if (counts.error > 0) {
  console.log(`AUDIT FAILED: ${counts.error} MUST audit(s) failed against ${url}`);
  process.exit(1);
}
console.log(`AUDIT ok: ${results.length} audits, no MUST failure, against ${url}`);

// A reason is a string; keep a multi-line one readable under its audit.
function formatReason(reason) {
  const s = typeof reason === 'string' ? reason : JSON.stringify(reason);
  return String(s).replace(/\n/g, '\n    ');
}
