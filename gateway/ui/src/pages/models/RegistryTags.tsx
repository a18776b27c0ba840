import { useState, type ReactNode } from 'react';
import type { KeyValue } from '../../api/types';
import { EditableText } from '../../components/EditableText';
import { ErrorBox } from '../../components/ErrorBox';

interface Props {
  tags: readonly KeyValue[];
  canEdit: boolean;
  canDelete: boolean;
  onSet: (key: string, value: string) => Promise<void>;
  onDelete: (key: string) => Promise<void>;
  testId: string;
}

/** Tags of a registered model or version: edit values, add, remove (as the user's level allows). */
export function RegistryTags({ tags, canEdit, canDelete, onSet, onDelete, testId }: Props): ReactNode {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [error, setError] = useState<Error | undefined>(undefined);
  const fail = (e: unknown): void => setError(e instanceof Error ? e : new Error(String(e)));
  return (
    <div data-testid={testId}>
      {tags.length === 0 && <p className="muted">No tags.</p>}
      {tags.length > 0 && (
        <table className="grid kv">
          <tbody>
            {tags.map((tag) => (
              <tr key={tag.key} data-testid="tag-row" data-key={tag.key}>
                <th>{tag.key}</th>
                <td>
                  <EditableText value={tag.value} label={`Tag ${tag.key}`} readOnly={!canEdit} onSave={(v) => onSet(tag.key, v)}>
                    {tag.value}
                  </EditableText>
                </td>
                {canDelete && (
                  <td>
                    <button type="button" className="link" onClick={() => onDelete(tag.key).catch(fail)}>
                      remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canEdit && (
        <form
          className="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            setError(undefined);
            onSet(key.trim(), value).then(() => {
              setKey('');
              setValue('');
            }, fail);
          }}
        >
          <input value={key} onChange={(e) => setKey(e.target.value)} placeholder="key" aria-label="New tag key" />
          <input value={value} onChange={(e) => setValue(e.target.value)} placeholder="value" aria-label="New tag value" />
          <button type="submit" disabled={!key.trim()}>
            Add tag
          </button>
        </form>
      )}
      {error && <ErrorBox error={error} />}
    </div>
  );
}
