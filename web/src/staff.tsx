// Staff: assign a doctor to a patient and end assignments, the doctor directory; auditors (staff
// holding audit.view_auditevent): the audit trail with its filters.
import { useState } from "preact/hooks";
import { mutate } from "./api";
import type { ApiError } from "./errors";
import {
  AssignDoctorDocument,
  AssignmentsDocument,
  type AuditAction,
  AuditTrailDocument,
  DoctorsDocument,
  EndAssignmentDocument,
  PatientDirectoryDocument,
} from "./gql/graphql";
import { Alert, Loading, Pager, Status, When, label, useCursors, useQuery } from "./ui";

const PAGE = 20;

function AssignForm({ onAssigned }: { onAssigned: () => void }) {
  const doctors = useQuery(DoctorsDocument, { first: 100, after: null });
  const patients = useQuery(PatientDirectoryDocument, { first: 100, after: null, search: null });
  const [error, setError] = useState<ApiError | null>(null);
  const [status, setStatus] = useState<string | null>(null);

  async function submit(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const answer = await mutate(
      AssignDoctorDocument,
      { input: { doctorId: String(form.get("doctorId")), patientId: String(form.get("patientId")) } },
      { idempotent: true },
    );
    setError(answer.error ?? null);
    if (answer.data) {
      const { doctor, patient } = answer.data.assignDoctor;
      setStatus(`${doctor.fullName} is now assigned to ${patient?.fullName ?? "the patient"}.`);
      onAssigned();
    } else {
      setStatus(null);
    }
  }

  return (
    <form onSubmit={submit} id="assign-form" aria-labelledby="assign-heading">
      <h2 id="assign-heading">Assign a doctor</h2>
      <label for="doctorId">Doctor</label>
      <select id="doctorId" name="doctorId" required>
        {doctors.data?.doctors.edges.map(({ node }) => (
          <option key={node.id} value={node.id}>
            {node.fullName} ({node.specialty})
          </option>
        ))}
      </select>
      <label for="patientId">Patient</label>
      <select id="patientId" name="patientId" required>
        {patients.data?.patients.edges.map(({ node }) => (
          <option key={node.id} value={node.id}>
            {node.fullName} ({node.medicalRecordNumber})
          </option>
        ))}
      </select>
      {(error ?? doctors.error ?? patients.error) && (
        <Alert id="assign-error" text={(error ?? doctors.error ?? patients.error)?.message ?? ""} />
      )}
      <Status id="assign-status" text={status} />
      <button type="submit">Assign</button>
    </form>
  );
}

export function Assignments() {
  const [activeOnly, setActiveOnly] = useState(true);
  const [round, setRound] = useState(0);
  const list = useQuery(AssignmentsDocument, { first: 100, after: null, active: activeOnly ? true : null });
  const [error, setError] = useState<ApiError | null>(null);

  async function end(id: string) {
    const answer = await mutate(EndAssignmentDocument, { input: { id } });
    setError(answer.error ?? null);
    if (!answer.error) list.reload();
  }

  return (
    <div class="columns">
      <AssignForm
        key={round}
        onAssigned={() => {
          list.reload();
          setRound(round);
        }}
      />
      <section aria-labelledby="assignments-heading">
        <h2 id="assignments-heading">Assignments</h2>
        <label class="inline">
          <input type="checkbox" checked={activeOnly} onChange={() => setActiveOnly(!activeOnly)} /> Active only
        </label>
        {error && <Alert id="end-error" text={error.message} />}
        <Loading loaded={list}>
          {(data) => (
            <ul class="cards" id="assignments">
              {data.assignments.edges.map(({ node }) => (
                <li key={node.id}>
                  <strong>
                    {node.doctor.fullName} → {node.patient?.fullName ?? "(hidden)"}
                  </strong>
                  <span>
                    Since <When at={node.createdAt} />
                    {node.endedAt && (
                      <>
                        , ended <When at={node.endedAt} />
                      </>
                    )}
                  </span>
                  {node.active && (
                    <button type="button" onClick={() => end(node.id)}>
                      End assignment
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </Loading>
      </section>
    </div>
  );
}

export function DoctorDirectory() {
  const paging = useCursors();
  const list = useQuery(DoctorsDocument, { first: PAGE, after: paging.after });
  return (
    <Loading loaded={list}>
      {(data) => (
        <>
          <table id="doctors">
            <caption class="visually-hidden">Doctors</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Specialty</th>
              </tr>
            </thead>
            <tbody>
              {data.doctors.edges.map(({ node }) => (
                <tr key={node.id}>
                  <td>{node.fullName}</td>
                  <td>{node.specialty}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <Pager paging={paging} pageInfo={data.doctors.pageInfo} />
        </>
      )}
    </Loading>
  );
}

const ACTIONS: AuditAction[] = [
  "RECORD_READ", "RECORD_UPDATE", "ANNOTATION_READ", "ANNOTATION_ADD", "ANNOTATION_RETRACT", "DEMOGRAPHICS_READ",
  "ASSIGNMENT_CREATE", "ASSIGNMENT_END", "PATIENT_REGISTER", "LOGIN_SUCCESS", "LOGIN_FAILURE",
];

type Filters = { action: AuditAction | null; since: string | null; until: string | null };

export function AuditTrail() {
  const [filters, setFilters] = useState<Filters>({ action: null, since: null, until: null });
  const paging = useCursors();
  const trail = useQuery(AuditTrailDocument, {
    first: PAGE,
    after: paging.after,
    patientId: null,
    actorId: null,
    ...filters,
  });

  function apply(event: Event) {
    event.preventDefault();
    const form = new FormData(event.currentTarget as HTMLFormElement);
    const day = (name: string) => {
      const value = String(form.get(name) ?? "");
      return value ? new Date(value).toISOString() : null;
    };
    setFilters({ action: (String(form.get("action") ?? "") || null) as AuditAction | null, since: day("since"), until: day("until") });
    paging.restart();
  }

  return (
    <>
      <form class="filters" onSubmit={apply} aria-label="Filters">
        <div>
          <label for="audit-action">Action</label>
          <select id="audit-action" name="action">
            <option value="">Any</option>
            {ACTIONS.map((action) => (
              <option key={action} value={action}>
                {label(action)}
              </option>
            ))}
          </select>
        </div>
        <div>
          <label for="audit-since">From</label>
          <input id="audit-since" name="since" type="datetime-local" />
        </div>
        <div>
          <label for="audit-until">Until</label>
          <input id="audit-until" name="until" type="datetime-local" />
        </div>
        <button type="submit">Filter</button>
      </form>
      <Loading loaded={trail}>
        {(data) => (
          <>
            <p>{data.auditEvents.totalCount} events</p>
            <table id="audit-trail">
              <caption class="visually-hidden">Audit trail</caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">When</th>
                  <th scope="col">Who</th>
                  <th scope="col">Action</th>
                  <th scope="col">Patient</th>
                  <th scope="col">Outcome</th>
                </tr>
              </thead>
              <tbody>
                {data.auditEvents.edges.map(({ node }) => (
                  <tr key={node.id} class={node.outcome === "DENIED" ? "denied" : undefined}>
                    <td>{node.sequence}</td>
                    <td>
                      <When at={node.createdAt} />
                    </td>
                    <td>{node.actor ? `${node.actor.fullName} (${label(node.actor.role)})` : "—"}</td>
                    <td>
                      {label(node.action)}
                      {node.fields.length ? `: ${node.fields.join(", ")}` : ""}
                    </td>
                    <td>{node.patient?.fullName ?? "—"}</td>
                    <td>{node.outcome === "DENIED" ? <strong>Refused</strong> : "Allowed"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
            <Pager paging={paging} pageInfo={data.auditEvents.pageInfo} />
          </>
        )}
      </Loading>
    </>
  );
}
