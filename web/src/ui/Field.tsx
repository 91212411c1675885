import { useId, type ReactNode } from 'react';

export interface ControlProps {
  id: string;
  name: string;
  'aria-invalid'?: true;
  'aria-describedby'?: string;
}

/**
 * A labelled form control with its hint and its error beside it: the error is tied to the control
 * (aria-describedby, aria-invalid), so a screen reader reads it with the field and CSS can mark it.
 */
export function Field({
  label,
  name,
  error,
  hint,
  optional,
  className,
  children,
}: {
  label: ReactNode;
  name: string;
  error?: string;
  hint?: ReactNode;
  optional?: boolean;
  className?: string;
  children: (control: ControlProps) => ReactNode;
}) {
  const id = `${name.replace(/\W/g, '-')}-${useId().replace(/:/g, '')}`;
  const hintId = hint ? `${id}-hint` : undefined;
  const errorId = error ? `${id}-error` : undefined;
  const describedBy = [errorId, hintId].filter(Boolean).join(' ') || undefined;
  return (
    <div className={`field${className ? ` ${className}` : ''}`}>
      <label htmlFor={id}>
        {label}
        {optional && <span className="optional">optional</span>}
      </label>
      {children({ id, name, 'aria-invalid': error ? true : undefined, 'aria-describedby': describedBy })}
      {error && (
        <span id={errorId} className="field-error">
          {error}
        </span>
      )}
      {hint && (
        <span id={hintId} className="hint">
          {hint}
        </span>
      )}
    </div>
  );
}

/**
 * After a refused submit, the first field marked invalid takes the focus, so a keyboard user lands on
 * what to fix. The marks appear with React's next render: look for them over the next few frames.
 */
export function focusFirstInvalid(form: HTMLElement | null, frames = 10): void {
  requestAnimationFrame(() => {
    const invalid = form?.querySelector<HTMLElement>('[aria-invalid="true"]');
    if (invalid) invalid.focus();
    else if (frames > 1) focusFirstInvalid(form, frames - 1);
  });
}
