import type { ReactNode } from 'react';
import type { ModelVersion } from '../../api/registry';
import { hrefOf, paths } from '../../routing/route';
import { formatTime } from '../../util/format';

/** Every version of a model, newest first, with stage, aliases and source run. */
export function ModelVersionsTable({ versions, aliases }: { versions: readonly ModelVersion[]; aliases: readonly { alias: string; version: string }[] }): ReactNode {
  if (versions.length === 0) return <p className="muted">No versions yet: register one from a run's logged model or model folder.</p>;
  return (
    <table className="grid" data-testid="model-versions">
      <thead>
        <tr>
          <th>Version</th>
          <th>Aliases</th>
          <th>Stage</th>
          <th>Status</th>
          <th>Source run</th>
          <th>Created</th>
          <th>Description</th>
        </tr>
      </thead>
      <tbody>
        {versions.map((v) => {
          return (
            <tr key={v.version} data-testid="version-row" data-version={v.version}>
              <td>
                <a href={hrefOf(paths.modelVersion(v.name, v.version))}>version {v.version}</a>
              </td>
              <td>
                {aliases
                  .filter((a) => a.version === v.version)
                  .map((a) => `@${a.alias}`)
                  .join(' ')}
              </td>
              <td>{v.current_stage}</td>
              <td>{v.status}</td>
              <td className="mono">
                {v.run_id && <a href={hrefOf(paths.runById(v.run_id))}>{v.run_id}</a>}
              </td>
              <td>{formatTime(v.creation_timestamp)}</td>
              <td>{v.description}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
