// Every extensions.code of the API (users/errors.py ErrorCode) as a sentence a person can act on.
import { CombinedGraphQLErrors, ServerError } from "@apollo/client";

export type ApiError = {
  code: string;
  message: string; // readable, for the person using the app
  fields: Record<string, string[]>; // BAD_USER_INPUT: field -> messages
};

const MESSAGES: Record<string, string> = {
  UNAUTHENTICATED: "Please sign in to continue.",
  FORBIDDEN: "You are not allowed to do this.",
  NOT_FOUND: "Not found, or not yours to see.",
  BAD_USER_INPUT: "Please correct the marked fields.",
  TOKEN_EXPIRED: "Your session has expired. Please sign in again.",
  TOKEN_INVALID: "Your sign-in is no longer valid. Please sign in again.",
  TOKEN_REVOKED: "Your session was ended (you signed out elsewhere or your password changed). Please sign in again.",
  RATE_LIMITED: "Too many attempts.",
  QUERY_TOO_COMPLEX: "That request asks for too much at once. Ask for fewer items.",
  CONFLICT: "That conflicts with how things stand now.",
  INTERNAL: "Something went wrong on our side. Please try again.",
  SERVICE_UNAVAILABLE: "The service is briefly unavailable.",
  PERSISTED_QUERY_NOT_FOUND: "The server does not accept this version of the app. Please reload the page.",
  PERSISTED_QUERY_NOT_SUPPORTED: "The server does not accept this version of the app. Please reload the page.",
  MFA_REQUIRED: "A second factor is needed to sign in.",
  NETWORK: "The server cannot be reached. Check your connection and try again.",
};

/** The code's sentence, with what the API adds: the wait, the request id, the conflict's reason. */
export function describe(code: string, serverMessage: string, extensions: Record<string, unknown>): string {
  let text = MESSAGES[code] ?? `Unexpected error (${code}).`;
  if (code === "CONFLICT" || code === "FORBIDDEN") text = `${text} ${serverMessage}`.trim();
  const retryAfter = extensions["retryAfter"];
  if (typeof retryAfter === "number") text += ` Try again in ${retryAfter} seconds.`;
  const requestId = extensions["requestId"];
  if (typeof requestId === "string") text += ` (Reference: ${requestId})`;
  return text;
}

type GraphQLErrorLike = { message: string; extensions?: Record<string, unknown> | null };

function fromErrors(errors: readonly GraphQLErrorLike[]): ApiError {
  const first = errors[0];
  const extensions = first?.extensions ?? {};
  const code = typeof extensions["code"] === "string" ? extensions["code"] : "INTERNAL";
  const fields = (extensions["fields"] as Record<string, string[]> | undefined) ?? {};
  return { code, message: describe(code, first?.message ?? "", extensions), fields };
}

export function toApiError(error: unknown): ApiError {
  if (CombinedGraphQLErrors.is(error)) return fromErrors(error.errors as GraphQLErrorLike[]);
  if (ServerError.is(error)) {
    try {
      const body = JSON.parse(error.bodyText) as { errors?: GraphQLErrorLike[] };
      if (body.errors?.length) return fromErrors(body.errors);
    } catch {
      // not JSON (a proxy's page): fall through
    }
    return { code: "INTERNAL", message: describe("INTERNAL", "", {}), fields: {} };
  }
  return { code: "NETWORK", message: MESSAGES["NETWORK"] ?? "", fields: {} };
}
