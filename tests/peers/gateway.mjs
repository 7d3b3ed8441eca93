// Apollo Gateway over a static supergraph, served by Apollo Server (standalone) on a free port.
//   node gateway.mjs <supergraph.graphql>
// Prints {"url": ...} on one line once it listens; runs until terminated (SIGTERM stops it cleanly).
//
// A request with `x-capture-traces: 1` makes the gateway collect federated traces, as it does when
// reporting usage to Apollo: it then asks every subgraph for ftv1 and decodes what comes back. The
// response's `extensions.subgraphTraces` says, per subgraph fetch, whether a trace came and parsed.
import { readFileSync } from 'node:fs';
import { ApolloGateway } from '@apollo/gateway';
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

const gateway = new ApolloGateway({ supergraphSdl: readFileSync(file, 'utf8') });
const server = new ApolloServer({ gateway, plugins: [tracePlugin] });
// BENCH_PORT: the port the bench chose (bench/peer); otherwise any free one.
const port = Number(process.env.BENCH_PORT ?? 0);
const { url } = await startStandaloneServer(server, { listen: { host: '127.0.0.1', port } });
process.stdout.write(JSON.stringify({ url }) + '\n');

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => server.stop().finally(() => process.exit(0)));
}
