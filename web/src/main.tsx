// The reference web app: sign-in, then each role's screens. Everything goes through src/api.ts.
import { render } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { logout, query, resume, whenSessionEnds } from "./api";
import { MeDocument } from "./gql/graphql";
import { Account } from "./account";
import { AccessLog, MyRecord } from "./patient";
import { Worklist } from "./doctor";
import { AuditTrail, Assignments, DoctorDirectory } from "./staff";
import { EmergencyAccesses } from "./emergency";
import { AcceptInvitation, ResetPassword, linkPage } from "./links";
import { type Me, SignIn } from "./signin";

const TABS: Record<Me["role"], [string, string][]> = {
  PATIENT: [["record", "My record"], ["access", "Access log"], ["account", "Account"]],
  DOCTOR: [["worklist", "Worklist"], ["account", "Account"]],
  STAFF: [["assignments", "Assignments"], ["doctors", "Doctors"], ["audit", "Audit trail"], ["emergency", "Emergency access"], ["account", "Account"]],
};

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
        {tab === "emergency" && <EmergencyAccesses />}
        {tab === "account" && <Account />}
      </main>
    </>
  );
}

function App() {
  const [me, setMe] = useState<Me | null>(null);
  const [starting, setStarting] = useState(true);
  const [notice, setNotice] = useState<string | null>(null);
  const [link, setLink] = useState(linkPage);

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
  if (!me && link?.page === "accept-invitation") {
    return (
      <AcceptInvitation
        token={link.token}
        onSignedIn={(signedIn) => {
          setLink(null);
          setMe(signedIn);
        }}
      />
    );
  }
  if (!me && link?.page === "reset-password") {
    return (
      <ResetPassword
        token={link.token}
        onDone={(done) => {
          setLink(null);
          setNotice(done);
        }}
      />
    );
  }
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
