// Patients: the record (edit, with the API's field errors next to the fields), its history as a
// timeline, and the access log.
import { useState } from "preact/hooks";
import { mutate } from "./api";
import type { ApiError } from "./errors";
import {
  type BloodType,
  type MyHealthRecordQuery,
  MyAccessLogDocument,
  MyHealthRecordDocument,
  type UpdateHealthRecordInput,
  UpdateHealthRecordDocument,
} from "./gql/graphql";
import { Alert, FieldErrors, Loading, Status, When, label, useQuery } from "./ui";

type Record = NonNullable<MyHealthRecordQuery["myHealthRecord"]>;

const BLOOD_TYPES: BloodType[] = [
  "A_POSITIVE", "A_NEGATIVE", "B_POSITIVE", "B_NEGATIVE", "AB_POSITIVE", "AB_NEGATIVE", "O_POSITIVE", "O_NEGATIVE",
];
export const bloodTypeLabel = (value: string | null | undefined) =>
  value ? value.replace("_POSITIVE", "+").replace("_NEGATIVE", "−") : "—";

const TEXT_FIELDS = [
  ["allergies", "Allergies"],
  ["medications", "Medications"],
  ["conditions", "Conditions"],
  ["notes", "Notes"],
] as const;
const NUMBER_FIELDS = [
  ["heightCm", "Height (cm)"],
  ["weightKg", "Weight (kg)"],
] as const;

type FormProps = { record: Record; onSaved: () => void; status: string | null; setStatus: (text: string | null) => void };

// Remounted (key) with each saved version of the record; the status line outlives it in MyRecord.
function RecordForm({ record, onSaved, status, setStatus }: FormProps) {
  const [error, setError] = useState<ApiError | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    // Only what changed: an omitted field is left as it is (and no revision is written for it).
    const input: UpdateHealthRecordInput = {};
    for (const [name] of TEXT_FIELDS) {
      const value = String(form.get(name) ?? "");
      if (value !== record[name]) input[name] = value;
    }
    for (const [name] of NUMBER_FIELDS) {
      const raw = String(form.get(name) ?? "").trim();
      const value = raw === "" ? null : Number(raw);
      if (value !== record[name]) input[name] = value;
    }
    const bloodType = String(form.get("bloodType") ?? "");
    if ((bloodType || null) !== record.bloodType) input.bloodType = (bloodType || null) as BloodType | null;
    if (Object.keys(input).length === 0) {
      setStatus("Nothing to save.");
      return;
    }
    const answer = await mutate(UpdateHealthRecordDocument, { input });
    if (answer.error) {
      setError(answer.error);
      setStatus(null);
      return;
    }
    setError(null);
    setStatus("Saved.");
    onSaved();
  }

  const invalid = (name: string) => Boolean(error?.fields[name]?.length);
  return (
    <form onSubmit={submit} id="record-form" noValidate>
      <label for="bloodType">Blood type</label>
      <select id="bloodType" name="bloodType" value={record.bloodType ?? ""}>
        <option value="">Unknown</option>
        {BLOOD_TYPES.map((type) => (
          <option key={type} value={type}>
            {bloodTypeLabel(type)}
          </option>
        ))}
      </select>
      <FieldErrors id="bloodType-error" messages={error?.fields["bloodType"]} />
      {TEXT_FIELDS.map(([name, text]) => (
        <div key={name} class="field">
          <label for={name}>{text}</label>
          <textarea
            id={name}
            name={name}
            rows={2}
            aria-invalid={invalid(name) || undefined}
            aria-describedby={invalid(name) ? `${name}-error` : undefined}
          >
            {record[name]}
          </textarea>
          <FieldErrors id={`${name}-error`} messages={error?.fields[name]} />
        </div>
      ))}
      {NUMBER_FIELDS.map(([name, text]) => (
        <div key={name} class="field">
          <label for={name}>{text}</label>
          <input
            id={name}
            name={name}
            inputMode="decimal"
            value={record[name] ?? ""}
            aria-invalid={invalid(name) || undefined}
            aria-describedby={invalid(name) ? `${name}-error` : undefined}
          />
          <FieldErrors id={`${name}-error`} messages={error?.fields[name]} />
        </div>
      ))}
      {error && <Alert id="record-error" text={error.message} />}
      <Status id="record-status" text={status} />
      <button type="submit">Save</button>
    </form>
  );
}

function History({ record }: { record: Record }) {
  return (
    <section aria-labelledby="history-heading">
      <h2 id="history-heading">History</h2>
      <ol class="timeline" id="history">
        {record.history.edges.map(({ node }) => (
          <li key={node.id}>
            <When at={node.changedAt} /> · {node.changedBy.fullName} ({label(node.changedBy.role)})
            <ul>
              {node.changes.map((change) => (
                <li key={change.field}>
                  <strong>{change.field}</strong>: {change.old || "—"} → {change.new || "—"}
                </li>
              ))}
            </ul>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function MyRecord() {
  const record = useQuery(MyHealthRecordDocument, { historyFirst: 50 });
  const [status, setStatus] = useState<string | null>(null);
  return (
    <Loading loaded={record}>
      {(data) =>
        data.myHealthRecord ? (
          <div class="columns">
            <section aria-label="Health record">
              <p>
                Last updated <When at={data.myHealthRecord.updatedAt} />
              </p>
              <RecordForm
                key={data.myHealthRecord.updatedAt}
                record={data.myHealthRecord}
                onSaved={record.reload}
                status={status}
                setStatus={setStatus}
              />
            </section>
            <History record={data.myHealthRecord} />
          </div>
        ) : (
          <p>You have no health record.</p>
        )
      }
    </Loading>
  );
}

export function AccessLog() {
  const [after, setAfter] = useState<string | null>(null);
  const log = useQuery(MyAccessLogDocument, { first: 25, after });
  return (
    <Loading loaded={log}>
      {(data) => (
        <>
          <p>{data.myAccessLog.totalCount} entries. Refused attempts are marked.</p>
          <table id="access-log">
            <caption class="visually-hidden">Who read or changed your health data</caption>
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Who</th>
                <th scope="col">What</th>
                <th scope="col">Outcome</th>
              </tr>
            </thead>
            <tbody>
              {data.myAccessLog.edges.map(({ node }) => (
                <tr key={node.id} class={node.outcome === "DENIED" ? "denied" : undefined}>
                  <td>
                    <When at={node.createdAt} />
                  </td>
                  <td>{node.actor ? `${node.actor.fullName} (${label(node.actor.role)})` : "Unknown"}</td>
                  <td>
                    {label(node.action)}
                    {node.fields.length ? `: ${node.fields.join(", ")}` : ""}
                  </td>
                  <td>{node.outcome === "DENIED" ? <strong>Refused</strong> : "Allowed"}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.myAccessLog.pageInfo.hasNextPage && (
            <button type="button" onClick={() => setAfter(data.myAccessLog.pageInfo.endCursor ?? null)}>
              Older entries
            </button>
          )}
          {after && (
            <button type="button" onClick={() => setAfter(null)}>
              Newest entries
            </button>
          )}
        </>
      )}
    </Loading>
  );
}
