// The app's one Apollo Client, as docs/clients.md sets it up for a browser.
//
// Links, outermost first:
//   ErrorLink           TOKEN_EXPIRED -> one refresh in flight for the app (single-flight), then retry;
//                       a session that cannot go on (revoked, invalid, refresh refused) ends here
//   SetContextLink      Authorization: Bearer <the in-memory access token>
//   PersistedQueryLink  the document's SHA-256 (Web Crypto); with TRUSTED_DOCUMENTS_ONLY=1 the server
//                       knows every one of them from clients/trusted-documents.json
//   HttpLink            POST /graphql/ on this origin
//
// Tokens live in this module's memory only: nothing is written to localStorage or sessionStorage.
// In cookie mode (the server's JWT_REFRESH_COOKIE=1; the app notices it because tokenAuth answers
// refreshToken: null) the refresh token is an HttpOnly cookie and a reload resumes the session.
import { ApolloClient, ApolloLink, CombinedGraphQLErrors, HttpLink, InMemoryCache, ServerError } from "@apollo/client";
import type { OperationVariables, TypedDocumentNode } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { from, switchMap } from "rxjs";
import { LogoutDocument, RefreshDocument } from "./gql/graphql";
import { type ApiError, toApiError } from "./errors";

const URI = "/graphql/";
const CSRF_COOKIE = "clinic-csrf-token";

type Tokens = { token?: string | null; refreshToken?: string | null };

const session = {
  token: null as string | null,
  refreshToken: null as string | null, // null in cookie mode: the HttpOnly cookie holds it
  cookieMode: false,
};

let onSessionEnded: (error: ApiError) => void = () => {};
/** The app's notice when the session ends (revoked elsewhere, expired, refresh refused). */
export function whenSessionEnds(callback: (error: ApiError) => void): void {
  onSessionEnded = callback;
}

export function signedIn(): boolean {
  return session.token !== null;
}

export function setTokens({ token, refreshToken }: Tokens): void {
  if (!token) throw new Error("no access token in the answer");
  session.token = token;
  session.refreshToken = refreshToken ?? null;
  session.cookieMode = !refreshToken;
}

export function forgetTokens(): void {
  session.token = null;
  session.refreshToken = null;
  client.clearStore().catch(() => {}); // PHI read so far leaves the page's memory too
}

function csrfToken(): string | null {
  const cookie = document.cookie.split("; ").find((part) => part.startsWith(`${CSRF_COOKIE}=`));
  return cookie ? decodeURIComponent(cookie.slice(CSRF_COOKIE.length + 1)) : null;
}

/** The cookie-mode header refreshToken and revokeToken need (nothing otherwise). */
function csrfHeaders(): Record<string, string> {
  const csrf = session.cookieMode ? csrfToken() : null;
  return csrf ? { "x-csrf-token": csrf } : {};
}

let refreshing: Promise<void> | null = null;

/** Trade the refresh token for a new pair, once for however many requests found their token expired. */
function refreshOnce(expiredToken: string | null): Promise<void> {
  if (session.token !== expiredToken) return Promise.resolve(); // refreshed meanwhile: just retry
  refreshing ??= client
    .mutate({
      mutation: RefreshDocument,
      variables: { refreshToken: session.refreshToken },
      context: { headers: csrfHeaders(), skipAuth: true },
    })
    .then(({ data }) => {
      if (!data) throw new Error("no tokens in the refresh answer");
      setTokens(data.refreshToken);
    })
    .finally(() => {
      refreshing = null;
    });
  return refreshing;
}

/** A new pair now (an enrol-only session, once enrolled, gets a full access token this way). */
export function refreshNow(): Promise<void> {
  return refreshOnce(session.token);
}

/** Resume a session after a reload: only possible in cookie mode (nothing else survives a reload). */
export async function resume(): Promise<boolean> {
  if (!csrfToken()) return false;
  session.cookieMode = true;
  try {
    await refreshOnce(null);
    return true;
  } catch {
    return false;
  }
}

export async function logout(): Promise<void> {
  try {
    await client.mutate({
      mutation: LogoutDocument,
      variables: { refreshToken: session.refreshToken },
      context: { headers: csrfHeaders() },
    });
  } finally {
    forgetTokens();
  }
}

const SESSION_OVER = new Set(["TOKEN_REVOKED", "TOKEN_INVALID", "UNAUTHENTICATED"]);

const errorLink = new ErrorLink(({ error, operation, forward }) => {
  const apiError = toApiError(error);
  const context = operation.getContext();
  if (apiError.code === "TOKEN_EXPIRED" && !context.retriedAfterRefresh && !context.skipAuth) {
    operation.setContext({ retriedAfterRefresh: true });
    return from(
      refreshOnce(context.sentToken ?? null).catch((refreshError: unknown) => {
        endSession(toApiError(refreshError));
        throw refreshError;
      }),
    ).pipe(switchMap(() => forward(operation)));
  }
  if (session.token !== null && SESSION_OVER.has(apiError.code)) endSession(apiError);
  return undefined;
});

function endSession(error: ApiError): void {
  if (session.token === null) return;
  forgetTokens();
  onSessionEnded(error);
}

const authLink = new SetContextLink((prevContext) => {
  const sentToken = prevContext.skipAuth ? null : session.token;
  return {
    sentToken,
    headers: { ...prevContext.headers, ...(sentToken ? { authorization: `Bearer ${sentToken}` } : {}) },
  };
});

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

const links: ApolloLink[] = [errorLink, authLink];
// Web Crypto exists only in secure contexts (https, or loopback while developing).
if (globalThis.crypto?.subtle) links.push(new PersistedQueryLink({ sha256 }));
links.push(new HttpLink({ uri: URI, credentials: "same-origin" }));

export const client = new ApolloClient({
  link: ApolloLink.from(links),
  cache: new InMemoryCache(),
  defaultOptions: { query: { fetchPolicy: "network-only" }, mutate: { fetchPolicy: "no-cache" } },
});

export type Result<T> = { data: T; error?: undefined } | { data?: undefined; error: ApiError };

export async function query<T, V extends OperationVariables>(
  document: TypedDocumentNode<T, V>,
  variables: V,
): Promise<Result<T>> {
  try {
    const { data } = await client.query({ query: document, variables });
    return { data: data as T };
  } catch (error) {
    return { error: toApiError(error) };
  }
}

/** A mutation; `idempotent` sends an Idempotency-Key so a retry after a lost answer runs it once. */
export async function mutate<T, V extends OperationVariables>(
  document: TypedDocumentNode<T, V>,
  variables: V,
  { idempotent = false, skipAuth = false } = {},
): Promise<Result<T>> {
  const headers: Record<string, string> =
    idempotent && typeof globalThis.crypto?.randomUUID === "function" ? { "idempotency-key": crypto.randomUUID() } : {};
  try {
    // skipAuth: no Bearer header and no refresh on TOKEN_EXPIRED (a mailed link's token, not a session's).
    const { data } = await client.mutate({ mutation: document, variables, context: { headers, skipAuth } });
    return { data: data as T };
  } catch (error) {
    return { error: toApiError(error) };
  }
}

export { CombinedGraphQLErrors, ServerError };
