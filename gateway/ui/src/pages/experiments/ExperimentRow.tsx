import type { ReactNode } from 'react';
import { deleteExperiment, renameExperiment, restoreExperiment } from '../../api/endpoints';
import { rankOf, type Level } from '../../api/auth';
import type { Experiment } from '../../api/types';
import { EditableText } from '../../components/EditableText';
import { hrefOf, paths } from '../../routing/route';
import { formatTime } from '../../util/format';

interface Props {
  experiment: Experiment;
  selected: boolean;
  onToggle: () => void;
  onChanged: () => void;
  onError: (error: Error) => void;
  /** The user's level on this experiment: rename needs EDIT, delete and restore MANAGE. */
  level?: Level;
}

export function ExperimentRow({ experiment, selected, onToggle, onChanged, onError, level }: Props): ReactNode {
  const id = experiment.experiment_id;
  const active = experiment.lifecycle_stage === 'active';
  const rank = level ? rankOf(level) : -1;
  const act = (action: () => Promise<void>): void => {
    action().then(onChanged, (e: unknown) => onError(e instanceof Error ? e : new Error(String(e))));
  };
  return (
    <tr data-testid="experiment-row" className={active ? undefined : 'deleted'}>
      <td>
        <input type="checkbox" checked={selected} onChange={onToggle} aria-label={`Select ${experiment.name}`} />
      </td>
      <td>
        <EditableText
          value={experiment.name}
          label="Experiment name"
          readOnly={rank < rankOf('EDIT')}
          onSave={async (name) => {
            await renameExperiment(id, name);
            onChanged();
          }}
        >
          <a href={hrefOf(paths.experiment(id))}>{experiment.name}</a>
        </EditableText>
      </td>
      <td>{id}</td>
      <td>{formatTime(experiment.creation_time)}</td>
      <td>{formatTime(experiment.last_update_time)}</td>
      <td>
        {rank < rankOf('MANAGE') ? null : active ? (
          <button type="button" onClick={() => act(() => deleteExperiment(id))}>
            Delete
          </button>
        ) : (
          <button type="button" onClick={() => act(() => restoreExperiment(id))}>
            Restore
          </button>
        )}
      </td>
    </tr>
  );
}
