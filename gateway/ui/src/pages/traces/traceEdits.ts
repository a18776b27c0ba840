// Writes the trace view makes: assessments (MLflow 3's create / update / delete routes) and trace
// tags (v3 PATCH / DELETE .../tags). The caller refetches the trace info afterwards, so what the
// page shows is always what the server stored.
import { send } from '../../api/client';
import type { Assessment } from '../../api/traces';

const API3 = 'ajax-api/3.0/mlflow/traces/';

export type AssessmentKind = 'feedback' | 'expectation';

export interface AssessmentDraft {
  kind: AssessmentKind;
  name: string;
  /** As typed: JSON (true, 0.8, {"a": 1}) is sent as that value, anything else as a string. */
  value: string;
  rationale: string;
}

/** The typed text as the value MLflow stores: JSON when it parses, else the text itself. */
export function parseValue(text: string): unknown {
  const trimmed = text.trim();
  if (trimmed === '') return '';
  try {
    return JSON.parse(trimmed) as unknown;
  } catch {
    return text;
  }
}

function request(method: string, path: string, body: unknown): Promise<unknown> {
  return send(`${API3}${path}`, { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
}

function valueField(draft: AssessmentDraft): Pick<Assessment, 'feedback' | 'expectation'> {
  const value = parseValue(draft.value);
  return draft.kind === 'feedback' ? { feedback: { value } } : { expectation: { value } };
}

export async function createAssessment(traceId: string, draft: AssessmentDraft, sourceId: string): Promise<void> {
  const assessment: Assessment = {
    trace_id: traceId,
    assessment_name: draft.name.trim(),
    source: { source_type: 'HUMAN', source_id: sourceId },
    ...valueField(draft),
    ...(draft.rationale ? { rationale: draft.rationale } : {}),
  };
  await request('POST', `${encodeURIComponent(traceId)}/assessments`, { assessment });
}

export async function updateAssessment(traceId: string, assessmentId: string, draft: AssessmentDraft): Promise<void> {
  const assessment = { trace_id: traceId, assessment_id: assessmentId, assessment_name: draft.name.trim(), rationale: draft.rationale, ...valueField(draft) };
  const path = `${encodeURIComponent(traceId)}/assessments/${encodeURIComponent(assessmentId)}`;
  await request('PATCH', path, { assessment, update_mask: `assessmentName,${draft.kind},rationale` });
}

export async function deleteAssessment(traceId: string, assessmentId: string): Promise<void> {
  await request('DELETE', `${encodeURIComponent(traceId)}/assessments/${encodeURIComponent(assessmentId)}`, {});
}

export async function setTraceTag(traceId: string, key: string, value: string): Promise<void> {
  await request('PATCH', `${encodeURIComponent(traceId)}/tags`, { key, value });
}

export async function deleteTraceTag(traceId: string, key: string): Promise<void> {
  await request('DELETE', `${encodeURIComponent(traceId)}/tags`, { key });
}

/** The draft an existing assessment starts its edit from. */
export function draftOf(a: Assessment): AssessmentDraft {
  const kind: AssessmentKind = a.expectation ? 'expectation' : 'feedback';
  const value = kind === 'feedback' ? a.feedback?.value : a.expectation?.value;
  const text = value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value);
  return { kind, name: a.assessment_name, value: text, rationale: a.rationale ?? '' };
}
