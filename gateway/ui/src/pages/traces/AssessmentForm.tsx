import { useState, type FormEvent, type ReactNode } from 'react';
import type { AssessmentDraft, AssessmentKind } from './traceEdits';

const EMPTY: AssessmentDraft = { kind: 'feedback', name: '', value: '', rationale: '' };

/**
 * The fields of an assessment: kind and name (fixed once it exists, as MLflow keeps them), the
 * value (typed JSON or text) and the rationale. `onSubmit` rejects with the server's error, shown here.
 */
export function AssessmentForm({
  initial,
  fixedKind,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial?: AssessmentDraft;
  fixedKind?: boolean;
  submitLabel: string;
  onSubmit: (draft: AssessmentDraft) => Promise<void>;
  onCancel?: () => void;
}): ReactNode {
  const [draft, setDraft] = useState<AssessmentDraft>(initial ?? EMPTY);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const set = (field: keyof AssessmentDraft) => (e: { target: { value: string } }) => setDraft((d) => ({ ...d, [field]: e.target.value }));
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    onSubmit(draft).then(
      () => {
        setBusy(false);
        if (!initial) setDraft(EMPTY);
      },
      (err: unknown) => {
        setBusy(false);
        setError(err instanceof Error ? err.message : String(err));
      },
    );
  };
  return (
    <form className="assessment-form" data-testid={initial ? 'assessment-edit-form' : 'assessment-add-form'} onSubmit={submit}>
      <select aria-label="kind" data-testid="assessment-kind" value={draft.kind} disabled={fixedKind} onChange={(e) => setDraft((d) => ({ ...d, kind: e.target.value as AssessmentKind }))}>
        <option value="feedback">feedback</option>
        <option value="expectation">expectation</option>
      </select>
      <input aria-label="name" placeholder="name" data-testid="assessment-name" value={draft.name} onChange={set('name')} required />
      <input aria-label="value" placeholder='value (true, 0.8, "text")' data-testid="assessment-value-input" value={draft.value} onChange={set('value')} />
      <input aria-label="rationale" placeholder="rationale" data-testid="assessment-rationale" value={draft.rationale} onChange={set('rationale')} />
      <button type="submit" disabled={busy || !draft.name.trim()} data-testid="assessment-submit">
        {submitLabel}
      </button>
      {onCancel && (
        <button type="button" className="link" onClick={onCancel}>
          cancel
        </button>
      )}
      {error && (
        <span className="form-error" role="alert" data-testid="assessment-error">
          {error}
        </span>
      )}
    </form>
  );
}
