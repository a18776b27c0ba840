import { useState, type ReactNode } from 'react';
import { deleteAlias, setAlias, type ModelVersion, type RegisteredModel } from '../../api/registry';
import { ErrorBox } from '../../components/ErrorBox';
import { hrefOf, paths } from '../../routing/route';

interface Props {
  model: RegisteredModel;
  versions: readonly ModelVersion[];
  canEdit: boolean;
  canManage: boolean;
  onChanged: () => void;
}

/** `@alias → version`: set (EDIT) or move an alias, delete it (MANAGE). */
export function ModelAliases({ model, versions, canEdit, canManage, onChanged }: Props): ReactNode {
  const [alias, setAliasName] = useState('');
  const [version, setVersion] = useState('');
  const [error, setError] = useState<Error | undefined>(undefined);
  const fail = (e: unknown): void => setError(e instanceof Error ? e : new Error(String(e)));
  const aliases = model.aliases ?? [];
  const chosen = version || versions[0]?.version || '';
  return (
    <div data-testid="model-aliases">
      {aliases.length === 0 && <p className="muted">No aliases.</p>}
      {aliases.length > 0 && (
        <table className="grid">
          <tbody>
            {aliases.map((a) => (
              <tr key={a.alias} data-testid="alias-row" data-alias={a.alias}>
                <th>@{a.alias}</th>
                <td>
                  <a href={hrefOf(paths.modelVersion(model.name, a.version))}>version {a.version}</a>
                </td>
                {canManage && (
                  <td>
                    <button type="button" className="link" onClick={() => deleteAlias(model.name, a.alias).then(onChanged, fail)}>
                      remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {canEdit && versions.length > 0 && (
        <form
          className="toolbar"
          onSubmit={(e) => {
            e.preventDefault();
            setError(undefined);
            setAlias(model.name, alias.trim().replace(/^@/, ''), chosen).then(() => {
              setAliasName('');
              onChanged();
            }, fail);
          }}
        >
          <input value={alias} onChange={(e) => setAliasName(e.target.value)} placeholder="alias, e.g. champion" aria-label="Alias" />
          <select value={chosen} onChange={(e) => setVersion(e.target.value)} aria-label="Alias version">
            {versions.map((v) => (
              <option key={v.version} value={v.version}>
                version {v.version}
              </option>
            ))}
          </select>
          <button type="submit" disabled={!alias.trim()}>
            Set alias
          </button>
        </form>
      )}
      {error && <ErrorBox error={error} />}
    </div>
  );
}
