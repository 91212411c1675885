import type { ReactNode } from 'react';
import { formatStatus } from '../format';

/** Loading, empty and error states: one look and one way to announce them everywhere. */
export function Loading({ children = 'Loading…' }: { children?: ReactNode }) {
  return (
    <p className="state loading" role="status">
      <span className="spinner small" aria-hidden="true" />
      {children}
    </p>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state empty">
      <p className="state-title">{title}</p>
      {children && <div className="muted">{children}</div>}
    </div>
  );
}

export function ErrorAlert({ children, title }: { children: ReactNode; title?: string }) {
  return (
    <div className="alert error" role="alert">
      {title && <strong>{title} </strong>}
      {children}
    </div>
  );
}

export function StatusBadge({ status, label }: { status: string | undefined; label?: string }) {
  return (
    <span className={`badge status-${status}`} data-status={status}>
      {label ?? formatStatus(status)}
    </span>
  );
}
