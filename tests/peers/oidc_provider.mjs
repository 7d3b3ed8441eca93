// A real OpenID Connect provider (node oidc-provider) for the console's OIDC sign-in tests.
// node oidc_provider.mjs <port> <config.json>; config: {client_id, client_secret, redirect_uris, jwks}.
// It prints "listening <issuer>" once it serves; its development login form accepts any login
// (the login becomes the subject) and any password, which is all the tests need from a provider.
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const [port, configFile] = process.argv.slice(2);
const config = JSON.parse(readFileSync(configFile, 'utf8'));
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: config.client_id,
    client_secret: config.client_secret,
    redirect_uris: config.redirect_uris,
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: config.jwks,
  pkce: { required: () => true },
  claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, name: id, email: `${id}@example.test` };
      },
    };
  },
});
// The tests' client and user are throwaway; the provider's own development warnings are noise.
provider.on('server_error', (ctx, err) => console.error('server_error', err));
provider.listen(Number(port), '127.0.0.1', () => console.log(`listening ${issuer}`));
