import { memo, useCallback, useMemo, useState, type ReactNode } from 'react';
import type { Run } from '../../api/types';
import { plural } from '../../util/plural';
import { Breakable } from '../../components/Breakable';
import { VirtualRows } from '../../components/VirtualRows';
import { hrefOf, paths } from '../../routing/route';
import { encodeColumn, type ColumnId, type Sort } from '../../util/searchKeys';
import { cellValue, isSortable, runName, titleOf, type CellContext } from './columns';
import type { RunGroup, TableItem } from './grouping';

const ROW_HEIGHT = 30;
const CHECK_WIDTH = 36;
const NAME_WIDTH = 240;
const COLUMN_WIDTH = 165;
/** Start fetching the next page this many rows before the end. */
const PREFETCH_ROWS = 50;

interface Props {
  runs: readonly Run[];
  /** Rows to show: runs, or group headers and their runs. */
  items: readonly TableItem[];
  /** Runs hidden from the charts (their eye is closed). */
  hidden: ReadonlySet<string>;
  onToggleHidden: (runId: string) => void;
  onToggleGroup: (groupId: string) => void;
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
  if (!isSortable(column)) return <span title={title}><Breakable text={titleOf(column)} /></span>;
  return (
    <button
      type="button"
      className="sort"
      title={title}
      data-testid={`sort-${encodeColumn(column)}`}
      onClick={() => onSort({ column, ascending: active ? !sort.ascending : false })}
    >
      <Breakable text={titleOf(column)} />
      {arrow}
    </button>
  );
}

interface RowProps {
  run: Run;
  color: string;
  columns: readonly ColumnId[];
  selected: boolean;
  hidden: boolean;
  onToggle: (runId: string) => void;
  onToggleHidden: (runId: string) => void;
  context: CellContext;
}

function GroupRow({ group, collapsed, onToggleGroup, width }: { group: RunGroup; collapsed: boolean; onToggleGroup: (id: string) => void; width: number }): ReactNode {
  return (
    <div className="group-row" data-testid="group-row" data-group={group.label} style={{ width }}>
      <button type="button" className="link" aria-expanded={!collapsed} onClick={() => onToggleGroup(group.id)} data-testid="group-toggle">
        {collapsed ? '▸' : '▾'}
      </button>
      <span className="swatch" style={{ background: group.color }} />
      <strong>{group.label}</strong> <span className="muted" data-testid="group-count">{plural(group.runs.length, 'run')}</span>
    </div>
  );
}

/** Memoised: while scrolling, only rows that come into view render. */
const RunRow = memo(function RunRow({ run, color, columns, selected, hidden, onToggle, onToggleHidden, context }: RowProps): ReactNode {
  const id = run.info.run_id;
  return (
    <div className={`run-row ${run.info.lifecycle_stage}`} data-testid="run-row" data-run-id={id}>
      <div className="cell" style={{ width: CHECK_WIDTH }}>
        <input type="checkbox" checked={selected} onChange={() => onToggle(id)} aria-label={`Select run ${runName(run)}`} />
      </div>
      <div className="cell name" style={{ width: NAME_WIDTH }}>
        <button
          type="button"
          className={`eye${hidden ? ' closed' : ''}`}
          title={hidden ? 'Show in charts' : 'Hide from charts'}
          aria-label={`${hidden ? 'Show' : 'Hide'} run ${runName(run)} in charts`}
          aria-pressed={!hidden}
          data-testid="run-eye"
          onClick={() => onToggleHidden(id)}
        >
          <span className="swatch" style={{ background: hidden ? 'transparent' : color, borderColor: color }} />
        </button>
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
  const { runs, items, hidden, onToggleHidden, onToggleGroup, columns, sort, onSort, selected, onToggle, onToggleAll, hasMore, loadMore, experimentNames } = props;
  const width = CHECK_WIDTH + NAME_WIDTH + columns.length * COLUMN_WIDTH;
  const [now] = useState(Date.now);
  const context = useMemo(() => ({ now, experimentNames }), [now, experimentNames]);
  const onRangeEnd = useCallback(
    (end: number) => {
      if (hasMore && end >= items.length - PREFETCH_ROWS) loadMore();
    },
    [hasMore, items.length, loadMore],
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
    const item = items[index];
    if (!item) return null;
    if (item.type === 'group') return <GroupRow group={item.group} collapsed={item.collapsed} onToggleGroup={onToggleGroup} width={width} />;
    const { run, color } = item;
    const id = run.info.run_id;
    return (
      <RunRow
        run={run}
        color={color}
        columns={columns}
        selected={selected.has(id)}
        hidden={hidden.has(id)}
        onToggle={onToggle}
        onToggleHidden={onToggleHidden}
        context={context}
      />
    );
  };
  return (
    <VirtualRows
      count={items.length}
      rowHeight={ROW_HEIGHT}
      width={width}
      header={header}
      renderRow={renderRow}
      onRangeEnd={onRangeEnd}
    />
  );
}
