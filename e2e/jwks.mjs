// Verifies a shopauth access token against the server's JWKS with jose, the way
// another service would.
//
// Usage: node e2e/jwks.mjs http://127.0.0.1:8000 ACCESS_TOKEN http://127.0.0.1:8000
//        (BASEURL, the token, and the issuer, which is also the audience)
//
// Prints "JWKS ok <payload json>" and exits 0, or "JWKS FAILED: ..." and exits 1.
import { createRemoteJWKSet, jwtVerify } from 'jose';

const [baseURL, token, issuer] = process.argv.slice(2);
if (!baseURL || !token || !issuer) {
  console.error('usage: node jwks.mjs BASEURL ACCESS_TOKEN ISSUER');
  process.exit(2);
}

try {
  const jwksURL = new URL(baseURL.replace(/\/+$/, '') + '/.well-known/jwks.json');
  const JWKS = createRemoteJWKSet(jwksURL);
  const { payload, protectedHeader } = await jwtVerify(token, JWKS, {
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    issuer,
    audience: issuer,
  });
  if (protectedHeader.typ !== undefined && protectedHeader.typ !== 'JWT') {
    throw new Error(`unexpected typ ${JSON.stringify(protectedHeader.typ)}`);
  }
  console.log(`JWKS ok ${JSON.stringify(payload)}`);
} catch (err) {
  console.log(`JWKS FAILED: ${err?.code ? err.code + ': ' : ''}${err?.message || err}`);
  process.exit(1);
}
