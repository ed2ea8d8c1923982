// Sign-in: the password, then (TOTP on) the code; or, when the account's role requires TOTP and it
// has none yet (the token's `mfa` claim is "enrol"), enrolment before anything else.
import { useEffect, useRef, useState } from "preact/hooks";
import { forgetTokens, mutate, query, refreshNow, setTokens } from "./api";
import type { ApiError } from "./errors";
import {
  ConfirmTotpEnrollmentDocument,
  MeDocument,
  type MeQuery,
  SignInDocument,
  StartTotpEnrollmentDocument,
  VerifyMfaDocument,
} from "./gql/graphql";
import { ForgotPassword } from "./links";
import { Alert, FieldErrors } from "./ui";

export type Me = MeQuery["me"];

type Step = { name: "password" } | { name: "code"; mfaToken: string } | { name: "enrol" };

const enrolOnly = (payload: unknown) => (payload as Record<string, unknown> | null)?.["mfa"] === "enrol";

/** Focus the step's heading whenever the step changes, so a screen reader hears where it is. */
function useFocusOnChange(key: string) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [key]);
  return heading;
}

function CodeField({ error }: { error: ApiError | null }) {
  return (
    <>
      <label for="code">Authentication code</label>
      <input
        id="code"
        name="code"
        inputMode="numeric"
        autocomplete="one-time-code"
        required
        aria-describedby="code-help"
        aria-invalid={error ? true : undefined}
      />
      <small id="code-help">The 6 digits your authenticator app shows, or one of your recovery codes.</small>
      <FieldErrors id="code-error" messages={error?.fields["code"]} />
    </>
  );
}

function Enrol({ onDone }: { onDone: () => void }) {
  const [secret, setSecret] = useState<{ secret: string; otpauthUri: string } | null>(null);
  const [recoveryCodes, setRecoveryCodes] = useState<string[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  useEffect(() => {
    mutate(StartTotpEnrollmentDocument, {}).then((answer) =>
      answer.error ? setError(answer.error) : setSecret(answer.data.startTotpEnrollment),
    );
  }, []);

  async function confirm(event: Event) {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget as HTMLFormElement).get("code") ?? "").trim();
    const answer = await mutate(ConfirmTotpEnrollmentDocument, { input: { code } });
    setError(answer.error ?? null);
    if (answer.data) setRecoveryCodes(answer.data.confirmTotpEnrollment.recoveryCodes);
  }

  if (recoveryCodes) {
    return (
      <section aria-labelledby="recovery-heading">
        <h2 id="recovery-heading">Your recovery codes</h2>
        <p>Each works once in place of a code if you lose your phone. Keep them somewhere safe: they are shown only now.</p>
        <ul id="recovery-codes" class="codes">
          {recoveryCodes.map((code) => (
            <li key={code}>
              <code>{code}</code>
            </li>
          ))}
        </ul>
        <button type="button" onClick={onDone}>
          I have kept them, continue
        </button>
      </section>
    );
  }
  return (
    <section aria-labelledby="enrol-heading">
      <h2 id="enrol-heading">Set up your authenticator app</h2>
      <p>Your role signs in with a second factor. Add this key to an authenticator app, then enter the code it shows.</p>
      {secret && (
        <>
          <p>
            Key: <code id="totp-secret">{secret.secret}</code>
          </p>
          <p>
            <a href={secret.otpauthUri}>Open in an authenticator app on this device</a>
          </p>
        </>
      )}
      <form onSubmit={confirm}>
        <CodeField error={error} />
        {error && <Alert id="enrol-error" text={error.message} />}
        <button type="submit">Turn on</button>
      </form>
    </section>
  );
}

export function SignIn({ onSignedIn, notice }: { onSignedIn: (me: Me) => void; notice: string | null }) {
  const [step, setStep] = useState<Step>({ name: "password" });
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const heading = useFocusOnChange(step.name);

  /** Tokens in hand: an enrol-only session enrols first, any other loads who signed in. */
  async function signedIn(tokens: { token?: string | null; refreshToken?: string | null; payload?: unknown }) {
    setTokens(tokens);
    if (enrolOnly(tokens.payload)) {
      setStep({ name: "enrol" });
      return;
    }
    await loadMe();
  }

  async function loadMe() {
    const me = await query(MeDocument, {});
    if (me.error) {
      forgetTokens();
      setError(me.error);
      return;
    }
    onSignedIn(me.data.me);
  }

  async function submitPassword(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    const answer = await mutate(SignInDocument, {
      username: String(form.get("username")),
      password: String(form.get("password")),
    });
    setBusy(false);
    setError(answer.error ?? null);
    if (!answer.data) return;
    const { tokenAuth } = answer.data;
    if (tokenAuth.mfaRequired && tokenAuth.mfaToken) {
      setStep({ name: "code", mfaToken: tokenAuth.mfaToken });
      return;
    }
    await signedIn(tokenAuth);
  }

  async function submitCode(event: Event, mfaToken: string) {
    event.preventDefault();
    const code = String(new FormData(event.currentTarget as HTMLFormElement).get("code") ?? "").trim();
    setBusy(true);
    const answer = await mutate(VerifyMfaDocument, { input: { mfaToken, code } });
    setBusy(false);
    setError(answer.error ?? null);
    if (answer.data) await signedIn(answer.data.verifyMfa);
  }

  async function enrolled() {
    // The enrol-only session's next refresh carries a full access token.
    try {
      await refreshNow();
    } catch {
      forgetTokens();
      setStep({ name: "password" });
      return;
    }
    await loadMe();
  }

  return (
    <main id="main" class="signin">
      <h1 tabIndex={-1} ref={heading}>
        {step.name === "enrol" ? "Second factor" : "Sign in"}
      </h1>
      {notice && <Alert id="session-notice" text={notice} />}
      {step.name === "password" && (
        <form onSubmit={submitPassword}>
          <label for="username">Username</label>
          <input id="username" name="username" autocomplete="username" required autofocus />
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required />
          {error && <Alert id="signin-error" text={error.message} />}
          <button type="submit" disabled={busy}>
            {busy ? "Signing in…" : "Sign in"}
          </button>
        </form>
      )}
      {step.name === "password" && <ForgotPassword />}
      {step.name === "code" && (
        <form onSubmit={(event) => submitCode(event, step.mfaToken)} id="mfa-step">
          <CodeField error={error} />
          {error && <Alert id="signin-error" text={error.message} />}
          <button type="submit" disabled={busy}>
            Verify
          </button>
          <button type="button" class="link" onClick={() => setStep({ name: "password" })}>
            Start again
          </button>
        </form>
      )}
      {step.name === "enrol" && <Enrol onDone={enrolled} />}
    </main>
  );
}
