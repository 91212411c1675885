import { onSnapshot, type DocumentData, type Timestamp } from 'firebase/firestore';
import { useEffect, useRef, useState } from 'react';
import { formatDateTime } from '../format';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { Field, focusFirstInvalid } from '../ui/Field';
import { isPermissionDenied } from '../ui/failure';
import { Empty, ErrorAlert, Loading } from '../ui/states';
import { useSubmitOnce } from '../useSubmitOnce';
import { blockReason, roleBlockReason, statusBlockReason, type Member } from './access';
import { createRecord, deleteRecord, recordFieldErrors, recordsQuery, RECORDS_SHOWN, updateRecord } from './records';
import { useTenant } from './TenantLayout';

interface RecordRow {
  id: string;
  data: DocumentData;
}

/** The words for a write the rules refused: the reason the controls give, or the general one. */
function refusal(error: unknown, reason: string | null): string {
  if (isPermissionDenied(error)) return `The server refused this change. ${reason ?? 'Your role or your organisation’s status does not allow it.'}`;
  return error instanceof Error ? error.message : String(error);
}

/** /app/:tenant: the tenant's records, with controls that follow the member's role and the tenant's status. */
export function Component() {
  const { tenantId, member } = useTenant();
  const [rows, setRows] = useState<RecordRow[] | undefined>(undefined);
  const [error, setError] = useState<{ denied: boolean; message: string } | null>(null);

  useEffect(() => {
    setRows(undefined);
    setError(null);
    return onSnapshot(
      recordsQuery(tenantId),
      (snapshot) => setRows(snapshot.docs.map((record) => ({ id: record.id, data: record.data() }))),
      (failure) => setError({ denied: failure.code === 'permission-denied', message: failure.message }),
    );
  }, [tenantId, member.status]);

  const createBlocked = blockReason(member, 'records', 'create', true);
  const statusBlocked = statusBlockReason(member.status, member.failedPaymentRetries);

  return (
    <section aria-labelledby="records-title" className="records">
      <h2 id="records-title">Records</h2>
      {statusBlocked ? (
        <p className="notice" data-testid="write-block-reason">
          {statusBlocked}
        </p>
      ) : createBlocked ? (
        <p className="notice" data-testid="write-block-reason">
          {createBlocked}
        </p>
      ) : null}
      <NewRecord tenantId={tenantId} member={member} blocked={createBlocked} />
      {error ? (
        error.denied ? (
          <Empty title="Records are not available.">{statusBlocked ?? 'Your access to this organisation’s records was refused.'}</Empty>
        ) : (
          <ErrorAlert title="Records could not be loaded.">{error.message}</ErrorAlert>
        )
      ) : rows === undefined ? (
        <Loading>Loading records…</Loading>
      ) : rows.length === 0 ? (
        <Empty title="No records yet.">{createBlocked ? null : 'Add the first one above.'}</Empty>
      ) : (
        <>
          <ul className="record-list" aria-label="Records">
            {rows.map((row) => (
              <RecordItem key={row.id} tenantId={tenantId} member={member} row={row} />
            ))}
          </ul>
          {rows.length >= RECORDS_SHOWN && <p className="muted small">Showing the {RECORDS_SHOWN} most recently changed records.</p>}
        </>
      )}
    </section>
  );
}

function NewRecord({ tenantId, member, blocked }: { tenantId: string; member: Member; blocked: string | null }) {
  const [title, setTitle] = useState('');
  const [body, setBody] = useState('');
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);
  const { busy, submitWith } = useSubmitOnce();
  const form = useRef<HTMLFormElement>(null);

  // The controls are off when the policy says no; the write itself is never skipped here, so a forced
  // submit reaches the rules, which have the last word.
  const submit = submitWith(async () => {
    setFailure(null);
    setSaved(null);
    const fieldErrors = recordFieldErrors({ title, body });
    setErrors(fieldErrors);
    if (Object.keys(fieldErrors).length) return focusFirstInvalid(form.current);
    try {
      await createRecord(tenantId, member.uid, { title: title.trim(), body });
      setSaved(title.trim());
      setTitle('');
      setBody('');
    } catch (error) {
      setFailure(refusal(error, blocked));
    }
  });

  return (
    <form ref={form} className="card new-record" onSubmit={submit} aria-label="New record" noValidate>
      <fieldset disabled={Boolean(blocked) || busy} aria-describedby={blocked ? 'new-record-blocked' : undefined}>
        <legend>New record</legend>
        {blocked && (
          <p id="new-record-blocked" className="visually-hidden">
            {blocked}
          </p>
        )}
        <Field label="Title" name="title" error={errors.title}>
          {(control) => <input {...control} maxLength={400} value={title} onChange={(e) => setTitle(e.target.value)} />}
        </Field>
        <Field label="Text" name="body" optional error={errors.body}>
          {(control) => <textarea {...control} rows={3} value={body} onChange={(e) => setBody(e.target.value)} />}
        </Field>
        <button type="submit" className="primary">
          {busy ? 'Adding…' : 'Add record'}
        </button>
      </fieldset>
      {failure && <ErrorAlert>{failure}</ErrorAlert>}
      {saved && (
        <p className="alert success" role="status">
          Added “{saved}”.
        </p>
      )}
    </form>
  );
}

function RecordItem({ tenantId, member, row }: { tenantId: string; member: Member; row: RecordRow }) {
  const own = row.data.createdBy === member.uid;
  const editBlocked = blockReason(member, 'records', 'update', own);
  const deleteBlocked = blockReason(member, 'records', 'delete', own);
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [failure, setFailure] = useState<string | null>(null);
  const { busy, submitWith } = useSubmitOnce();
  const titleId = `record-${row.id}-title`;

  const remove = submitWith(async () => {
    setFailure(null);
    try {
      await deleteRecord(tenantId, row.id);
    } catch (error) {
      setFailure(refusal(error, deleteBlocked));
    }
    setConfirming(false);
  });

  if (editing) return <EditRecord tenantId={tenantId} row={row} blocked={editBlocked} onDone={() => setEditing(false)} />;
  // A role that can never change a record sees no controls; a status that blocks shows them off, with the reason above the list.
  const roleAllowsEdit = roleBlockReason(member, 'records', 'update', own) === null;
  const roleAllowsDelete = roleBlockReason(member, 'records', 'delete', own) === null;
  return (
    <li className="card record" aria-labelledby={titleId} data-record-id={row.id}>
      <div className="record-head">
        <h3 id={titleId}>{String(row.data.title)}</h3>
        <div className="actions">
          {roleAllowsEdit && (
            <button type="button" onClick={() => setEditing(true)} disabled={Boolean(editBlocked)} title={editBlocked ?? undefined} aria-describedby={titleId}>
              Edit
            </button>
          )}
          {roleAllowsDelete && (
            <button type="button" className="danger-outline" onClick={() => setConfirming(true)} disabled={Boolean(deleteBlocked)} title={deleteBlocked ?? undefined} aria-describedby={titleId}>
              Delete
            </button>
          )}
        </div>
      </div>
      {row.data.body && <p className="record-body">{String(row.data.body)}</p>}
      <p className="muted small">
        {own ? 'Yours' : 'By a teammate'} · updated {formatDateTime(row.data.updatedAt as Timestamp | null)}
      </p>
      {failure && <ErrorAlert>{failure}</ErrorAlert>}
      <ConfirmDialog open={confirming} title={`Delete “${row.data.title}”?`} confirmLabel="Delete record" danger busy={busy} onConfirm={remove} onClose={() => setConfirming(false)}>
        <p>The record is deleted for everyone in the organisation. This cannot be undone.</p>
      </ConfirmDialog>
    </li>
  );
}

function EditRecord({ tenantId, row, blocked, onDone }: { tenantId: string; row: RecordRow; blocked: string | null; onDone: () => void }) {
  const [title, setTitle] = useState(String(row.data.title));
  const [body, setBody] = useState(String(row.data.body ?? ''));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<string | null>(null);
  const { busy, submitWith } = useSubmitOnce();
  const form = useRef<HTMLFormElement>(null);

  const save = submitWith(async () => {
    setFailure(null);
    const fieldErrors = recordFieldErrors({ title, body });
    setErrors(fieldErrors);
    if (Object.keys(fieldErrors).length) return focusFirstInvalid(form.current);
    try {
      await updateRecord(tenantId, row.id, { title: title.trim(), body });
      onDone();
    } catch (error) {
      setFailure(refusal(error, blocked));
    }
  });

  return (
    <li className="card record editing" data-record-id={row.id}>
      <form ref={form} onSubmit={save} aria-label={`Edit ${row.data.title}`} noValidate>
        <Field label="Title" name="title" error={errors.title}>
          {(control) => <input {...control} autoFocus maxLength={400} value={title} onChange={(e) => setTitle(e.target.value)} />}
        </Field>
        <Field label="Text" name="body" optional error={errors.body}>
          {(control) => <textarea {...control} rows={4} value={body} onChange={(e) => setBody(e.target.value)} />}
        </Field>
        {failure && <ErrorAlert>{failure}</ErrorAlert>}
        <div className="actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save'}
          </button>
          <button type="button" onClick={onDone} disabled={busy}>
            Cancel
          </button>
        </div>
      </form>
    </li>
  );
}
