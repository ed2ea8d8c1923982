// Typed use of the generated documents (src/gql/, from `npm run codegen`), checked by
// `tsc --strict --noEmit`: what a TypeScript SPA writes against Clinic API.
import type { ApolloClient } from "@apollo/client";
import { AddAnnotationDocument, MeDocument, WorklistDocument, type Role } from "./gql/graphql";

export interface WorklistRow {
  patientId: string;
  name: string;
  allergies: string | null; // a patient may have no record yet
}

export async function worklist(client: ApolloClient, search?: string): Promise<WorklistRow[]> {
  const { data } = await client.query({ query: WorklistDocument, variables: { first: 20, search } });
  return (data?.patients.edges ?? []).map(({ node }) => ({
    patientId: node.id,
    name: node.fullName,
    allergies: node.healthRecord?.allergies ?? null,
  }));
}

export async function myRole(client: ApolloClient): Promise<Role | undefined> {
  const { data } = await client.query({ query: MeDocument });
  return data?.me.role;
}

export async function annotate(client: ApolloClient, recordId: string, body: string, idempotencyKey: string) {
  const { data } = await client.mutate({
    mutation: AddAnnotationDocument,
    variables: { input: { recordId, body } },
    // Safe retries: the same key makes a retried mutation run once (README "Failures and retries").
    context: { headers: { "Idempotency-Key": idempotencyKey } },
  });
  return data?.addAnnotation.createdAt;
}

// The types are the schema's, not `any`: each line below must fail to compile.
export async function misuse(client: ApolloClient) {
  // @ts-expect-error `first` is required by the Worklist operation
  await client.query({ query: WorklistDocument, variables: { search: "x" } });
  const { data } = await client.query({ query: WorklistDocument, variables: { first: 1 } });
  // @ts-expect-error `healthRecord` may be null: strict mode wants the check
  console.log(data?.patients.edges[0]?.node.healthRecord.allergies);
  // @ts-expect-error `email` is not selected by the operation
  console.log(data?.patients.edges[0]?.node.email);
  // @ts-expect-error Role is an enum of PATIENT, DOCTOR and STAFF
  const role: Role = "ADMIN";
  return role;
}
