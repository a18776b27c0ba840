import type { ReactNode } from 'react';
import { setRunTag } from '../../api/endpoints';
import type { Run } from '../../api/types';
import { EditableText } from '../../components/EditableText';
import { Markdown } from '../../markdown/Markdown';
import { useCan } from '../signin/access';
import { NOTE_TAG, tagValue } from './tags';

/** The run's markdown note (tag mlflow.note.content), rendered as React elements only. */
export function Description({ run, onChanged }: { run: Run; onChanged: () => void }): ReactNode {
  const note = tagValue(run, NOTE_TAG) ?? '';
  const canEdit = useCan('experiment', run.info.experiment_id, 'EDIT');
  return (
    <div className="description" data-testid="description">
      <EditableText
        value={note}
        multiline
        label="Description"
        readOnly={!canEdit}
        onSave={async (value) => {
          await setRunTag(run.info.run_id, NOTE_TAG, value);
          onChanged();
        }}
      >
        {note ? <Markdown source={note} /> : <span className="muted">No description.</span>}
      </EditableText>
    </div>
  );
}
