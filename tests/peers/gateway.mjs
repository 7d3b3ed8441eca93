// Apollo Gateway over a static supergraph, served by Apollo Server (standalone) on a free port.
//   node gateway.mjs <supergraph.graphql>
// Prints {"url": ...} on one line once it listens; runs until terminated (SIGTERM stops it cleanly).
//
// Mutual TLS to the subgraphs (a production hub): HUB_GATEWAY_CA names the CA file the hub's server
// certificate is checked against, HUB_GATEWAY_CERT and HUB_GATEWAY_KEY the gateway's client
// certificate (leave them out to call without one). The caller's X-Hub-* declaration headers are
// passed on to every subgraph request.
//
// A request with `x-capture-traces: 1` makes the gateway collect federated traces, as it does when
// reporting usage to Apollo: it then asks every subgraph for ftv1 and decodes what comes back. The
// response's `extensions.subgraphTraces` says, per subgraph fetch, whether a trace came and parsed.
import { readFileSync } from 'node:fs';
import https from 'node:https';
import nodeFetch from 'node-fetch';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';

const file = process.argv[2];
if (!file) {
  console.error('usage: node gateway.mjs <supergraph.graphql>');
  process.exit(2);
}

function fetchesOf(node, found = []) {
  if (!node || typeof node !== 'object') return found;
  if (typeof node.serviceName === 'string') found.push(node);
  for (const value of Object.values(node)) {
    if (value && typeof value === 'object' && value !== node.trace) fetchesOf(value, found);
  }
  return found;
}

function summary(fetch) {
  const root = fetch.trace?.root;
  return {
    subgraph: fetch.serviceName,
    received: Boolean(fetch.trace),
    parsingFailed: Boolean(fetch.traceParsingFailed),
    durationNs: fetch.trace ? Number(fetch.trace.durationNs) : null,
    rootFields: (root?.child ?? []).map((child) => child.responseName),
  };
}

const tracePlugin = {
  async requestDidStart({ request }) {
    if (request.http?.headers.get('x-capture-traces') !== '1') return {};
    return {
      async didResolveOperation({ metrics }) {
        metrics.captureTraces = true;
      },
      async willSendResponse({ metrics, response }) {
        if (response.body.kind !== 'single') return;
        const result = response.body.singleResult;
        result.extensions = { ...result.extensions, subgraphTraces: fetchesOf(metrics.queryPlanTrace).map(summary) };
      },
    };
  },
};

const FORWARDED = ['x-hub-end-user', 'x-hub-purpose', 'x-hub-case', 'x-hub-origin-client', 'x-hub-origin-token'];
const { HUB_GATEWAY_CA: ca, HUB_GATEWAY_CERT: cert, HUB_GATEWAY_KEY: key } = process.env;
const agent = ca
  ? new https.Agent({ keepAlive: true, ca: readFileSync(ca), ...(cert ? { cert: readFileSync(cert), key: readFileSync(key) } : {}) })
  : null;

class HubDataSource extends RemoteGraphQLDataSource {
  willSendRequest({ request, context }) {
    for (const name of FORWARDED) {
      const value = context.headers?.[name];
      if (typeof value === 'string') request.http.headers.set(name, value);
    }
  }
}

const buildService = ({ url }) =>
  new HubDataSource(agent ? { url, fetcher: (target, init) => nodeFetch(target, { ...init, agent }) } : { url });
const gateway = new ApolloGateway({ supergraphSdl: readFileSync(file, 'utf8'), buildService });
const server = new ApolloServer({ gateway, plugins: [tracePlugin] });
// BENCH_PORT: the port the bench chose (bench/peer); otherwise any free one.
const port = Number(process.env.BENCH_PORT ?? 0);
const { url } = await startStandaloneServer(server, {
  listen: { host: '127.0.0.1', port },
  context: async ({ req }) => ({ headers: req.headers }),
});
process.stdout.write(JSON.stringify({ url }) + '\n');

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.stop().finally(() => process.exit(0)));
}
