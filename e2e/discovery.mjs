// Discovers a shopauth server the way an OpenID relying party or API gateway would: openid-client
// fetches /.well-known/openid-configuration (and checks that its issuer is the URL it asked), then
// jose verifies an access token against the jwks_uri the document names, with the algorithms it lists.
//
// Usage: node e2e/discovery.mjs ISSUER ACCESS_TOKEN
//
// Prints "DISCOVERY ok <metadata json> <payload json>" and exits 0, or "DISCOVERY FAILED: ..." and exits 1.
import * as client from 'openid-client';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [issuer, token] = process.argv.slice(2);
if (!issuer || !token) {
  console.error('usage: node discovery.mjs ISSUER ACCESS_TOKEN');
  process.exit(2);
}

try {
  // The issuer is plain http on loopback in the test, which openid-client refuses unless told.
  const config = await client.discovery(new URL(issuer), 'shopauth-e2e', undefined, undefined, {
    execute: [client.allowInsecureRequests],
  });
  const meta = config.serverMetadata();
  if (meta.issuer !== issuer) throw new Error(`issuer ${meta.issuer} != ${issuer}`);
  for (const field of ['jwks_uri', 'id_token_signing_alg_values_supported', 'subject_types_supported', 'response_types_supported']) {
    if (!meta[field] || (Array.isArray(meta[field]) && meta[field].length === 0)) throw new Error(`metadata lacks ${field}`);
  }
  const JWKS = createRemoteJWKSet(new URL(meta.jwks_uri));
  const { payload } = await jwtVerify(token, JWKS, {
    algorithms: meta.id_token_signing_alg_values_supported,
    issuer: meta.issuer,
    audience: meta.issuer,
  });
  console.log(`DISCOVERY ok ${JSON.stringify(meta)} ${JSON.stringify(payload)}`);
} catch (err) {
  console.log(`DISCOVERY FAILED: ${err?.code ? err.code + ': ' : ''}${err?.message || err}`);
  process.exit(1);
}
