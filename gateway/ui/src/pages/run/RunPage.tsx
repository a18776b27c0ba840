import type { ReactNode } from 'react';
import { getExperiment, getRun, renameRun } from '../../api/endpoints';
import type { Run } from '../../api/types';
import { POLL_MS } from '../../charts/useHistories';
import { EditableText } from '../../components/EditableText';
import { ErrorBox } from '../../components/ErrorBox';
import { KeyValueTable } from '../../components/KeyValueTable';
import { Tabs } from '../../components/Tabs';
import { hrefOf, paths } from '../../routing/route';
import { useLocation } from '../../routing/useLocation';
import { formatNumber } from '../../util/format';
import { useAsync, usePoll } from '../../util/useAsync';
import { runName } from '../runs/columns';
import { ArtifactBrowser } from './artifacts/ArtifactBrowser';
import { Datasets } from './Datasets';
import { useCan } from '../signin/access';
import { Description } from './Description';
import { LoggedModels } from './LoggedModels';
import { RunCharts } from './RunCharts';
import { RunOverview } from './RunOverview';
import { TagsEditor } from './TagsEditor';

type Tab = 'overview' | 'charts' | 'artifacts';
const TABS: readonly { id: Tab; title: string }[] = [
  { id: 'overview', title: 'Overview' },
  { id: 'charts', title: 'Metric charts' },
  { id: 'artifacts', title: 'Artifacts' },
];

function tabOf(text: string | null): Tab {
  return TABS.find((t) => t.id === text)?.id ?? 'overview';
}

function Crumbs({ experimentId }: { experimentId: string }): ReactNode {
  const { data } = useAsync(experimentId, (signal) => getExperiment(experimentId, signal));
  return (
    <p className="crumbs">
      <a href={hrefOf(paths.experiments())}>Experiments</a> /{' '}
      <a href={hrefOf(paths.experiment(experimentId))}>{data?.name ?? `experiment ${experimentId}`}</a>
    </p>
  );
}

function OverviewTab({ run, reload }: { run: Run; reload: () => void }): ReactNode {
  const params = [...(run.data.params ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  const metrics = [...(run.data.metrics ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  return (
    <div className="overview">
      <section>
        <h2>Description</h2>
        <Description run={run} onChanged={reload} />
      </section>
      <section>
        <h2>Details</h2>
        <RunOverview run={run} />
      </section>
      <section>
        <h2>Parameters ({params.length})</h2>
        <KeyValueTable rows={params.map((p) => ({ key: p.key, value: p.value, text: p.value }))} empty="No parameters." testId="params" />
      </section>
      <section>
        <h2>Metrics ({metrics.length})</h2>
        <KeyValueTable
          rows={metrics.map((m) => ({ key: m.key, value: formatNumber(m.value), text: formatNumber(m.value) }))}
          empty="No metrics."
          testId="metrics"
        />
      </section>
      <section>
        <h2>Tags</h2>
        <TagsEditor run={run} onChanged={reload} />
      </section>
      <section>
        <h2>Datasets</h2>
        <Datasets run={run} />
      </section>
      <section>
        <h2>Logged models</h2>
        <LoggedModels run={run} />
      </section>
    </div>
  );
}

interface Props {
  experimentId: string;
  runId: string;
  /** From MLflow's deep links (`.../runs/<id>/artifacts/<path>`), used when the query has none. */
  routeTab?: string;
  artifactPath?: string;
}

export function RunPage({ experimentId, runId, routeTab, artifactPath }: Props): ReactNode {
  const { query, setQuery } = useLocation();
  const tab = tabOf(query.get('tab') ?? routeTab ?? null);
  const { data: run, error, reload } = useAsync(runId, (signal) => getRun(runId, signal));
  usePoll(reload, run?.info.status === 'RUNNING' ? POLL_MS : undefined);
  const canEdit = useCan('experiment', run?.info.experiment_id || experimentId, 'EDIT');
  if (error && !run) return <ErrorBox error={error} />;
  if (!run) return <p>Loading run…</p>;
  return (
    <section className="run-page">
      <Crumbs experimentId={run.info.experiment_id || experimentId} />
      <h1 data-testid="run-name">
        <EditableText
          value={runName(run)}
          label="Run name"
          readOnly={!canEdit}
          onSave={async (name) => {
            await renameRun(runId, name);
            reload();
          }}
        >
          {runName(run)}
        </EditableText>{' '}
        <span className={`badge status-${run.info.status}`}>{run.info.status}</span>
        {run.info.lifecycle_stage === 'deleted' && <span className="badge deleted">deleted</span>}
      </h1>
      <Tabs tabs={TABS} current={tab} onSelect={(t) => setQuery({ tab: t === 'overview' ? undefined : t }, true)} />
      {tab === 'overview' && <OverviewTab run={run} reload={reload} />}
      {tab === 'charts' && <RunCharts run={run} />}
      {tab === 'artifacts' && (
        <ArtifactBrowser
          run={run}
          modelId={query.get('model') ?? ''}
          selected={query.get('path') ?? artifactPath ?? ''}
          onSelect={(path) => setQuery({ path }, true)}
          onModel={(model) => setQuery({ model, path: undefined }, true)}
        />
      )}
    </section>
  );
}
