import { useMemo, type ReactNode } from 'react';
import type { Run } from '../../../api/types';
import { useRunModels } from '../useRunModels';
import { ArtifactPreview } from './ArtifactPreview';
import { ArtifactTree } from './ArtifactTree';
import { RegisterModel } from '../../models/RegisterModel';
import { modelSource, runSource } from './source';

interface Props {
  run: Run;
  /** '' for the run's own artifacts, else a logged model id. */
  modelId: string;
  selected: string;
  onSelect: (path: string) => void;
  onModel: (modelId: string) => void;
}

function isModelFile(path: string): boolean {
  return path === 'MLmodel' || path.endsWith('/MLmodel');
}

/** An MLflow model folder in the run's artifacts (it holds an MLmodel file) may be registered. */
function RegisterFolder({ runId, file }: { runId: string; file: string }): ReactNode {
  const folder = file.slice(0, Math.max(file.lastIndexOf('/'), 0));
  return (
    <div className="toolbar" data-testid="register-folder">
      <span>
        Model folder <code>{folder || '/'}</code>
      </span>
      <RegisterModel source={`runs:/${runId}${folder ? `/${folder}` : ''}`} runId={runId} suggestion={folder.split('/').pop() || 'model'} testId="register-folder-model" />
    </div>
  );
}

/** A folder tree and a preview pane, over the run's artifacts or one of its logged models. */
export function ArtifactBrowser({ run, modelId, selected, onSelect, onModel }: Props): ReactNode {
  const runId = run.info.run_id;
  const models = useRunModels(run).data ?? [];
  const source = useMemo(() => (modelId ? modelSource(modelId) : runSource(runId)), [modelId, runId]);
  return (
    <div>
      {models.length > 0 && (
        <div className="toolbar">
          <label>
            browse{' '}
            <select value={modelId} onChange={(e) => onModel(e.target.value)} data-testid="artifact-source">
              <option value="">run artifacts</option>
              {models.map(({ info }) => (
                <option key={info.model_id} value={info.model_id}>
                  logged model: {info.name}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      <div className="artifacts">
        <div className="artifact-tree">
          <ArtifactTree key={source.id} source={source} path="" selected={selected} onSelect={onSelect} />
        </div>
        <div className="artifact-pane">
          {!modelId && isModelFile(selected) && <RegisterFolder key={selected} runId={runId} file={selected} />}
          {selected ? <ArtifactPreview source={source} path={selected} /> : <p className="muted">Select a file to preview it.</p>}
        </div>
      </div>
    </div>
  );
}
