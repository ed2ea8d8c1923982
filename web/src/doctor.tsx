// Doctors: the worklist (search, pages through the connection), one patient's record with its
// annotations, add and retract an annotation.
import { useState } from "preact/hooks";
import { mutate } from "./api";
import type { ApiError } from "./errors";
import {
  AddAnnotationDocument,
  type MeQuery,
  PatientRecordDocument,
  RetractAnnotationDocument,
  WorklistDocument,
} from "./gql/graphql";
import { RequestEmergencyAccess } from "./emergency";
import { bloodTypeLabel } from "./patient";
import { Alert, FieldErrors, Loading, Pager, Status, When, useCursors, useQuery } from "./ui";

const PAGE = 10;

function PatientView({ id, me, onBack }: { id: string; me: MeQuery["me"]; onBack: () => void }) {
  const patient = useQuery(PatientRecordDocument, { id, annotationsFirst: 50 });
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  async function add(event: Event, recordId: string) {
    event.preventDefault();
    const formElement = event.currentTarget as HTMLFormElement;
    const body = String(new FormData(formElement).get("body") ?? "");
    const answer = await mutate(AddAnnotationDocument, { input: { recordId, body } }, { idempotent: true });
    setError(answer.error ?? null);
    if (!answer.error) {
      setStatus("Annotation added.");
      formElement.reset();
      patient.reload();
    }
  }

  const [retracting, setRetracting] = useState<string | null>(null);

  async function retract(event: Event, annotationId: string) {
    event.preventDefault();
    const reason = String(new FormData(event.currentTarget as HTMLFormElement).get("reason") ?? "");
    const answer = await mutate(RetractAnnotationDocument, { input: { id: annotationId, reason } });
    setError(answer.error ?? null);
    if (!answer.error) {
      setStatus("Annotation retracted.");
      setRetracting(null);
      patient.reload();
    }
  }

  return (
    <section aria-labelledby="patient-heading">
      <button type="button" class="link" onClick={onBack}>
        ← Back to the worklist
      </button>
      <Loading loaded={patient}>
        {(data) => {
          const node = data.node;
          if (!node || !("healthRecord" in node) || !node.healthRecord) return <Alert text="Not found, or not yours to see." />;
          const record = node.healthRecord;
          return (
            <>
              <h2 id="patient-heading">{node.fullName}</h2>
              <p>
                {node.medicalRecordNumber} · born {node.dateOfBirth}
              </p>
              <dl class="record" id="patient-record">
                <dt>Blood type</dt>
                <dd>{bloodTypeLabel(record.bloodType)}</dd>
                <dt>Allergies</dt>
                <dd id="patient-allergies">{record.allergies || "—"}</dd>
                <dt>Medications</dt>
                <dd>{record.medications || "—"}</dd>
                <dt>Conditions</dt>
                <dd>{record.conditions || "—"}</dd>
                <dt>Notes</dt>
                <dd>{record.notes || "—"}</dd>
                <dt>Height</dt>
                <dd>{record.heightCm ?? "—"} cm</dd>
                <dt>Weight</dt>
                <dd>{record.weightKg ?? "—"} kg</dd>
                <dt>Updated</dt>
                <dd>
                  <When at={record.updatedAt} />
                </dd>
              </dl>
              <h3>Annotations ({record.annotations.totalCount})</h3>
              <ol class="timeline" id="annotations">
                {record.annotations.edges.map(({ node: note }) => (
                  <li key={note.id} class={note.retractedAt ? "retracted" : undefined}>
                    <p>{note.body}</p>
                    <small>
                      {note.author.fullName}, <When at={note.createdAt} />
                      {note.retractedAt && (
                        <>
                          {" "}
                          · <strong>Retracted</strong>: {note.retractionReason}
                        </>
                      )}
                    </small>
                    {!note.retractedAt && note.author.fullName === me.fullName && retracting !== note.id && (
                      <button type="button" class="link" onClick={() => setRetracting(note.id)}>
                        Retract
                      </button>
                    )}
                    {retracting === note.id && (
                      <form onSubmit={(event) => retract(event, note.id)}>
                        <label for="retract-reason">Reason for retracting</label>
                        <input id="retract-reason" name="reason" required />
                        <button type="submit">Retract annotation</button>
                        <button type="button" class="link" onClick={() => setRetracting(null)}>
                          Cancel
                        </button>
                      </form>
                    )}
                  </li>
                ))}
              </ol>
              <form onSubmit={(event) => add(event, record.id)}>
                <label for="annotation-body">New annotation</label>
                <textarea id="annotation-body" name="body" rows={3} required maxLength={10000} />
                <FieldErrors id="annotation-body-error" messages={error?.fields["body"]} />
                {error && <Alert id="annotation-error" text={error.message} />}
                <Status id="annotation-status" text={status} />
                <button type="submit">Add annotation</button>
              </form>
            </>
          );
        }}
      </Loading>
    </section>
  );
}

export function Worklist({ me }: { me: MeQuery["me"] }) {
  const [search, setSearch] = useState("");
  const paging = useCursors();
  const [open, setOpen] = useState<string | null>(null);
  const list = useQuery(WorklistDocument, { first: PAGE, after: paging.after, search: search || null });

  if (open) return <PatientView id={open} me={me} onBack={() => setOpen(null)} />;
  return (
    <>
      <form
        role="search"
        onSubmit={(event) => {
          event.preventDefault();
          setSearch(String(new FormData(event.currentTarget as HTMLFormElement).get("search") ?? ""));
          paging.restart();
        }}
      >
        <label for="search">Search by name or MRN</label>
        <input id="search" name="search" type="search" value={search} />
        <button type="submit">Search</button>
      </form>
      <RequestEmergencyAccess onGranted={list.reload} />
      <Loading loaded={list}>
        {(data) => (
          <>
            <p id="worklist-count">
              {data.patients.totalCount} patient{data.patients.totalCount === 1 ? "" : "s"}
            </p>
            <ul class="cards" id="worklist">
              {data.patients.edges.map(({ node }) => (
                <li key={node.id}>
                  <button type="button" class="link" onClick={() => setOpen(node.id)}>
                    {node.fullName}
                  </button>
                  <span>{node.medicalRecordNumber}</span>
                  <span>Allergies: {node.healthRecord?.allergies || "—"}</span>
                </li>
              ))}
            </ul>
            <Pager paging={paging} pageInfo={data.patients.pageInfo} />
          </>
        )}
      </Loading>
    </>
  );
}
