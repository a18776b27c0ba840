import { useState, type ReactNode } from 'react';
import { createExperiment } from '../../api/endpoints';

export function CreateExperiment({ onCreated }: { onCreated: (id: string) => void }): ReactNode {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  return (
    <form
      className="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        setError(undefined);
        createExperiment(name.trim()).then(
          (id) => {
            setName('');
            onCreated(id);
          },
          (err: unknown) => setError(err instanceof Error ? err.message : String(err)),
        );
      }}
    >
      <input value={name} onChange={(e) => setName(e.target.value)} placeholder="New experiment name" aria-label="New experiment name" />
      <button type="submit" disabled={!name.trim()}>
        Create
      </button>
      {error && <span className="error">{error}</span>}
    </form>
  );
}
