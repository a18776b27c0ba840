import { useState, type ReactNode } from 'react';

interface Props {
  value: string;
  onSave: (value: string) => Promise<void>;
  multiline?: boolean;
  label: string;
  children: ReactNode;
  /** Shows `children` without the Edit button (the user may not change it). */
  readOnly?: boolean;
}

/** Shows `children`; an Edit button swaps in an input that saves through `onSave`. */
export function EditableText({ value, onSave, multiline, label, children, readOnly }: Props): ReactNode {
  const [draft, setDraft] = useState<string | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [saving, setSaving] = useState(false);

  if (readOnly) return <span className="editable">{children}</span>;
  if (draft === undefined) {
    return (
      <span className="editable">
        {children}{' '}
        <button type="button" className="link" onClick={() => setDraft(value)} aria-label={`Edit ${label}`}>
          edit
        </button>
      </span>
    );
  }
  const save = async (): Promise<void> => {
    setSaving(true);
    setError(undefined);
    try {
      await onSave(draft);
      setDraft(undefined);
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setSaving(false);
    }
  };
  const common = {
    value: draft,
    'aria-label': label,
    onChange: (e: { target: { value: string } }) => setDraft(e.target.value),
  };
  return (
    <form
      className="editable editing"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      {multiline ? <textarea rows={8} {...common} /> : <input {...common} autoFocus />}
      <button type="submit" disabled={saving}>
        Save
      </button>
      <button type="button" onClick={() => setDraft(undefined)}>
        Cancel
      </button>
      {error && <span className="error">{error}</span>}
    </form>
  );
}
