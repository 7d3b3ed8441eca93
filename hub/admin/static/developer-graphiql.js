// GraphiQL for a developer acting as one client, with a DPoP-bound token from the console.
//
// The DPoP key is made here with WebCrypto as NON-extractable: the page can sign with it but
// nobody (this page included) can read its private half. The console issues a short-lived hub
// access token bound to its public half (cnf.jkt); every request to /graphql carries that token
// and a fresh proof (RFC 9449: htm, htu, iat, jti, ath; the server's nonce when it asks for one),
// the purpose the page was opened for, and no cookies. An expired or refused token is re-issued.
// GraphiQL's introspection is answered by the console with the client's view of the graph for
// that purpose (what its live grants reach), whether or not /graphql answers introspection
// itself; GraphiQL's re-fetch button asks again, so a revoked grant leaves the explorer too.
"use strict";

(function () {
  const root = document.getElementById("graphiql");
  const status = document.getElementById("token-status");
  const scopes = document.getElementById("sandbox-scopes");
  const config = root.dataset;
  const encoder = new TextEncoder();
  const RENEW_BEFORE_MS = 20000;
  const state = { key: null, jwk: null, token: null, expiresAt: 0, htu: null, nonce: null };

  function b64url(bytes) {
    let text = "";
    for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function b64json(value) {
    return b64url(encoder.encode(JSON.stringify(value)));
  }

  function show(text, failed) {
    status.textContent = text;
    status.classList.toggle("failed", Boolean(failed));
  }

  async function dpopKey() {
    if (state.key === null) {
      const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      const jwk = await crypto.subtle.exportKey("jwk", pair.publicKey);
      state.key = pair.privateKey;
      state.jwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
    }
    return state.key;
  }

  async function consoleJSON(url, options) {
    const response = await fetch(url, Object.assign({ credentials: "same-origin" }, options));
    const body = await response.json();
    if (!response.ok) throw new Error(body.message || "the console refused (" + response.status + ")");
    return body;
  }

  async function issue() {
    await dpopKey();
    const body = await consoleJSON("/admin/api/developer/token", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": config.csrf },
      body: JSON.stringify({ client_id: config.client, purpose: config.purpose, jwk: state.jwk }),
    });
    state.token = body.access_token;
    state.expiresAt = Date.now() + body.expires_in * 1000;
    state.htu = body.graphql_url;
    const until = new Date(state.expiresAt).toLocaleTimeString();
    scopes.textContent = body.scope.split(" ").join(", ");
    show(config.saidValid.replace("{time}", until));  // the page's language (data-said-valid)
  }

  async function proof(method, token) {
    const digest = await crypto.subtle.digest("SHA-256", encoder.encode(token));
    const claims = {
      jti: crypto.randomUUID(), htm: method, htu: state.htu, iat: Math.floor(Date.now() / 1000), ath: b64url(digest),
    };
    if (state.nonce) claims.nonce = state.nonce;
    const input = b64json({ typ: "dpop+jwt", alg: "ES256", jwk: state.jwk }) + "." + b64json(claims);
    // WebCrypto's ECDSA signature is already r || s, the form JWS ES256 uses.
    const signature = await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, state.key, encoder.encode(input));
    return input + "." + b64url(signature);
  }

  async function send(params) {
    const response = await fetch("/graphql", {
      method: "POST",
      credentials: "omit",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        Authorization: "DPoP " + state.token,
        DPoP: await proof("POST", state.token),
        "X-Hub-Purpose": config.purpose,
        "X-Hub-End-User": config.endUser,
      },
      body: JSON.stringify(params),
    });
    const nonce = response.headers.get("DPoP-Nonce");
    if (nonce) state.nonce = nonce;
    return response;
  }

  async function schema() {
    const query = new URLSearchParams({ client_id: config.client, purpose: config.purpose });
    const body = await consoleJSON("/admin/api/developer/schema?" + query.toString());
    scopes.textContent = body.scopes.join(", ");
    return { data: body.introspection };
  }

  async function fetcher(params) {
    if (params.operationName === "IntrospectionQuery" && params.query.includes("__schema")) return schema();
    if (state.token === null || Date.now() > state.expiresAt - RENEW_BEFORE_MS) await issue();
    let response = await send(params);
    const challenge = response.status === 401 ? response.headers.get("WWW-Authenticate") || "" : "";
    if (challenge.includes("use_dpop_nonce")) {
      response = await send(params);
    } else if (challenge.includes("invalid_token")) {
      await issue(); // expired or cut off: a new token says whether the client may still act
      response = await send(params);
    }
    return response.json();
  }

  async function guarded(params) {
    try {
      return await fetcher(params);
    } catch (error) {
      show(error.message, true);
      return { errors: [{ message: error.message }] };
    }
  }

  // Tabs and history stay in this page, not in localStorage: the next client opened in this
  // browser starts clean, and nothing of the sandbox outlives it.
  function memoryStorage() {
    const items = new Map();
    return {
      getItem: (key) => (items.has(key) ? items.get(key) : null),
      setItem: (key, value) => items.set(key, String(value)),
      removeItem: (key) => items.delete(key),
      clear: () => items.clear(),
      get length() { return items.size; },
    };
  }

  async function start() {
    try {
      await issue();
      ReactDOM.createRoot(root).render(
        React.createElement(GraphiQL, {
          fetcher: guarded,
          storage: memoryStorage(),
          plugins: [GraphiQLPluginExplorer.explorerPlugin()],
          defaultEditorToolsVisibility: true,
          defaultQuery: "# " + config.saidQuery + "\n{\n  __typename\n}\n",
        }),
      );
    } catch (error) {
      show(error.message, true);
      root.textContent = config.saidFailed.replace("{why}", error.message);
    }
  }

  start();
})();
