import { useEffect, useRef, type ReactNode } from 'react';
import { useScrollView } from './useScrollView';
import { visibleRange } from './virtual';

interface Props {
  count: number;
  rowHeight: number;
  /** Full width of a row, so the header and rows scroll horizontally together. */
  width: number;
  header: ReactNode;
  renderRow: (index: number) => ReactNode;
  /** Called with the last rendered index, e.g. to fetch the next page near the end. */
  onRangeEnd?: (end: number) => void;
  testId?: string;
}

const OVERSCAN = 6;

/** A scroll box that mounts only the rows in view, so 10,000 rows scroll like 50. */
export function VirtualRows({ count, rowHeight, width, header, renderRow, onRangeEnd, testId = 'runs-scroll' }: Props): ReactNode {
  const box = useRef<HTMLDivElement>(null);
  const view = useScrollView(box);

  const { start, end } = visibleRange(view.top, view.height, rowHeight, count, OVERSCAN);
  useEffect(() => {
    onRangeEnd?.(end);
  }, [end, onRangeEnd]);

  const rows: ReactNode[] = [];
  for (let i = start; i < end; i += 1) {
    rows.push(
      <div key={i} className="vrow" style={{ top: i * rowHeight, height: rowHeight, width }}>
        {renderRow(i)}
      </div>,
    );
  }
  return (
    <div className="vbox" ref={box} data-testid={testId}>
      <div className="vheader" style={{ width }}>
        {header}
      </div>
      <div className="vbody" style={{ height: count * rowHeight, width }}>
        {rows}
      </div>
    </div>
  );
}
