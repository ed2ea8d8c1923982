// An Apollo Client 4 set-up for Clinic API, as docs/clients.md describes it. The tests in
// tests/clients/ run exactly this module (through scenarios.mjs) against a real server.
//
// Links, outermost first:
//   ErrorLink           TOKEN_EXPIRED -> one refresh for the whole app (and its tabs), then retry
//   SetContextLink      Authorization: Bearer <the in-memory access token>
//   PersistedQueryLink  APQ: the document's SHA-256 first, the text only on PersistedQueryNotFound
//   HttpLink            POST /graphql/
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, ServerError } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { createHash } from "node:crypto";
import { from, switchMap } from "rxjs";

const REFRESH = `mutation Refresh($refreshToken: String) {
  refreshToken(refreshToken: $refreshToken) { token refreshToken refreshExpiresAt }
}`;

/** The `extensions.code`s of an Apollo error: GraphQL errors, or a non-2xx answer's JSON body. */
export function errorCodes(error) {
  if (CombinedGraphQLErrors.is(error)) {
    return error.errors.map((e) => e.extensions?.code);
  }
  if (ServerError.is(error)) {
    try {
      return (JSON.parse(error.bodyText).errors ?? []).map((e) => e.extensions?.code);
    } catch {
      return [];
    }
  }
  return [];
}

// In a browser use the Web Crypto API instead: crypto.subtle.digest("SHA-256", ...) (async is fine).
const sha256 = (text) => createHash("sha256").update(text).digest("hex");

/**
 * @param {object} options
 * @param {string} options.uri                 e.g. "https://api.clinic.example/graphql/"
 * @param {typeof fetch} [options.fetch]       defaults to the global fetch
 * @param {boolean} [options.persistedQueries] APQ on (default) or off
 * @param {boolean} [options.shareTabs]        share tokens and the refresh with other tabs (default)
 */
export function createClinicClient({ uri, fetch = globalThis.fetch, persistedQueries = true, shareTabs = true }) {
  // Tokens live in memory only (never localStorage: any script on the page could read it).
  const session = { token: null, refreshToken: null, refreshes: 0 };
  // Tabs of the same app share the new pair, so that only one of them spends the refresh token.
  const channel = shareTabs && typeof BroadcastChannel === "function" ? new BroadcastChannel("clinic-session") : null;
  channel?.addEventListener("message", ({ data }) => Object.assign(session, data));
  if (channel && typeof channel.unref === "function") channel.unref(); // Node: do not keep the process alive

  let refreshing = null; // the one refresh in flight in this tab

  async function refreshOnce(expiredToken) {
    // Another request (or tab) has refreshed since this one was sent: just retry.
    if (session.token !== expiredToken) return;
    refreshing ??= (async () => {
      const refresh = async () => {
        if (session.token !== expiredToken) return; // a tab holding the lock before us did it
        const response = await fetch(uri, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            operationName: "Refresh",
            query: REFRESH,
            variables: { refreshToken: session.refreshToken },
          }),
        });
        const { data } = await response.json();
        if (!data?.refreshToken) throw new Error("session ended: sign in again");
        session.refreshes += 1;
        setTokens(data.refreshToken);
      };
      // One refresh across tabs: the Web Locks API where there is one (browsers), else this tab only.
      const locks = shareTabs ? globalThis.navigator?.locks : undefined;
      return locks ? locks.request("clinic-refresh", refresh) : refresh();
    })().finally(() => {
      refreshing = null;
    });
    return refreshing;
  }

  function setTokens({ token, refreshToken }) {
    Object.assign(session, { token, refreshToken });
    channel?.postMessage({ token, refreshToken });
  }

  const errorLink = new ErrorLink(({ error, operation, forward }) => {
    if (!errorCodes(error).includes("TOKEN_EXPIRED") || operation.getContext().retriedAfterRefresh) return;
    const expired = operation.getContext().sentToken;
    operation.setContext({ retriedAfterRefresh: true });
    return from(refreshOnce(expired)).pipe(switchMap(() => forward(operation)));
  });

  const authLink = new SetContextLink((prevContext) => {
    const sentToken = session.token;
    return {
      sentToken,
      headers: { ...prevContext.headers, ...(sentToken ? { authorization: `Bearer ${sentToken}` } : {}) },
    };
  });

  const links = [errorLink, authLink];
  if (persistedQueries) links.push(new PersistedQueryLink({ sha256 }));
  links.push(new HttpLink({ uri, fetch }));

  const client = new ApolloClient({
    link: ApolloLink.from(links),
    cache: new InMemoryCache(),
    defaultOptions: { query: { fetchPolicy: "network-only" } },
  });
  return { client, session, setTokens };
}
