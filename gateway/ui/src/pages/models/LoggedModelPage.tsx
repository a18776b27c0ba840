import { useMemo, type ReactNode } from 'react';
import { getExperiment, getLoggedModel } from '../../api/endpoints';
import { ErrorBox } from '../../components/ErrorBox';
import { KeyValueTable } from '../../components/KeyValueTable';
import { hrefOf, paths } from '../../routing/route';
import { useLocation } from '../../routing/useLocation';
import { formatTime } from '../../util/format';
import { useAsync } from '../../util/useAsync';
import { ArtifactPreview } from '../run/artifacts/ArtifactPreview';
import { ArtifactTree } from '../run/artifacts/ArtifactTree';
import { modelSource } from '../run/artifacts/source';
import { latestMetrics, statusOf } from './ModelTable';
import { RegisterModel } from './RegisterModel';

/** A logged model (MLflow 3): its type, source run, metrics, params, tags and artifacts. */
export function LoggedModelPage({ experimentId, modelId }: { experimentId: string; modelId: string }): ReactNode {
  const { query, setQuery } = useLocation();
  const { data: model, error } = useAsync(modelId, (signal) => getLoggedModel(modelId, signal));
  const { data: experiment } = useAsync(experimentId, (signal) => getExperiment(experimentId, signal));
  const source = useMemo(() => modelSource(modelId), [modelId]);
  if (error) return <ErrorBox error={error} />;
  if (!model) return <p>Loading logged model…</p>;
  const { info } = model;
  const selected = query.get('path') ?? '';
  const metrics = [...latestMetrics(model)].map(([key, value]) => ({ key, value, text: value }));
  return (
    <section className="model-page">
      <p className="crumbs">
        <a href={hrefOf(paths.experiments())}>Experiments</a> /{' '}
        <a href={hrefOf(paths.experiment(info.experiment_id || experimentId))}>{experiment?.name ?? `experiment ${experimentId}`}</a> /{' '}
        <a href={hrefOf(paths.experiment(info.experiment_id || experimentId), { tab: 'models' })}>logged models</a>
      </p>
      <h1 data-testid="model-name">
        {info.name} <span className="badge">{statusOf(model)}</span>
      </h1>
      <div className="toolbar">
        <RegisterModel source={`models:/${info.model_id}`} modelId={info.model_id} runId={info.source_run_id} suggestion={info.name} />
      </div>
      <KeyValueTable
        testId="model-details"
        empty=""
        rows={[
          { key: 'Model ID', value: <span className="mono">{info.model_id}</span>, text: info.model_id },
          { key: 'Type', value: info.model_type || <span className="muted">not set</span>, text: info.model_type ?? '' },
          {
            key: 'Source run',
            value: info.source_run_id ? <a href={hrefOf(paths.run(info.experiment_id, info.source_run_id))} data-testid="model-source-run">{info.source_run_id}</a> : '',
            text: info.source_run_id ?? '',
          },
          { key: 'Created', value: formatTime(info.creation_timestamp_ms), text: formatTime(info.creation_timestamp_ms) },
          { key: 'Artifact location', value: info.artifact_uri ?? '', text: info.artifact_uri ?? '' },
        ]}
      />
      <h2>Metrics</h2>
      <KeyValueTable rows={metrics} empty="No metrics." testId="model-metrics" />
      <h2>Parameters</h2>
      <KeyValueTable rows={(model.data?.params ?? []).map((p) => ({ key: p.key, value: p.value, text: p.value }))} empty="No parameters." testId="model-params" />
      <h2>Tags</h2>
      <KeyValueTable rows={(info.tags ?? []).map((t) => ({ key: t.key, value: t.value, text: t.value }))} empty="No tags." testId="model-tags" />
      <h2>Artifacts</h2>
      <div className="artifacts">
        <div className="artifact-tree">
          <ArtifactTree source={source} path="" selected={selected} onSelect={(path) => setQuery({ path }, true)} />
        </div>
        <div className="artifact-pane">
          {selected ? <ArtifactPreview source={source} path={selected} /> : <p className="muted">Select a file to preview it.</p>}
        </div>
      </div>
    </section>
  );
}
