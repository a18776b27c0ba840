import type { ReactNode } from 'react';
import { assessmentValue, type Assessment } from '../../api/traces';
import { formatTime } from '../../util/format';

function sourceOf(a: Assessment): string {
  const type = a.source?.source_type?.replace('SOURCE_TYPE_UNSPECIFIED', '') ?? '';
  return [type, a.source?.source_id].filter(Boolean).join(' · ');
}

function AssessmentRow({ assessment, onSpan }: { assessment: Assessment; onSpan: (spanId: string) => void }): ReactNode {
  const kind = assessment.feedback ? 'feedback' : 'expectation';
  const error = assessment.feedback?.error;
  const time = assessment.create_time ? Date.parse(assessment.create_time) : undefined;
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
      <td>{assessment.rationale}</td>
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
    </tr>
  );
}

/** Feedback and expectations logged on the trace; overridden ones stay listed, struck through. */
export function AssessmentsPanel({ assessments, onSpan }: { assessments: readonly Assessment[]; onSpan: (spanId: string) => void }): ReactNode {
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
            </tr>
          </thead>
          <tbody>
            {assessments.map((a, i) => (
              <AssessmentRow key={a.assessment_id ?? i} assessment={a} onSpan={onSpan} />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
