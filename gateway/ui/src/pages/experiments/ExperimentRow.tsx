import type { ReactNode } from 'react';
import { deleteExperiment, renameExperiment, restoreExperiment } from '../../api/endpoints';
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
}

export function ExperimentRow({ experiment, selected, onToggle, onChanged, onError }: Props): ReactNode {
  const id = experiment.experiment_id;
  const active = experiment.lifecycle_stage === 'active';
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
        {active ? (
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
