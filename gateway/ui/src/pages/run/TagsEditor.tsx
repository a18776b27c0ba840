import { useState, type ReactNode } from 'react';
import { deleteRunTag, setRunTag } from '../../api/endpoints';
import type { KeyValue, Run } from '../../api/types';
import { EditableText } from '../../components/EditableText';
import { ErrorBox } from '../../components/ErrorBox';
import { useCan } from '../signin/access';
import { splitTags } from './tags';

interface Props {
  run: Run;
  onChanged: () => void;
}

function TagRow({ runId, tag, onChanged, onError, canEdit }: { runId: string; tag: KeyValue; onChanged: () => void; onError: (e: Error) => void; canEdit: boolean }): ReactNode {
  return (
    <tr>
      <th>{tag.key}</th>
      <td>
        <EditableText
          value={tag.value}
          label={`Tag ${tag.key}`}
          readOnly={!canEdit}
          onSave={async (value) => {
            await setRunTag(runId, tag.key, value);
            onChanged();
          }}
        >
          {tag.value}
        </EditableText>
      </td>
      <td>
        {canEdit && (
          <button
            type="button"
            className="link"
            onClick={() => deleteRunTag(runId, tag.key).then(onChanged, (e: unknown) => onError(e instanceof Error ? e : new Error(String(e))))}
          >
            remove
          </button>
        )}
      </td>
    </tr>
  );
}

function AddTag({ runId, onChanged, onError }: { runId: string; onChanged: () => void; onError: (e: Error) => void }): ReactNode {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  return (
    <form
      className="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        setRunTag(runId, key.trim(), value).then(
          () => {
            setKey('');
            setValue('');
            onChanged();
          },
          (err: unknown) => onError(err instanceof Error ? err : new Error(String(err))),
        );
      }}
    >
      <input value={key} onChange={(e) => setKey(e.target.value)} placeholder="key" aria-label="New tag key" />
      <input value={value} onChange={(e) => setValue(e.target.value)} placeholder="value" aria-label="New tag value" />
      <button type="submit" disabled={!key.trim()}>
        Add tag
      </button>
    </form>
  );
}

/** User tags are editable; system (mlflow.*) tags are listed read-only below them. */
export function TagsEditor({ run, onChanged }: Props): ReactNode {
  const [error, setError] = useState<Error | undefined>(undefined);
  const { user, system } = splitTags(run.data.tags);
  const canEdit = useCan('experiment', run.info.experiment_id, 'EDIT');
  const changed = (): void => {
    setError(undefined);
    onChanged();
  };
  return (
    <div data-testid="tags">
      {user.length > 0 && (
        <table className="grid kv">
          <tbody>
            {user.map((tag) => (
              <TagRow key={tag.key} runId={run.info.run_id} tag={tag} onChanged={changed} onError={setError} canEdit={canEdit} />
            ))}
          </tbody>
        </table>
      )}
      {canEdit && run.info.lifecycle_stage === 'active' && <AddTag runId={run.info.run_id} onChanged={changed} onError={setError} />}
      {error && <ErrorBox error={error} />}
      {system.length > 0 && (
        <details>
          <summary>System tags ({system.length})</summary>
          <table className="grid kv">
            <tbody>
              {system.map((tag) => (
                <tr key={tag.key}>
                  <th>{tag.key}</th>
                  <td className="pre">{tag.value}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </details>
      )}
    </div>
  );
}
