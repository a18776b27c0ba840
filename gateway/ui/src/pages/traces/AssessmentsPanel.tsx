import { useState, type ReactNode } from 'react';
import { assessmentValue, type Assessment } from '../../api/traces';
import { formatTime } from '../../util/format';
import { AssessmentForm } from './AssessmentForm';
import { createAssessment, deleteAssessment, draftOf, updateAssessment, type AssessmentDraft } from './traceEdits';

function sourceOf(a: Assessment): string {
  const type = a.source?.source_type?.replace('SOURCE_TYPE_UNSPECIFIED', '') ?? '';
  return [type, a.source?.source_id].filter(Boolean).join(' · ');
}

interface Editing {
  /** Null while the user may only read. */
  edit: null | {
    onSave: (a: Assessment, draft: AssessmentDraft) => Promise<void>;
    onDelete: (a: Assessment) => Promise<void>;
  };
}

function RowActions({ assessment, editing, onEdit }: { assessment: Assessment; editing: Editing; onEdit: () => void }): ReactNode {
  const [error, setError] = useState<string | undefined>(undefined);
  if (!editing.edit || !assessment.assessment_id || assessment.valid === false) return null;
  const remove = editing.edit.onDelete;
  return (
    <td className="row-actions">
      <button type="button" className="link" data-testid="assessment-edit" onClick={onEdit}>
        edit
      </button>{' '}
      <button type="button" className="link danger" data-testid="assessment-delete" onClick={() => remove(assessment).catch((e: unknown) => setError(String(e)))}>
        delete
      </button>
      {error && <span className="form-error">{error}</span>}
    </td>
  );
}

function AssessmentRow({ assessment, onSpan, editing }: { assessment: Assessment; onSpan: (spanId: string) => void; editing: Editing }): ReactNode {
  const [open, setOpen] = useState(false);
  const kind = assessment.feedback ? 'feedback' : 'expectation';
  const error = assessment.feedback?.error;
  const time = assessment.create_time ? Date.parse(assessment.create_time) : undefined;
  if (open && editing.edit) {
    const save = editing.edit.onSave;
    return (
      <tr data-testid="assessment-row" data-name={assessment.assessment_name}>
        <td colSpan={7}>
          <AssessmentForm initial={draftOf(assessment)} fixedKind submitLabel="Save" onCancel={() => setOpen(false)} onSubmit={(d) => save(assessment, d).then(() => setOpen(false))} />
        </td>
      </tr>
    );
  }
  return (
    <tr data-testid="assessment-row" data-name={assessment.assessment_name} className={assessment.valid === false ? 'overridden' : undefined}>
      <td>
        <span className={`assessment-kind kind-${kind}`}>{kind}</span>
      </td>
      <th>{assessment.assessment_name}</th>
      <td className="mono" data-testid="assessment-value">
        {assessmentValue(assessment)}
        {error && <div className="span-exception">{error.error_code}: {error.error_message}</div>}
      </td>
      <td data-testid="assessment-rationale-text">{assessment.rationale}</td>
      <td>{sourceOf(assessment)}</td>
      <td>
        {time && !Number.isNaN(time) ? formatTime(time) : ''}
        {assessment.span_id && (
          <>
            {' '}
            <button type="button" className="link" onClick={() => onSpan(assessment.span_id ?? '')}>
              span
            </button>
          </>
        )}
      </td>
      <RowActions assessment={assessment} editing={editing} onEdit={() => setOpen(true)} />
    </tr>
  );
}

/**
 * Feedback and expectations logged on the trace; overridden ones stay listed, struck through.
 * With `canEdit` (EDIT on the experiment) they can be added, edited and deleted; `onChanged`
 * refetches the trace so the panel shows what the server stored.
 */
export function AssessmentsPanel({
  traceId,
  assessments,
  onSpan,
  canEdit = false,
  sourceId = 'ui',
  onChanged,
}: {
  traceId: string;
  assessments: readonly Assessment[];
  onSpan: (spanId: string) => void;
  canEdit?: boolean;
  sourceId?: string;
  onChanged?: () => void;
}): ReactNode {
  const changed = (): void => onChanged?.();
  const editing: Editing = {
    edit: canEdit
      ? {
          onSave: (a, draft) => updateAssessment(traceId, a.assessment_id ?? '', draft).then(changed),
          onDelete: (a) => deleteAssessment(traceId, a.assessment_id ?? '').then(changed),
        }
      : null,
  };
  return (
    <section className="assessments" data-testid="assessments">
      <h2>Assessments ({assessments.filter((a) => a.valid !== false).length})</h2>
      {assessments.length === 0 ? (
        <p className="muted">No feedback or expectations on this trace.</p>
      ) : (
        <table className="grid">
          <thead>
            <tr>
              <th>kind</th>
              <th>name</th>
              <th>value</th>
              <th>rationale</th>
              <th>source</th>
              <th>logged</th>
              {canEdit && <th />}
            </tr>
          </thead>
          <tbody>
            {assessments.map((a, i) => (
              <AssessmentRow key={a.assessment_id ?? i} assessment={a} onSpan={onSpan} editing={editing} />
            ))}
          </tbody>
        </table>
      )}
      {canEdit && <AssessmentForm submitLabel="Add assessment" onSubmit={(d) => createAssessment(traceId, d, sourceId).then(changed)} />}
    </section>
  );
}
