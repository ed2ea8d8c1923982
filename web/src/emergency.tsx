// Emergency access ("break the glass", DESIGN.md section 9): doctors request it for a patient not
// assigned to them; staff see the grants, review each (JUSTIFIED or UNJUSTIFIED) and revoke those in force.
import { useState } from "preact/hooks";
import { mutate } from "./api";
import type { ApiError } from "./errors";
import {
  type EmergencyAccessFieldsFragment,
  EmergencyAccessesDocument,
  type EmergencyVerdict,
  RequestEmergencyAccessDocument,
  ReviewEmergencyAccessDocument,
  RevokeEmergencyAccessDocument,
} from "./gql/graphql";
import { Alert, FieldErrors, Loading, Pager, Status, When, label, useCursors, useQuery } from "./ui";

const PAGE = 20;
const REASON_MIN = 20; // EMERGENCY_REASON_MIN_LENGTH; the API checks it too

/** Doctors: break the glass for one patient, by the patient's ID (staff or the patient can read it out). */
export function RequestEmergencyAccess({ onGranted }: { onGranted: () => void }) {
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState<string | null>(null);
  const [needsCode, setNeedsCode] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const form = new FormData(formElement);
    const code = String(form.get("code") ?? "").trim();
    const answer = await mutate(RequestEmergencyAccessDocument, {
      input: {
        patientId: String(form.get("patientId") ?? "").trim(),
        reason: String(form.get("reason") ?? ""),
        password: String(form.get("password") ?? ""),
        code: code || null,
      },
    });
    if (answer.error?.code === "MFA_REQUIRED") {
      setNeedsCode(true);
      setError({ ...answer.error, message: "Enter the code from your authenticator app too." });
      setStatus(null);
      return;
    }
    setError(answer.error ?? null);
    if (answer.data) {
      const grant = answer.data.requestEmergencyAccess;
      setStatus(
        `Emergency access to ${grant.patient?.fullName ?? "the patient"} until ${new Date(grant.expiresAt).toLocaleString()}. Staff will review it.`,
      );
      formElement.reset();
      setNeedsCode(false);
      onGranted();
    } else {
      setStatus(null);
    }
  }

  return (
    <details class="emergency">
      <summary>Request emergency access</summary>
      <form onSubmit={submit} id="emergency-form" aria-labelledby="emergency-heading">
        <h2 id="emergency-heading">Request emergency access</h2>
        <p>
          For a patient not assigned to you, when care cannot wait. It lasts an hour, is audited, the patient and
          staff are told, and staff review it.
        </p>
        <label for="emergency-patient">Patient ID</label>
        <input id="emergency-patient" name="patientId" required autoComplete="off" />
        <FieldErrors id="emergency-patient-error" messages={error?.fields["patientId"]} />
        <label for="emergency-reason">Reason (at least {REASON_MIN} characters)</label>
        <textarea id="emergency-reason" name="reason" rows={3} required minLength={REASON_MIN} />
        <FieldErrors id="emergency-reason-error" messages={error?.fields["reason"]} />
        <label for="emergency-password">Your password</label>
        <input id="emergency-password" name="password" type="password" required autoComplete="current-password" />
        <FieldErrors id="emergency-password-error" messages={error?.fields["password"]} />
        {needsCode && (
          <>
            <label for="emergency-code">Authenticator code</label>
            <input id="emergency-code" name="code" inputMode="numeric" autoComplete="one-time-code" required />
            <FieldErrors id="emergency-code-error" messages={error?.fields["code"]} />
          </>
        )}
        {error && <Alert id="emergency-error" text={error.message} />}
        <Status id="emergency-status" text={status} />
        <button type="submit">Break the glass</button>
      </form>
    </details>
  );
}

function state(grant: EmergencyAccessFieldsFragment): string {
  if (grant.active) return "In force";
  if (grant.endedAt) return grant.endedBy ? `Ended by ${grant.endedBy.fullName}` : "Ended";
  return "Expired";
}

function ReviewForm({ grant, onDone }: { grant: EmergencyAccessFieldsFragment; onDone: () => void }) {
  const [error, setError] = useState<ApiError | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const answer = await mutate(ReviewEmergencyAccessDocument, {
      input: {
        id: grant.id,
        verdict: String(form.get("verdict")) as EmergencyVerdict,
        note: String(form.get("note") ?? ""),
      },
    });
    setError(answer.error ?? null);
    if (!answer.error) onDone();
  }

  const at = `review-${grant.id}`;
  return (
    <form class="review" onSubmit={submit} aria-label={`Review ${grant.doctor.fullName}'s access`}>
      <fieldset>
        <legend>Verdict</legend>
        <label class="inline">
          <input type="radio" name="verdict" value="JUSTIFIED" required /> Justified
        </label>
        <label class="inline">
          <input type="radio" name="verdict" value="UNJUSTIFIED" /> Unjustified
        </label>
      </fieldset>
      <label for={`${at}-note`}>Note</label>
      <textarea id={`${at}-note`} name="note" rows={2} />
      <FieldErrors id={`${at}-error-verdict`} messages={error?.fields["verdict"]} />
      {error && <Alert text={error.message} />}
      <button type="submit">Record verdict</button>
    </form>
  );
}

/** Staff: every grant, newest first, to review and (while in force) revoke. */
export function EmergencyAccesses() {
  const [reviewed, setReviewed] = useState<boolean | null>(false);
  const paging = useCursors();
  const list = useQuery(EmergencyAccessesDocument, { first: PAGE, after: paging.after, reviewed });
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  async function revoke(id: string) {
    const answer = await mutate(RevokeEmergencyAccessDocument, { input: { id } });
    setError(answer.error ?? null);
    setStatus(answer.error ? null : "Emergency access revoked.");
    if (!answer.error) list.reload();
  }

  return (
    <section aria-labelledby="emergency-list-heading">
      <h2 id="emergency-list-heading" class="visually-hidden">
        Emergency accesses
      </h2>
      <label for="emergency-filter">Show</label>
      <select
        id="emergency-filter"
        onChange={(event) => {
          const value = (event.currentTarget as HTMLSelectElement).value;
          setReviewed(value === "" ? null : value === "true");
          paging.restart();
        }}
      >
        <option value="false" selected={reviewed === false}>
          Awaiting review
        </option>
        <option value="true" selected={reviewed === true}>
          Reviewed
        </option>
        <option value="" selected={reviewed === null}>
          All
        </option>
      </select>
      {error && <Alert id="emergency-list-error" text={error.message} />}
      <Status id="emergency-list-status" text={status} />
      <Loading loaded={list}>
        {(data) => (
          <>
            <p id="emergency-count">{data.emergencyAccesses.totalCount} emergency accesses</p>
            <ul class="cards" id="emergency-accesses">
              {data.emergencyAccesses.edges.map(({ node }) => (
                <li key={node.id}>
                  <strong>
                    {node.doctor.fullName} → {node.patient?.fullName ?? "(hidden)"}
                  </strong>
                  <span class="reason">“{node.reason}”</span>
                  <span>
                    From <When at={node.createdAt} /> until <When at={node.endedAt ?? node.expiresAt} />
                  </span>
                  <span class="state">{state(node)}</span>
                  {node.verdict ? (
                    <span class="verdict">
                      {label(node.verdict)} ({node.reviewer?.fullName ?? "—"}, <When at={node.reviewedAt} />)
                      {node.reviewNote && <>: {node.reviewNote}</>}
                    </span>
                  ) : (
                    <ReviewForm
                      grant={node}
                      onDone={() => {
                        setStatus("Verdict recorded.");
                        list.reload();
                      }}
                    />
                  )}
                  {node.active && (
                    <button type="button" onClick={() => revoke(node.id)}>
                      Revoke
                    </button>
                  )}
                </li>
              ))}
            </ul>
            <Pager paging={paging} pageInfo={data.emergencyAccesses.pageInfo} />
          </>
        )}
      </Loading>
    </section>
  );
}
