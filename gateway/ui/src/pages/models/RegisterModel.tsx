import { useState, type ReactNode } from 'react';
import { ApiError } from '../../api/client';
import { createModelVersion, createRegisteredModel, getRegisteredModel, searchRegisteredModels, type ModelVersion, type NewVersion } from '../../api/registry';
import { ErrorBox } from '../../components/ErrorBox';
import { hrefOf, paths } from '../../routing/route';
import { useAsync } from '../../util/useAsync';

/** The model is created on first use, then the version is added to it. */
export async function register(version: NewVersion): Promise<ModelVersion> {
  try {
    await getRegisteredModel(version.name);
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 404)) throw error;
    await createRegisteredModel(version.name);
  }
  return createModelVersion(version);
}

interface Props {
  source: string;
  runId?: string;
  modelId?: string;
  /** Suggested model name (the logged model's or folder's name). */
  suggestion: string;
  testId?: string;
}

function NameForm({ props, onDone }: { props: Props; onDone: (v: ModelVersion) => void }): ReactNode {
  const [name, setName] = useState(props.suggestion);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error | undefined>(undefined);
  const { data } = useAsync('register-names', (signal) => searchRegisteredModels({ filter: '', orderBy: ['name ASC'], pageSize: 1000 }, signal));
  const listId = `register-names-${props.testId ?? 'model'}`;
  return (
    <form
      className="toolbar"
      data-testid="register-form"
      onSubmit={(e) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        register({ name: name.trim(), source: props.source, runId: props.runId, modelId: props.modelId }).then(onDone, (err: unknown) => {
          setBusy(false);
          setError(err instanceof Error ? err : new Error(String(err)));
        });
      }}
    >
      <input value={name} onChange={(e) => setName(e.target.value)} list={listId} aria-label="Registered model name" placeholder="model name" autoFocus />
      <datalist id={listId}>
        {data?.models.map((m) => (
          <option key={m.name} value={m.name} />
        ))}
      </datalist>
      <button type="submit" disabled={busy || !name.trim()}>
        Register
      </button>
      {error && <ErrorBox error={error} />}
    </form>
  );
}

/** "Register model": adds this logged model or model folder as a new version of a registered model. */
export function RegisterModel(props: Props): ReactNode {
  const [open, setOpen] = useState(false);
  const [done, setDone] = useState<ModelVersion | undefined>(undefined);
  if (done) {
    return (
      <span data-testid="registered-version">
        Registered as{' '}
        <a href={hrefOf(paths.modelVersion(done.name, done.version))}>
          {done.name} version {done.version}
        </a>
      </span>
    );
  }
  if (!open) {
    return (
      <button type="button" onClick={() => setOpen(true)} data-testid={props.testId ?? 'register-model'}>
        Register model
      </button>
    );
  }
  return <NameForm props={props} onDone={setDone} />;
}
