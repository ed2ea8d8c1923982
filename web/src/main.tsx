// The reference web app: sign-in, then each role's screens. Everything goes through src/api.ts.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { forgetTokens, logout, mutate, query, resume, setTokens, whenSessionEnds } from "./api";
import { type ApiError } from "./errors";
import { LoginDocument, type MeQuery, MeDocument } from "./gql/graphql";
import { Account } from "./account";
import { AccessLog, MyRecord } from "./patient";
import { Worklist } from "./doctor";
import { AuditTrail, Assignments, DoctorDirectory } from "./staff";
import { Alert } from "./ui";

type Me = MeQuery["me"];

const TABS: Record<Me["role"], [string, string][]> = {
  PATIENT: [["record", "My record"], ["access", "Access log"], ["account", "Account"]],
  DOCTOR: [["worklist", "Worklist"], ["account", "Account"]],
  STAFF: [["assignments", "Assignments"], ["doctors", "Doctors"], ["audit", "Audit trail"], ["account", "Account"]],
};

function SignIn({ onSignedIn, notice }: { onSignedIn: (me: Me) => void; notice: string | null }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);
  const [secondFactor, setSecondFactor] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    setBusy(true);
    const answer = await mutate(LoginDocument, {
      username: String(form.get("username")),
      password: String(form.get("password")),
    });
    if (answer.error) {
      setBusy(false);
      // The MFA step: once tokenAuth answers mfaRequired/mfaToken (issue "mfa"), ask for the code here
      // and send it with verifyMfa; until then the API's MFA_REQUIRED is explained and nothing more.
      setSecondFactor(answer.error.code === "MFA_REQUIRED");
      setError(answer.error);
      return;
    }
    if (!answer.data.tokenAuth.token) {
      // The password was right and a second factor is due (TOTP on): the MFA step goes here.
      setBusy(false);
      setSecondFactor(true);
      return;
    }
    setTokens(answer.data.tokenAuth);
    const me = await query(MeDocument, {});
    setBusy(false);
    if (me.error) {
      forgetTokens();
      setError(me.error);
      return;
    }
    onSignedIn(me.data.me);
  }

  return (
    <main id="main" class="signin">
      <h1>Sign in</h1>
      {notice && <Alert id="session-notice" text={notice} />}
      <form onSubmit={submit} aria-describedby={error ? "signin-error" : undefined}>
        <label for="username">Username</label>
        <input id="username" name="username" autocomplete="username" required autofocus />
        <label for="password">Password</label>
        <input id="password" name="password" type="password" autocomplete="current-password" required />
        {secondFactor && (
          <p id="mfa-step" role="alert">
            This account signs in with a second factor, which this version of the app cannot ask for yet.
          </p>
        )}
        {error && <Alert id="signin-error" text={error.message} />}
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

function Shell({ me, onSignedOut }: { me: Me; onSignedOut: () => void }) {
  const tabs = TABS[me.role];
  const [tab, setTab] = useState(tabs[0]?.[0] ?? "account");
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => heading.current?.focus(), [tab]);

  async function signOut() {
    await logout().catch(() => {});
    onSignedOut();
  }

  const title = tabs.find(([key]) => key === tab)?.[1] ?? "";
  return (
    <>
      <header class="bar">
        <span class="brand">Clinic</span>
        <span class="who" id="who">
          {me.fullName} <span class="role">({me.role.toLowerCase()})</span>
        </span>
        <button type="button" class="link" id="sign-out" onClick={signOut}>
          Sign out
        </button>
      </header>
      <nav aria-label="Sections">
        <ul>
          {tabs.map(([key, label]) => (
            <li key={key}>
              <a
                href={`#${key}`}
                id={`tab-${key}`}
                aria-current={key === tab ? "page" : undefined}
                onClick={(event) => {
                  event.preventDefault();
                  setTab(key);
                }}
              >
                {label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main">
        <h1 tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {tab === "record" && <MyRecord />}
        {tab === "access" && <AccessLog />}
        {tab === "worklist" && <Worklist me={me} />}
        {tab === "assignments" && <Assignments />}
        {tab === "doctors" && <DoctorDirectory />}
        {tab === "audit" && <AuditTrail />}
        {tab === "account" && <Account />}
      </main>
    </>
  );
}

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [starting, setStarting] = useState(true);
  const [notice, setNotice] = useState<string | null>(null);

  useEffect(() => {
    whenSessionEnds((error) => {
      setMe(null);
      setNotice(`Your session has ended. ${error.message}`);
    });
    // Cookie mode only: the HttpOnly refresh cookie survives a reload, nothing else does.
    resume()
      .then(async (resumed) => {
        if (!resumed) return;
        const answer = await query(MeDocument, {});
        if (answer.data) setMe(answer.data.me);
      })
      .finally(() => setStarting(false));
  }, []);

  if (starting) return <p class="loading">Loading…</p>;
  if (!me) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(signedIn) => {
          setNotice(null);
          setMe(signedIn);
        }}
      />
    );
  }
  return <Shell me={me} onSignedOut={() => setMe(null)} />;
}

render(<App />, document.getElementById("app") as HTMLElement);
