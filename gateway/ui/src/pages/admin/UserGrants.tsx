import { useState, type ReactNode } from 'react';
import { changeGrant, grant, LEVELS, listGrants, revoke, type Grant, type Level, type ResourceType, type User } from '../../api/auth';
import { searchExperiments } from '../../api/endpoints';
import { searchRegisteredModels } from '../../api/registry';
import { ErrorBox } from '../../components/ErrorBox';
import { hrefOf, paths } from '../../routing/route';
import { useAsync } from '../../util/useAsync';
import { forgetAccess } from '../signin/access';
import { toError } from './errors';

const TYPES: { value: ResourceType; label: string }[] = [
  { value: 'experiment', label: 'experiment' },
  { value: 'registered_model', label: 'registered model' },
];

function LevelSelect({ value, onChange, label }: { value: Level; onChange: (level: Level) => void; label: string }): ReactNode {
  return (
    <select value={value} onChange={(e) => onChange(e.target.value as Level)} aria-label={label}>
      {LEVELS.map((level) => (
        <option key={level} value={level}>
          {level}
        </option>
      ))}
    </select>
  );
}

function resourceLink(g: Grant): ReactNode {
  const href = g.resource_type === 'experiment' ? hrefOf(paths.experiment(g.resource_pattern)) : hrefOf(paths.registeredModel(g.resource_pattern));
  return <a href={href}>{g.resource_pattern}</a>;
}

function GrantForm({ username, onGranted }: { username: string; onGranted: (error?: Error) => void }): ReactNode {
  const [type, setType] = useState<ResourceType>('experiment');
  const [resource, setResource] = useState('');
  const [level, setLevel] = useState<Level>('READ');
  const { data: experiments } = useAsync('grant-experiments', (signal) => searchExperiments({ viewType: 'ACTIVE_ONLY' }, signal));
  const { data: models } = useAsync(`grant-models:${type}`, (signal) =>
    type === 'registered_model' ? searchRegisteredModels({ filter: '', orderBy: ['name ASC'], pageSize: 1000 }, signal) : Promise.resolve(undefined),
  );
  return (
    <form
      className="toolbar"
      data-testid="grant-form"
      onSubmit={(e) => {
        e.preventDefault();
        grant(username, type, resource.trim(), level).then(
          () => {
            setResource('');
            onGranted();
          },
          (err: unknown) => onGranted(toError(err)),
        );
      }}
    >
      <select value={type} onChange={(e) => setType(e.target.value as ResourceType)} aria-label="Resource type">
        {TYPES.map((t) => (
          <option key={t.value} value={t.value}>
            {t.label}
          </option>
        ))}
      </select>
      <input
        value={resource}
        onChange={(e) => setResource(e.target.value)}
        placeholder={type === 'experiment' ? 'experiment id' : 'model name'}
        aria-label="Resource"
        list={type === 'experiment' ? 'grant-experiment-ids' : 'grant-model-names'}
      />
      <datalist id="grant-experiment-ids">
        {experiments?.experiments.map((x) => (
          <option key={x.experiment_id} value={x.experiment_id}>
            {x.name}
          </option>
        ))}
      </datalist>
      <datalist id="grant-model-names">
        {models?.models.map((m) => (
          <option key={m.name} value={m.name} />
        ))}
      </datalist>
      <LevelSelect value={level} onChange={setLevel} label="Permission to grant" />
      <button type="submit" disabled={!resource.trim()}>
        Grant
      </button>
    </form>
  );
}

/** One user's grants on experiments and registered models: grant, change, revoke. */
export function UserGrants({ user }: { user: User }): ReactNode {
  const { data, error, reload } = useAsync(user.username, (signal) => listGrants(user.username, signal));
  const [actionError, setActionError] = useState<Error | undefined>(undefined);
  const done = (err?: Error): void => {
    setActionError(err);
    forgetAccess();
    reload();
  };
  const act = (action: Promise<void>): void => {
    action.then(() => done(), (e: unknown) => done(toError(e)));
  };
  return (
    <section data-testid="user-grants" data-username={user.username}>
      <h2>Permissions of {user.username}</h2>
      {user.is_admin && <p className="muted">An administrator may do everything; grants matter only if the flag is removed.</p>}
      {error && <ErrorBox error={error} />}
      {actionError && <ErrorBox error={actionError} />}
      <GrantForm username={user.username} onGranted={done} />
      {data && data.grants.length === 0 && <p className="muted">No grants: the server's default permission applies.</p>}
      {data && data.grants.length > 0 && (
        <table className="grid" data-testid="grants">
          <thead>
            <tr>
              <th>Type</th>
              <th>Resource</th>
              <th>Permission</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.grants.map((g) => (
              <tr key={`${g.resource_type}:${g.resource_pattern}`} data-testid="grant-row" data-resource={g.resource_pattern}>
                <td>{g.resource_type === 'experiment' ? 'experiment' : 'registered model'}</td>
                <td>{resourceLink(g)}</td>
                <td>
                  <LevelSelect
                    value={g.permission}
                    label={`Permission on ${g.resource_pattern}`}
                    onChange={(level) => act(changeGrant(user.username, g.resource_type, g.resource_pattern, level))}
                  />
                </td>
                <td>
                  <button type="button" onClick={() => act(revoke(user.username, g.resource_type, g.resource_pattern))}>
                    Revoke
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
