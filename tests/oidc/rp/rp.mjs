// A real OpenID Connect relying party (openid-client, which runs oauth4webapi and
// jose): discovery, the code flow with PKCE, ID token validation against the
// JWKS, userinfo, refresh with rotation, reuse detection, revocation, logout.
// Driven step by step by test_relying_party.py:
//   node rp.mjs <step> '<json>'   → one JSON line on stdout
import * as client from "openid-client";

const [step, raw] = process.argv.slice(2);
const input = JSON.parse(raw || "{}");

async function configure() {
  const metadata = { id_token_signed_response_alg: "ES256" };
  if (input.secret) metadata.client_secret = input.secret;
  let auth = input.secret ? client.ClientSecretBasic(input.secret) : client.None();
  if (input.privateJwk) {
    // private_key_jwt: the client's own key signs an assertion at each token call.
    const key = await crypto.subtle.importKey(
      "jwk", input.privateJwk, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
    auth = client.PrivateKeyJwt({ key, kid: input.privateJwk.kid });
  }
  return client.discovery(new URL(input.issuer), input.clientId, metadata, auth, {
    execute: [client.allowInsecureRequests], // the test server speaks http on 127.0.0.1
  });
}

function failure(error) {
  return {
    ok: false,
    error: error.error ?? error.code ?? error.name,
    status: error.status,
    message: error.message,
  };
}

async function run() {
  const config = await configure();
  switch (step) {
    case "authorize": {
      const verifier = client.randomPKCECodeVerifier();
      const state = client.randomState();
      const nonce = client.randomNonce();
      const params = {
        redirect_uri: input.redirectUri,
        scope: input.scope ?? "openid email profile frontdesk",
        code_challenge: await client.calculatePKCECodeChallenge(verifier),
        code_challenge_method: "S256",
        state,
        nonce,
        ...(input.extra ?? {}),
      };
      const url = client.buildAuthorizationUrl(config, params);
      return { ok: true, url: url.href, verifier, state, nonce };
    }
    case "callback": {
      let tokens;
      try {
        tokens = await client.authorizationCodeGrant(config, new URL(input.callbackUrl), {
          pkceCodeVerifier: input.verifier,
          expectedState: input.state,
          expectedNonce: input.nonce,
          idTokenExpected: true,
        });
      } catch (error) {
        return failure(error);
      }
      const claims = tokens.claims();
      const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
      return {
        ok: true,
        claims,
        userinfo,
        accessToken: tokens.access_token,
        refreshToken: tokens.refresh_token,
        idToken: tokens.id_token,
      };
    }
    case "refresh": {
      try {
        const tokens = await client.refreshTokenGrant(config, input.refreshToken);
        return {
          ok: true,
          claims: tokens.claims(),
          accessToken: tokens.access_token,
          refreshToken: tokens.refresh_token,
        };
      } catch (error) {
        return failure(error);
      }
    }
    case "userinfo": {
      try {
        return { ok: true, userinfo: await client.fetchUserInfo(config, input.accessToken, input.sub) };
      } catch (error) {
        return failure(error);
      }
    }
    case "revoke": {
      await client.tokenRevocation(config, input.token);
      return { ok: true };
    }
    case "logout": {
      const url = client.buildEndSessionUrl(config, {
        id_token_hint: input.idToken,
        post_logout_redirect_uri: input.postLogoutRedirectUri,
        state: "bye",
      });
      return { ok: true, url: url.href };
    }
    default:
      throw new Error(`unknown step ${step}`);
  }
}

run().then(
  (result) => process.stdout.write(JSON.stringify(result) + "\n"),
  (error) => {
    process.stdout.write(JSON.stringify(failure(error)) + "\n");
    process.exitCode = 1;
  },
);
