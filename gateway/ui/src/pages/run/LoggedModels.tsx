import type { ReactNode } from 'react';
import type { Run } from '../../api/types';
import { hrefOf, paths } from '../../routing/route';
import { formatTime } from '../../util/format';
import { RegisterModel } from '../models/RegisterModel';
import { useRunModels } from './useRunModels';

/** Models this run logged (source_run_id) plus any recorded as its inputs or outputs. */
export function LoggedModels({ run }: { run: Run }): ReactNode {
  const { data, error } = useRunModels(run);
  const known = new Set(data?.map((m) => m.info.model_id));
  const linked = [
    ...(run.outputs?.model_outputs ?? []).map((m) => ({ id: m.model_id, role: `output (step ${m.step})` })),
    ...(run.inputs?.model_inputs ?? []).map((m) => ({ id: m.model_id, role: 'input' })),
  ].filter((m) => !known.has(m.id));
  if (error) return <p className="muted">Logged models unavailable: {error.message}</p>;
  if (!data) return <p className="muted">Loading models…</p>;
  if (data.length === 0 && linked.length === 0) return <p className="muted">No logged models.</p>;
  return (
    <table className="grid" data-testid="logged-models">
      <thead>
        <tr>
          <th>Name</th>
          <th>Model ID</th>
          <th>Type</th>
          <th>Status</th>
          <th>Created</th>
          <th>Registry</th>
        </tr>
      </thead>
      <tbody>
        {data.map(({ info }) => (
          <tr key={info.model_id}>
            <td>
              <a href={hrefOf(paths.loggedModel(info.experiment_id, info.model_id))}>{info.name}</a>
            </td>
            <td className="mono">{info.model_id}</td>
            <td>{info.model_type || <span className="muted">not set</span>}</td>
            <td>{info.status?.replace('LOGGED_MODEL_', '')}</td>
            <td>{formatTime(info.creation_timestamp_ms)}</td>
            <td>
              <RegisterModel source={`models:/${info.model_id}`} modelId={info.model_id} runId={run.info.run_id} suggestion={info.name} testId={`register-${info.name}`} />
            </td>
          </tr>
        ))}
        {linked.map((m) => (
          <tr key={`${m.id}-${m.role}`}>
            <td />
            <td className="mono">
              <a href={hrefOf(paths.loggedModel(run.info.experiment_id, m.id))}>{m.id}</a>
            </td>
            <td colSpan={4}>{m.role}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
