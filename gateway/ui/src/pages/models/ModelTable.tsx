import type { ReactNode } from 'react';
import type { LoggedModel } from '../../api/types';
import { hrefOf, paths } from '../../routing/route';
import { formatNumber, formatTime } from '../../util/format';

/** The latest value of each metric key a logged model carries. */
export function latestMetrics(model: LoggedModel): Map<string, string> {
  const latest = new Map<string, { step: number; timestamp: number; value: string }>();
  for (const m of model.data?.metrics ?? []) {
    const seen = latest.get(m.key);
    if (!seen || m.step > seen.step || (m.step === seen.step && m.timestamp >= seen.timestamp)) {
      latest.set(m.key, { step: m.step, timestamp: m.timestamp, value: formatNumber(m.value) });
    }
  }
  return new Map([...latest].map(([k, v]) => [k, v.value]));
}

export function statusOf(model: LoggedModel): string {
  return model.info.status?.replace('LOGGED_MODEL_', '') ?? '';
}

/** Logged models with their type, source run, metrics and params; names open the model's page. */
export function ModelTable({ models, runNames }: { models: readonly LoggedModel[]; runNames?: ReadonlyMap<string, string> }): ReactNode {
  const metricKeys = [...new Set(models.flatMap((m) => (m.data?.metrics ?? []).map((x) => x.key)))].sort();
  const paramKeys = [...new Set(models.flatMap((m) => (m.data?.params ?? []).map((x) => x.key)))].sort();
  return (
    <div className="csv-scroll">
      <table className="grid" data-testid="logged-models">
        <thead>
          <tr>
            <th>Name</th>
            <th>Type</th>
            <th>Status</th>
            <th>Source run</th>
            <th>Created</th>
            {metricKeys.map((k) => <th key={`m:${k}`} className="kind-metric" title={`metric ${k}`}>{k}</th>)}
            {paramKeys.map((k) => <th key={`p:${k}`} className="kind-param" title={`param ${k}`}>{k}</th>)}
          </tr>
        </thead>
        <tbody>
          {models.map((model) => {
            const { info } = model;
            const metrics = latestMetrics(model);
            const params = new Map((model.data?.params ?? []).map((p) => [p.key, p.value]));
            return (
              <tr key={info.model_id} data-testid="logged-model-row">
                <td>
                  <a href={hrefOf(paths.loggedModel(info.experiment_id, info.model_id))}>{info.name}</a>
                </td>
                <td>{info.model_type || <span className="muted">not set</span>}</td>
                <td>{statusOf(model)}</td>
                <td>
                  {info.source_run_id ? (
                    <a href={hrefOf(paths.run(info.experiment_id, info.source_run_id))}>{runNames?.get(info.source_run_id) ?? info.source_run_id}</a>
                  ) : (
                    ''
                  )}
                </td>
                <td>{formatTime(info.creation_timestamp_ms)}</td>
                {metricKeys.map((k) => <td key={`m:${k}`} className="num">{metrics.get(k) ?? ''}</td>)}
                {paramKeys.map((k) => <td key={`p:${k}`}>{params.get(k) ?? ''}</td>)}
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
