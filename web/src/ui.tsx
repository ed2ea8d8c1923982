// Small shared pieces: messages, dates, a hook that loads one query.
import { useCallback, useEffect, useState } from "preact/hooks";
import type { OperationVariables, TypedDocumentNode } from "@apollo/client";
import { query } from "./api";
import type { ApiError } from "./errors";

export function Alert({ id, text }: { id?: string; text: string }) {
  return (
    <p class="alert" role="alert" id={id}>
      {text}
    </p>
  );
}

export function Status({ id, text }: { id?: string; text: string | null }) {
  return (
    <p class="status" role="status" id={id}>
      {text ?? ""}
    </p>
  );
}

export function When({ at }: { at: string | null | undefined }) {
  if (!at) return <span>—</span>;
  const date = new Date(at);
  return <time dateTime={at}>{date.toLocaleString()}</time>;
}

export function FieldErrors({ id, messages }: { id: string; messages: string[] | undefined }) {
  if (!messages?.length) return null;
  return (
    <span class="field-error" id={id}>
      {messages.join(" ")}
    </span>
  );
}

export type Loaded<T> = { data: T | null; error: ApiError | null; loading: boolean; reload: () => void };

/** Runs `document` now and whenever `variables` change (compared as JSON); `reload` runs it again. */
export function useQuery<T, V extends OperationVariables>(document: TypedDocumentNode<T, V>, variables: V): Loaded<T> {
  const [state, setState] = useState<{ data: T | null; error: ApiError | null; loading: boolean }>({
    data: null,
    error: null,
    loading: true,
  });
  const [round, setRound] = useState(0);
  const key = JSON.stringify(variables);
  useEffect(() => {
    let current = true;
    setState((previous) => ({ ...previous, loading: true }));
    query(document, variables).then((answer) => {
      if (!current) return;
      setState(answer.error ? { data: null, error: answer.error, loading: false } : { data: answer.data, error: null, loading: false });
    });
    return () => {
      current = false;
    };
  }, [key, round]);
  const reload = useCallback(() => setRound((n) => n + 1), []);
  return { ...state, reload };
}

export function Loading<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => preact.ComponentChildren }) {
  if (loaded.error) return <Alert text={loaded.error.message} />;
  if (!loaded.data) return <p aria-busy="true">Loading…</p>;
  return <>{children(loaded.data)}</>;
}

export const label = (value: string) => value.toLowerCase().replaceAll("_", " ");

/** Pages through a connection: the `after` of every page seen so far, so "Previous" needs no `before`. */
export function useCursors() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  return {
    after: cursors[cursors.length - 1] ?? null,
    cursors,
    setCursors,
    restart: () => setCursors([null]),
  };
}

type PageInfo = { hasNextPage: boolean; endCursor?: string | null };

export function Pager({ paging, pageInfo }: { paging: ReturnType<typeof useCursors>; pageInfo: PageInfo }) {
  const { cursors, setCursors } = paging;
  return (
    <div class="pager">
      {cursors.length > 1 && (
        <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
      )}
      {pageInfo.hasNextPage && (
        <button type="button" onClick={() => setCursors([...cursors, pageInfo.endCursor ?? null])}>
          Next page
        </button>
      )}
    </div>
  );
}
