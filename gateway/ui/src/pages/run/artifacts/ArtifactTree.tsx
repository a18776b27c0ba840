import { useState, type ReactNode } from 'react';
import { formatBytes } from '../../../util/format';
import { useAsync } from '../../../util/useAsync';
import type { ArtifactSource } from './source';

interface Props {
  source: ArtifactSource;
  path: string;
  selected: string;
  onSelect: (path: string) => void;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}

function Folder({ source, path, selected, onSelect }: Props): ReactNode {
  const [open, setOpen] = useState(selected.startsWith(`${path}/`));
  return (
    <li>
      <button type="button" className="tree-node folder" onClick={() => setOpen(!open)} aria-expanded={open}>
        {open ? '▾' : '▸'} {baseName(path)}
      </button>
      {open && <ArtifactTree source={source} path={path} selected={selected} onSelect={onSelect} />}
    </li>
  );
}

/** One folder level, listed lazily; sub-folders load when opened. */
export function ArtifactTree({ source, path, selected, onSelect }: Props): ReactNode {
  const { data, error } = useAsync(`${source.id}/${path}`, (signal) => source.list(path, signal));
  if (error) return <p className="error">{error.message}</p>;
  if (!data) return <p className="muted">Loading…</p>;
  if (data.length === 0 && !path) return <p className="muted">No artifacts.</p>;
  const sorted = [...data].sort((a, b) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path));
  return (
    <ul className="tree" data-testid={path ? undefined : 'artifact-tree'}>
      {sorted.map((file) =>
        file.is_dir ? (
          <Folder key={file.path} source={source} path={file.path} selected={selected} onSelect={onSelect} />
        ) : (
          <li key={file.path}>
            <button
              type="button"
              className={file.path === selected ? 'tree-node file selected' : 'tree-node file'}
              onClick={() => onSelect(file.path)}
              data-testid="artifact-file"
              data-path={file.path}
            >
              {baseName(file.path)} <span className="muted">{formatBytes(file.file_size)}</span>
            </button>
          </li>
        ),
      )}
    </ul>
  );
}
