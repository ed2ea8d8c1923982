// Everyone: my sessions (revoke one) and change password.
import { useState } from "preact/hooks";
import { mutate, setTokens } from "./api";
import type { ApiError } from "./errors";
import { ChangePasswordDocument, MySessionsDocument, RevokeSessionDocument } from "./gql/graphql";
import { Alert, FieldErrors, Loading, Status, When, useQuery } from "./ui";

function Sessions() {
  const sessions = useQuery(MySessionsDocument, { first: 50 });
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  async function revoke(id: string) {
    const answer = await mutate(RevokeSessionDocument, { input: { id } });
    setError(answer.error ?? null);
    if (!answer.error) {
      setStatus("Session ended.");
      sessions.reload();
    }
  }

  return (
    <section aria-labelledby="sessions-heading">
      <h2 id="sessions-heading">My sessions</h2>
      {error && <Alert text={error.message} />}
      <Status text={status} />
      <Loading loaded={sessions}>
        {(data) => (
          <ul class="cards" id="sessions">
            {data.mySessions.edges.map(({ node }) => (
              <li key={node.id}>
                <strong>{node.current ? "This browser" : node.userAgent || "Unknown client"}</strong>
                <span>
                  Signed in <When at={node.createdAt} />, last used <When at={node.lastUsedAt} />
                  {node.ip ? ` from ${node.ip}` : ""}
                </span>
                {!node.current && (
                  <button type="button" onClick={() => revoke(node.id)}>
                    End this session
                  </button>
                )}
              </li>
            ))}
          </ul>
        )}
      </Loading>
    </section>
  );
}

function ChangePassword() {
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    const answer = await mutate(ChangePasswordDocument, {
      input: { oldPassword: String(form.get("oldPassword")), newPassword: String(form.get("newPassword")) },
    });
    if (answer.error) {
      setError(answer.error);
      setStatus(null);
      return;
    }
    // Every session ended, this one included; the answer is the new session of this browser.
    setTokens(answer.data.changePassword);
    setError(null);
    setStatus("Password changed. Your other sessions have been signed out.");
    formElement.reset();
  }

  return (
    <section aria-labelledby="password-heading">
      <h2 id="password-heading">Change password</h2>
      <form onSubmit={submit}>
        <label for="old-password">Current password</label>
        <input id="old-password" name="oldPassword" type="password" autocomplete="current-password" required />
        <FieldErrors id="old-password-error" messages={error?.fields["oldPassword"]} />
        <label for="new-password">New password</label>
        <input id="new-password" name="newPassword" type="password" autocomplete="new-password" required />
        <FieldErrors id="new-password-error" messages={error?.fields["newPassword"]} />
        {error && <Alert id="password-error" text={error.message} />}
        <Status id="password-status" text={status} />
        <button type="submit">Change password</button>
      </form>
    </section>
  );
}

export function Account() {
  return (
    <>
      <Sessions />
      <ChangePassword />
    </>
  );
}
