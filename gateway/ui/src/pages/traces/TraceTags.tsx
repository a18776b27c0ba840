import { useState, type FormEvent, type ReactNode } from 'react';
import { deleteTraceTag, setTraceTag } from './traceEdits';

/** The trace's own tags; with `canEdit`, each can be deleted and a tag set (added or replaced). */
export function TraceTags({ traceId, tags, canEdit, onChanged }: { traceId: string; tags: [string, string][]; canEdit: boolean; onChanged: () => void }): ReactNode {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const fail = (e: unknown): void => setError(e instanceof Error ? e.message : String(e));
  const submit = (e: FormEvent): void => {
    e.preventDefault();
    setError(undefined);
    setTraceTag(traceId, key.trim(), value).then(() => {
      setKey('');
      setValue('');
      onChanged();
    }, fail);
  };
  if (tags.length === 0 && !canEdit) return null;
  return (
    <div className="trace-tags" data-testid="trace-tags">
      {tags.map(([k, v]) => (
        <span key={k} className="trace-tag" data-testid="trace-tag" data-key={k}>
          {k}={v}
          {canEdit && (
            <button type="button" className="link" aria-label={`delete tag ${k}`} data-testid="trace-tag-delete" onClick={() => deleteTraceTag(traceId, k).then(onChanged, fail)}>
              ×
            </button>
          )}
        </span>
      ))}
      {canEdit && (
        <form className="tag-form" data-testid="trace-tag-form" onSubmit={submit}>
          <input aria-label="tag key" placeholder="key" data-testid="trace-tag-key" value={key} onChange={(e) => setKey(e.target.value)} required />
          <input aria-label="tag value" placeholder="value" data-testid="trace-tag-value" value={value} onChange={(e) => setValue(e.target.value)} />
          <button type="submit" disabled={!key.trim()} data-testid="trace-tag-submit">
            Set tag
          </button>
        </form>
      )}
      {error && (
        <span className="form-error" role="alert" data-testid="trace-tag-error">
          {error}
        </span>
      )}
    </div>
  );
}
