import type { ReactNode } from 'react';
import type { Experiment } from '../../api/types';
import { KeyValueTable } from '../../components/KeyValueTable';
import { Markdown } from '../../markdown/Markdown';
import { formatTime } from '../../util/format';

/** The experiment's description (`mlflow.note.content`), details and tags. */
export function ExperimentAbout({ experiment }: { experiment: Experiment }): ReactNode {
  const tags = (experiment.tags ?? []).filter((t) => t.key !== 'mlflow.note.content');
  const description = experiment.tags?.find((t) => t.key === 'mlflow.note.content')?.value;
  return (
    <details className="experiment-about" data-testid="experiment-about" open={Boolean(description)}>
      <summary>
        About this experiment{description ? '' : ' (no description)'} · {tags.length} {tags.length === 1 ? 'tag' : 'tags'}
      </summary>
      <div className="description" data-testid="experiment-description">
        {description ? <Markdown source={description} /> : <p className="muted">No description. Set the tag mlflow.note.content to add one.</p>}
      </div>
      <KeyValueTable
        rows={[
          { key: 'Experiment ID', value: experiment.experiment_id, text: experiment.experiment_id },
          { key: 'Artifact location', value: experiment.artifact_location ?? '', text: experiment.artifact_location ?? '' },
          { key: 'Created', value: formatTime(experiment.creation_time), text: formatTime(experiment.creation_time) },
          ...tags.map((t) => ({ key: t.key, value: t.value, text: t.value })),
        ]}
        empty="No tags."
        testId="experiment-tags"
      />
    </details>
  );
}
