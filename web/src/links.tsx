// The pages the account mails link to (users/account_tokens.py LINK_PATHS): /accept-invitation and
// /reset-password, each with ?token=…; and the "Forgot password" form of the sign-in screen.
import { useState } from "preact/hooks";
import { mutate, query, setTokens } from "./api";
import type { ApiError } from "./errors";
import {
  AcceptInvitationDocument,
  MeDocument,
  RequestPasswordResetDocument,
  ResetPasswordDocument,
} from "./gql/graphql";
import type { Me } from "./signin";
import { Alert, FieldErrors, Status } from "./ui";

export type LinkPage = { page: "accept-invitation" | "reset-password"; token: string };

/** The link page this load opened, if any; the token leaves the address bar (and history) at once. */
export function linkPage(): LinkPage | null {
  const page = window.location.pathname.replace(/^\//, "");
  if (page !== "accept-invitation" && page !== "reset-password") return null;
  const token = new URLSearchParams(window.location.search).get("token") ?? "";
  window.history.replaceState(null, "", "/");
  return { page, token };
}

/** A link's own trouble reads as such, not as a session's. */
function linkMessage(error: ApiError): string {
  if (error.code === "TOKEN_INVALID") return "This link is invalid or has already been used.";
  if (error.code === "TOKEN_EXPIRED") return "This link has expired. Ask for a new one.";
  return error.message;
}

function NewPasswordField({ name, error }: { name: string; error: ApiError | null }) {
  const messages = error?.fields[name];
  return (
    <>
      <label for="new-password">New password</label>
      <input
        id="new-password"
        name="password"
        type="password"
        autocomplete="new-password"
        required
        autofocus
        aria-invalid={messages?.length ? true : undefined}
        aria-describedby={messages?.length ? "new-password-error" : undefined}
      />
      <FieldErrors id="new-password-error" messages={messages} />
    </>
  );
}

export function AcceptInvitation({ token, onSignedIn }: { token: string; onSignedIn: (me: Me) => void }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const password = String(new FormData(event.currentTarget as HTMLFormElement).get("password"));
    setBusy(true);
    const answer = await mutate(AcceptInvitationDocument, { input: { token, password } }, { skipAuth: true });
    if (answer.error) {
      setBusy(false);
      setError(answer.error);
      return;
    }
    setTokens(answer.data.acceptInvitation);
    const me = await query(MeDocument, {});
    setBusy(false);
    if (me.error) setError(me.error);
    else onSignedIn(me.data.me);
  }

  return (
    <main id="main" class="signin">
      <h1>Welcome to Clinic</h1>
      <p>Choose a password for your account. You are signed in once it is set.</p>
      <form onSubmit={submit} id="accept-invitation">
        <NewPasswordField name="password" error={error} />
        {error && <Alert id="link-error" text={linkMessage(error)} />}
        <button type="submit" disabled={busy}>
          Set password
        </button>
      </form>
    </main>
  );
}

export function ResetPassword({ token, onDone }: { token: string; onDone: (notice: string) => void }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const newPassword = String(new FormData(event.currentTarget as HTMLFormElement).get("password"));
    setBusy(true);
    const answer = await mutate(ResetPasswordDocument, { input: { token, newPassword } }, { skipAuth: true });
    setBusy(false);
    if (answer.error) setError(answer.error);
    else onDone("Your password is changed and every session of your account has ended. Sign in with it.");
  }

  return (
    <main id="main" class="signin">
      <h1>Choose a new password</h1>
      <form onSubmit={submit} id="reset-password">
        <NewPasswordField name="newPassword" error={error} />
        {error && <Alert id="link-error" text={linkMessage(error)} />}
        <button type="submit" disabled={busy}>
          Set password
        </button>
      </form>
    </main>
  );
}

/** The sign-in screen's "Forgot password": the same answer whether or not the address has an account. */
export function ForgotPassword() {
  const [open, setOpen] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const email = String(new FormData(event.currentTarget as HTMLFormElement).get("email")).trim();
    const answer = await mutate(RequestPasswordResetDocument, { input: { email } }, { skipAuth: true });
    setError(answer.error ?? null);
    setStatus(answer.error ? null : "If this address belongs to an account, a link valid 30 minutes is on its way.");
  }

  if (!open) {
    return (
      <button type="button" class="link" id="forgot-password" onClick={() => setOpen(true)}>
        Forgot password?
      </button>
    );
  }
  return (
    <section aria-labelledby="forgot-heading">
      <h2 id="forgot-heading">Reset your password</h2>
      <form onSubmit={submit} id="forgot-form">
        <label for="reset-email">Email address</label>
        <input id="reset-email" name="email" type="email" autocomplete="email" required />
        <FieldErrors id="reset-email-error" messages={error?.fields["email"]} />
        {error && <Alert id="forgot-error" text={error.message} />}
        <Status id="forgot-status" text={status} />
        <button type="submit">Send me a link</button>
      </form>
    </section>
  );
}
