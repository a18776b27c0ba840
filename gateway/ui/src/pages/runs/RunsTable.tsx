import { memo, useCallback, useMemo, useState, type ReactNode } from 'react';
import type { Run } from '../../api/types';
import { VirtualRows } from '../../components/VirtualRows';
import { hrefOf, paths } from '../../routing/route';
import { encodeColumn, type ColumnId, type Sort } from '../../util/searchKeys';
import { cellValue, isSortable, runName, titleOf, type CellContext } from './columns';

const ROW_HEIGHT = 30;
const CHECK_WIDTH = 36;
const NAME_WIDTH = 240;
const COLUMN_WIDTH = 165;
/** Start fetching the next page this many rows before the end. */
const PREFETCH_ROWS = 50;

interface Props {
  runs: readonly Run[];
  columns: readonly ColumnId[];
  sort: Sort | undefined;
  onSort: (sort: Sort) => void;
  selected: ReadonlySet<string>;
  onToggle: (runId: string) => void;
  onToggleAll: () => void;
  hasMore: boolean;
  loadMore: () => void;
  experimentNames: ReadonlyMap<string, string>;
}

function sameColumn(a: ColumnId, b: ColumnId): boolean {
  return a.kind === b.kind && a.key === b.key;
}

function SortHeader({ column, sort, onSort }: { column: ColumnId; sort: Sort | undefined; onSort: (s: Sort) => void }): ReactNode {
  const active = sort && sameColumn(sort.column, column);
  const arrow = active ? (sort.ascending ? ' ▲' : ' ▼') : '';
  const title = `${column.kind === 'attribute' ? '' : `${column.kind}: `}${titleOf(column)}`;
  if (!isSortable(column)) return <span title={title}>{titleOf(column)}</span>;
  return (
    <button
      type="button"
      className="sort"
      title={title}
      data-testid={`sort-${encodeColumn(column)}`}
      onClick={() => onSort({ column, ascending: active ? !sort.ascending : false })}
    >
      {titleOf(column)}
      {arrow}
    </button>
  );
}

interface RowProps {
  run: Run;
  columns: readonly ColumnId[];
  selected: boolean;
  onToggle: (runId: string) => void;
  context: CellContext;
}

/** Memoised: while scrolling, only rows that come into view render. */
const RunRow = memo(function RunRow({ run, columns, selected, onToggle, context }: RowProps): ReactNode {
  const id = run.info.run_id;
  return (
    <div className={`run-row ${run.info.lifecycle_stage}`} data-testid="run-row" data-run-id={id}>
      <div className="cell" style={{ width: CHECK_WIDTH }}>
        <input type="checkbox" checked={selected} onChange={() => onToggle(id)} aria-label={`Select run ${runName(run)}`} />
      </div>
      <div className="cell name" style={{ width: NAME_WIDTH }}>
        <a href={hrefOf(paths.run(run.info.experiment_id, id))}>{runName(run)}</a>
      </div>
      {columns.map((column) => {
        const value = cellValue(run, column, context);
        return (
          <div
            key={encodeColumn(column)}
            className={`cell kind-${column.kind}${column.key === 'status' ? ` status-${value}` : ''}`}
            style={{ width: COLUMN_WIDTH }}
            title={value}
          >
            {value}
          </div>
        );
      })}
    </div>
  );
});

export function RunsTable(props: Props): ReactNode {
  const { runs, columns, sort, onSort, selected, onToggle, onToggleAll, hasMore, loadMore, experimentNames } = props;
  const width = CHECK_WIDTH + NAME_WIDTH + columns.length * COLUMN_WIDTH;
  const [now] = useState(Date.now);
  const context = useMemo(() => ({ now, experimentNames }), [now, experimentNames]);
  const onRangeEnd = useCallback(
    (end: number) => {
      if (hasMore && end >= runs.length - PREFETCH_ROWS) loadMore();
    },
    [hasMore, runs.length, loadMore],
  );
  const allSelected = runs.length > 0 && runs.every((r) => selected.has(r.info.run_id));
  const header = (
    <>
      <div className="cell" style={{ width: CHECK_WIDTH }}>
        <input type="checkbox" checked={allSelected} onChange={onToggleAll} aria-label="Select all runs" />
      </div>
      <div className="cell head" style={{ width: NAME_WIDTH }}>
        <SortHeader column={{ kind: 'attribute', key: 'run_name' }} sort={sort} onSort={onSort} />
      </div>
      {columns.map((column) => (
        <div key={encodeColumn(column)} className={`cell head kind-${column.kind}`} style={{ width: COLUMN_WIDTH }}>
          <SortHeader column={column} sort={sort} onSort={onSort} />
        </div>
      ))}
    </>
  );
  const renderRow = (index: number): ReactNode => {
    const run = runs[index];
    if (!run) return null;
    return <RunRow run={run} columns={columns} selected={selected.has(run.info.run_id)} onToggle={onToggle} context={context} />;
  };
  return (
    <VirtualRows
      count={runs.length}
      rowHeight={ROW_HEIGHT}
      width={width}
      header={header}
      renderRow={renderRow}
      onRangeEnd={onRangeEnd}
    />
  );
}
