// Composes the hub's department subgraphs with a Federation composer and prints the outcome.
//   node compose.mjs apollo|guild <subgraph-name>=<sdl-file>[@<url>] ...
// Prints one JSON object: {composer, errors: [message], hints: [{code, message}], supergraphSdl,
// apiSdl} (apiSdl: the schema clients of a gateway see; The Guild's composer reports no hints).
// Exits 0 whatever the outcome: the caller decides what passes (errors are results, not crashes).
import { readFileSync } from 'node:fs';
import { parse, printSchema } from 'graphql';
import { composeServices as composeApollo } from '@apollo/composition';
import { composeServices as composeGuild } from '@theguild/federation-composition';

const [composer, ...specs] = process.argv.slice(2);
if (!['apollo', 'guild'].includes(composer) || specs.length === 0) {
  console.error('usage: node compose.mjs apollo|guild name=file.graphql[@url] ...');
  process.exit(2);
}

const services = specs.map((spec) => {
  const [name, rest] = spec.split(/=(.*)/s);
  const [file, url] = rest.split(/@(?=https?:)/);
  return { name, url: url ?? `http://${name}.invalid/graphql`, typeDefs: parse(readFileSync(file, 'utf8')) };
});

function apollo() {
  const result = composeApollo(services);
  return {
    errors: (result.errors ?? []).map((e) => e.message),
    hints: (result.hints ?? []).map((h) => ({ code: h.definition.code, message: h.message })),
    supergraphSdl: result.supergraphSdl ?? null,
    apiSdl: result.schema ? printSchema(result.schema.toAPISchema().toGraphQLJSSchema()) : null,
  };
}

function guild() {
  const result = composeGuild(services);
  return {
    errors: (result.errors ?? []).map((e) => e.message),
    hints: [],
    supergraphSdl: result.supergraphSdl ?? null,
    apiSdl: result.publicSdl ?? null,
  };
}

const outcome = composer === 'apollo' ? apollo() : guild();
process.stdout.write(JSON.stringify({ composer, ...outcome }) + '\n');
