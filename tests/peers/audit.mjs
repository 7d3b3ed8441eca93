// The GraphQL-over-HTTP conformance audits of `graphql-http`, run against the URL on argv.
// Prints one JSON line per audit: {id, name, status, reason}; exits 0 once every audit has run
// (a failing audit is a result, not a crash: the caller decides what passes).
// `node audit.mjs --list` prints the audits' {id, name} without contacting any server.
//
// GET requests carry `GraphQL-Require-Preflight: 1`: the hub refuses a GET that a browser could
// send cross-site without a CORS preflight (CSRF prevention), as every non-browser client must.
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <url of the GraphQL endpoint>');
  process.exit(2);
}

async function fetchWithPreflightHeader(input, init = {}) {
  const method = (init.method || 'GET').toUpperCase();
  if (method !== 'GET') return fetch(input, init);
  const headers = new Headers(init.headers);
  headers.set('graphql-require-preflight', '1');
  return fetch(input, { ...init, headers });
}

const audits = serverAudits({ url, fetchFn: fetchWithPreflightHeader });
if (url === '--list') {
  for (const { id, name } of audits) process.stdout.write(JSON.stringify({ id, name }) + '\n');
  process.exit(0);
}
for (const { fn } of audits) {
  const result = await fn();
  const line = { id: result.id, name: result.name, status: result.status, reason: result.reason ?? null };
  process.stdout.write(JSON.stringify(line) + '\n');
}
