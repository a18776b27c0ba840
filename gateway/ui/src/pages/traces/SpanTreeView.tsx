import { memo, useEffect, useRef, type ReactNode } from 'react';
import { useScrollView } from '../../components/useScrollView';
import { visibleRange } from '../../components/virtual';
import { barOf, spanDuration, type VisibleRow } from './spanTree';

const ROW_HEIGHT = 26;
const OVERSCAN = 10;
const INDENT = 14;

interface Props {
  rows: readonly VisibleRow[];
  minStart: number;
  maxEnd: number;
  collapsed: ReadonlySet<string>;
  selected: string | undefined;
  onToggle: (id: string) => void;
  onSelect: (id: string) => void;
}

interface RowProps {
  row: VisibleRow;
  minStart: number;
  maxEnd: number;
  collapsed: boolean;
  selected: boolean;
  onToggle: (id: string) => void;
  onSelect: (id: string) => void;
}

const SpanLine = memo(function SpanLine({ row, minStart, maxEnd, collapsed, selected, onToggle, onSelect }: RowProps): ReactNode {
  const { span, children } = row.node;
  const bar = barOf(span, minStart, maxEnd);
  const classes = ['span-row', span.error ? 'span-error' : '', selected ? 'selected' : ''].filter(Boolean).join(' ');
  return (
    <div className={classes} data-testid="span-row" data-span-name={span.name} data-error={span.error || undefined} onClick={() => onSelect(span.id)}>
      <div className="span-label" style={{ paddingLeft: row.depth * INDENT }}>
        {children.length > 0 ? (
          <button
            type="button"
            className="json-toggle"
            aria-expanded={!collapsed}
            aria-label={`${collapsed ? 'Expand' : 'Collapse'} ${span.name}`}
            data-testid="span-toggle"
            onClick={(e) => {
              e.stopPropagation();
              onToggle(span.id);
            }}
          >
            {collapsed ? '▸' : '▾'}
          </button>
        ) : (
          <span className="json-toggle" />
        )}
        <span className="span-name" title={span.name}>
          {span.error && <span className="span-error-mark" aria-label="error">!</span>}
          {span.name}
        </span>
        {span.type && <span className={`span-type type-${span.type}`}>{span.type}</span>}
      </div>
      <div className="span-bar-cell">
        <div className="span-bar" style={{ left: `min(${bar.left * 100}%, calc(100% - 2px))`, width: `max(2px, ${bar.width * 100}%)` }} />
      </div>
      <span className="span-duration">{spanDuration(span.endMs - span.startMs)}</span>
    </div>
  );
});

/** The span tree as a virtual list: only the rows in view exist, so 30,000 spans scroll freely. */
export function SpanTreeView({ rows, minStart, maxEnd, collapsed, selected, onToggle, onSelect }: Props): ReactNode {
  const box = useRef<HTMLDivElement>(null);
  const view = useScrollView(box);
  useEffect(() => {
    // A span picked elsewhere (search, assessment link) is scrolled into view.
    const element = box.current;
    if (!element || !selected) return;
    const index = rows.findIndex((r) => r.node.span.id === selected);
    if (index < 0) return;
    const top = index * ROW_HEIGHT;
    if (top < element.scrollTop || top + ROW_HEIGHT > element.scrollTop + element.clientHeight) {
      element.scrollTop = Math.max(0, top - element.clientHeight / 2);
    }
    // Only a new selection scrolls; rows growing while the trace streams in must not.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [selected]);
  const { start, end } = visibleRange(view.top, view.height, ROW_HEIGHT, rows.length, OVERSCAN);
  const lines: ReactNode[] = [];
  for (let i = start; i < end; i += 1) {
    const row = rows[i] as VisibleRow;
    const id = row.node.span.id;
    lines.push(
      <div key={id} className="vrow span-vrow" data-index={i} style={{ top: i * ROW_HEIGHT, height: ROW_HEIGHT }}>
        <SpanLine
          row={row}
          minStart={minStart}
          maxEnd={maxEnd}
          collapsed={collapsed.has(id)}
          selected={selected === id}
          onToggle={onToggle}
          onSelect={onSelect}
        />
      </div>,
    );
  }
  return (
    <div className="span-scroll" ref={box} data-testid="span-tree" data-rows={rows.length}>
      <div className="vbody" style={{ height: rows.length * ROW_HEIGHT }}>
        {lines}
      </div>
    </div>
  );
}
