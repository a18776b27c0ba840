import { useState, type ReactNode } from 'react';
import { searchExperiments } from '../../api/endpoints';
import type { Experiment } from '../../api/types';
import { ErrorBox } from '../../components/ErrorBox';
import { SearchInput } from '../../components/SearchInput';
import { ViewSelect } from '../../components/ViewSelect';
import { hrefOf, listParam, paths } from '../../routing/route';
import { navigate, useLocation } from '../../routing/useLocation';
import { nameContains, VIEW_TYPE, viewOf } from '../../util/filters';
import { useAsync } from '../../util/useAsync';
import { CreateExperiment } from './CreateExperiment';
import { useLevels } from '../signin/access';
import { ExperimentRow } from './ExperimentRow';

async function allExperiments(filter: string, view: ReturnType<typeof viewOf>, signal: AbortSignal): Promise<Experiment[]> {
  const out: Experiment[] = [];
  let pageToken: string | undefined;
  do {
    const page = await searchExperiments({ filter, viewType: VIEW_TYPE[view], pageToken }, signal);
    out.push(...page.experiments);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

export function ExperimentsPage(): ReactNode {
  const { query, setQuery } = useLocation();
  const search = query.get('q') ?? '';
  const view = viewOf(query.get('view'));
  const selected = listParam(query, 'sel');
  const [actionError, setActionError] = useState<Error | undefined>(undefined);
  const { data, error, loading, reload } = useAsync(JSON.stringify([search, view]), (signal) =>
    allExperiments(nameContains(search), view, signal),
  );
  const levels = useLevels('experiment', data?.map((e) => e.experiment_id) ?? []);
  const toggle = (id: string): void => {
    const next = selected.includes(id) ? selected.filter((s) => s !== id) : [...selected, id];
    setQuery({ sel: next.join(',') }, true);
  };
  return (
    <section>
      <h1>Experiments</h1>
      <div className="toolbar">
        <SearchInput value={search} placeholder="Search by name" onSubmit={(q) => setQuery({ q })} label="Search experiments" />
        <ViewSelect value={view} onChange={(v) => setQuery({ view: v === 'active' ? undefined : v })} />
        <a
          className={selected.length ? 'button' : 'button disabled'}
          href={selected.length ? hrefOf(paths.runs(), { experiments: selected.join(',') }) : undefined}
        >
          Runs of selected ({selected.length})
        </a>
      </div>
      <CreateExperiment onCreated={(id) => navigate(paths.experiment(id))} />
      {error && <ErrorBox error={error} />}
      {actionError && <ErrorBox error={actionError} />}
      {loading && !data && <p>Loading…</p>}
      {data && (
        <table className="grid">
          <thead>
            <tr>
              <th />
              <th>Name</th>
              <th>ID</th>
              <th>Created</th>
              <th>Last update</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {data.map((experiment, index) => (
              <ExperimentRow
                key={experiment.experiment_id}
                experiment={experiment}
                level={levels?.[index]}
                selected={selected.includes(experiment.experiment_id)}
                onToggle={() => toggle(experiment.experiment_id)}
                onChanged={() => {
                  setActionError(undefined);
                  reload();
                }}
                onError={setActionError}
              />
            ))}
          </tbody>
        </table>
      )}
      {data?.length === 0 && <p>No experiments.</p>}
    </section>
  );
}
