import { useEffect, useRef, type FormEvent, type ReactNode } from 'react';

/**
 * A modal confirmation (native <dialog>: focus stays inside, Escape cancels, focus returns to the
 * button that opened it). The caller renders the fields; `onConfirm` runs on submit.
 */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  busy,
  danger,
  onConfirm,
  onClose,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  busy?: boolean;
  danger?: boolean;
  onConfirm: (event: FormEvent<HTMLFormElement>) => void;
  onClose: () => void;
}) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    if (!element) return;
    if (open && !element.open) element.showModal();
    if (!open && element.open) element.close();
  }, [open]);
  const titleId = `${title.replace(/\W+/g, '-').toLowerCase()}-title`;
  return (
    <dialog ref={dialog} className="dialog" aria-labelledby={titleId} onClose={onClose} onCancel={(event) => busy && event.preventDefault()}>
      {open && (
        <form method="dialog" onSubmit={(event) => { event.preventDefault(); onConfirm(event); }} noValidate>
          <h2 id={titleId}>{title}</h2>
          {children}
          <div className="actions end">
            <button type="button" onClick={onClose} disabled={busy}>
              Cancel
            </button>
            <button type="submit" className={danger ? 'danger' : 'primary'} disabled={busy}>
              {busy ? 'Working…' : confirmLabel}
            </button>
          </div>
        </form>
      )}
    </dialog>
  );
}
