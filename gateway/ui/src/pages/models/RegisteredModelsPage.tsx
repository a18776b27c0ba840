import { useCallback, useState, type ReactNode } from 'react';
import { createRegisteredModel, type RegisteredModel } from '../../api/registry';
import { ErrorBox } from '../../components/ErrorBox';
import { SearchInput } from '../../components/SearchInput';
import { VirtualRows } from '../../components/VirtualRows';
import { hrefOf, paths } from '../../routing/route';
import { navigate, useLocation } from '../../routing/useLocation';
import { formatTime } from '../../util/format';
import { useSession } from '../signin/session';
import { formatSort, modelFilter, orderBy, parseSort, type ModelSort, type SortKey } from './registryLogic';
import { useModelPages } from './useModelPages';

const ROW_HEIGHT = 30;
const PREFETCH_ROWS = 50;
const COLUMNS: { title: string; width: number; sort?: SortKey }[] = [
  { title: 'Name', width: 300, sort: 'name' },
  { title: 'Latest version', width: 120 },
  { title: 'Aliases', width: 240 },
  { title: 'Tags', width: 260 },
  { title: 'Last modified', width: 170, sort: 'updated' },
  { title: 'Created', width: 170, sort: 'created' },
];
const WIDTH = COLUMNS.reduce((sum, c) => sum + c.width, 0);

function Header({ sort, onSort }: { sort: ModelSort; onSort: (s: ModelSort) => void }): ReactNode {
  return (
    <>
      {COLUMNS.map((c) => {
        const active = c.sort === sort.key;
        return (
          <div key={c.title} className="cell head" style={{ width: c.width }}>
            {c.sort ? (
              <button
                type="button"
                className="sort"
                data-testid={`sort-${c.sort}`}
                onClick={() => c.sort && onSort({ key: c.sort, ascending: active ? !sort.ascending : c.sort === 'name' })}
              >
                {c.title}
                {active ? (sort.ascending ? ' ▲' : ' ▼') : ''}
              </button>
            ) : (
              c.title
            )}
          </div>
        );
      })}
    </>
  );
}

function latestVersion(model: RegisteredModel): string | undefined {
  let best: string | undefined;
  for (const v of model.latest_versions ?? []) if (!best || Number(v.version) > Number(best)) best = v.version;
  return best;
}

function Row({ model }: { model: RegisteredModel }): ReactNode {
  const latest = latestVersion(model);
  const cells: ReactNode[] = [
    <a href={hrefOf(paths.registeredModel(model.name))}>{model.name}</a>,
    latest ? <a href={hrefOf(paths.modelVersion(model.name, latest))}>version {latest}</a> : <span className="muted">none</span>,
    <span>{(model.aliases ?? []).map((a) => `@${a.alias} → v${a.version}`).join(', ')}</span>,
    <span>{(model.tags ?? []).map((t) => `${t.key}=${t.value}`).join(', ')}</span>,
    <span>{formatTime(model.last_updated_timestamp)}</span>,
    <span>{formatTime(model.creation_timestamp)}</span>,
  ];
  return (
    <div className="run-row" data-testid="model-row" data-name={model.name}>
      {cells.map((cell, i) => (
        <div key={COLUMNS[i]?.title} className="cell" style={{ width: COLUMNS[i]?.width }}>
          {cell}
        </div>
      ))}
    </div>
  );
}

function CreateModel(): ReactNode {
  const [name, setName] = useState('');
  const [error, setError] = useState<Error | undefined>(undefined);
  return (
    <form
      className="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        createRegisteredModel(name.trim()).then(
          (model) => navigate(paths.registeredModel(model.name)),
          (err: unknown) => setError(err instanceof Error ? err : new Error(String(err))),
        );
      }}
    >
      <input value={name} onChange={(e) => setName(e.target.value)} placeholder="new model name" aria-label="New model name" />
      <button type="submit" disabled={!name.trim()}>
        Create model
      </button>
      {error && <ErrorBox error={error} />}
    </form>
  );
}

/** `#/models`: registered models, searched and sorted on the server, scrolled virtually. */
export function RegisteredModelsPage(): ReactNode {
  const { query, setQuery } = useLocation();
  const session = useSession();
  const search = query.get('q') ?? '';
  const sort = parseSort(query.get('sort'));
  const pages = useModelPages({ filter: modelFilter(search), orderBy: orderBy(sort) });
  const { models, hasMore, loadMore } = pages;
  const onRangeEnd = useCallback((end: number) => {
    if (hasMore && end >= models.length - PREFETCH_ROWS) loadMore();
  }, [hasMore, models.length, loadMore]);
  return (
    <section data-testid="models-page">
      <h1>Registered models</h1>
      <div className="toolbar">
        <SearchInput value={search} placeholder="name, or a filter: tags.team = 'x'" onSubmit={(q) => setQuery({ q })} label="Search models" wide />
        {session.state !== 'signed-out' && <CreateModel />}
      </div>
      {pages.error && <ErrorBox error={pages.error} />}
      <p className="status-line" data-testid="models-status">
        {pages.loading && models.length === 0 ? 'Loading…' : `${models.length}${hasMore ? '+' : ''} models`}
      </p>
      <VirtualRows
        count={models.length}
        rowHeight={ROW_HEIGHT}
        width={WIDTH}
        header={<Header sort={sort} onSort={(s) => setQuery({ sort: formatSort(s) })} />}
        renderRow={(i) => (models[i] ? <Row model={models[i]} /> : null)}
        onRangeEnd={onRangeEnd}
        testId="models-scroll"
      />
    </section>
  );
}
