import type { ReactNode } from 'react';
import { ArtifactPreview } from './ArtifactPreview';
import { ArtifactTree } from './ArtifactTree';

interface Props {
  runId: string;
  selected: string;
  onSelect: (path: string) => void;
}

export function ArtifactBrowser({ runId, selected, onSelect }: Props): ReactNode {
  return (
    <div className="artifacts">
      <div className="artifact-tree">
        <ArtifactTree runId={runId} path="" selected={selected} onSelect={onSelect} />
      </div>
      <div className="artifact-pane">
        {selected ? <ArtifactPreview runId={runId} path={selected} /> : <p className="muted">Select a file to preview it.</p>}
      </div>
    </div>
  );
}
