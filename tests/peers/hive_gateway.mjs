// Hive Gateway (The Guild's runtime) over a static supergraph, served by node:http on a free port.
//   node hive_gateway.mjs <supergraph.graphql>
// Prints {"url": ...} on one line once it listens; runs until terminated (SIGTERM stops it cleanly).
//
// Mutual TLS to the subgraphs as in gateway.mjs: HUB_GATEWAY_CA, HUB_GATEWAY_CERT, HUB_GATEWAY_KEY
// (an https.Agent, the way Hive Gateway's documentation configures it); the caller's X-Hub-*
// declaration headers are propagated to every subgraph request.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import https from 'node:https';
import { createGatewayRuntime } from '@graphql-hive/gateway-runtime';

const file = process.argv[2];
if (!file) {
  console.error('usage: node hive_gateway.mjs <supergraph.graphql>');
  process.exit(2);
}

const FORWARDED = ['x-hub-end-user', 'x-hub-purpose', 'x-hub-case', 'x-hub-origin-client', 'x-hub-origin-token'];
const { HUB_GATEWAY_CA: ca, HUB_GATEWAY_CERT: cert, HUB_GATEWAY_KEY: key } = process.env;
const agent = ca
  ? new https.Agent({ keepAlive: true, ca: readFileSync(ca), ...(cert ? { cert: readFileSync(cert), key: readFileSync(key) } : {}) })
  : null;

const gateway = createGatewayRuntime({
  supergraph: readFileSync(file, 'utf8'),
  maskedErrors: false, // the subgraphs' own errors reach the client as the hub wrote them
  ...(agent ? { customAgent: () => agent } : {}),
  propagateHeaders: {
    fromClientToSubgraphs: ({ request }) =>
      Object.fromEntries(FORWARDED.map((name) => [name, request.headers.get(name)]).filter(([, value]) => value)),
  },
});
const server = createServer(gateway);
// BENCH_PORT: the port the bench chose (bench/peer); otherwise any free one.
server.listen(Number(process.env.BENCH_PORT ?? 0), '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ url: `http://127.0.0.1:${server.address().port}/graphql` }) + '\n');
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.close(() => gateway.dispose().finally(() => process.exit(0))));
}
