import { useState, type ReactNode } from 'react';
import { ChartControls } from '../../../charts/ChartControls';
import { useChartOptions } from '../../../charts/useChartOptions';
import { WhenVisible } from '../../../components/WhenVisible';
import { useLocation } from '../../../routing/useLocation';
import { BANDS, bandOf, cardId, decodeCards, encodeCards, moveCard, sectionsOf, type BandKind, type Card } from './layout';
import type { ChartGroup, ChartRun } from './lines';
import { MetricCard } from './MetricCard';
import type { ScatterRun } from './ScatterCard';
import { ParallelCard } from './ParallelCard';
import { ScatterCard } from './ScatterCard';

interface Props {
  runs: readonly ChartRun[];
  /** The same runs with their params and latest metrics, for scatter and parallel cards. */
  values: readonly ScatterRun[];
  groups: readonly ChartGroup[] | undefined;
  metricKeys: readonly string[];
  paramKeys: readonly string[];
  liveRunIds: readonly string[];
  onBrush: (runIds: string[] | undefined) => void;
}

const HEIGHT = 240;

function CardBody({ card, props, band, wide }: { card: Card; props: Props; band: BandKind; wide: boolean }): ReactNode {
  const [options] = useChartOptions();
  const height = wide ? HEIGHT + 80 : HEIGHT;
  switch (card.type) {
    case 'metric':
      return <MetricCard metricKey={card.key} runs={props.runs} groups={props.groups} options={options} band={band} liveRunIds={props.liveRunIds} height={height} />;
    case 'scatter':
      return <ScatterCard x={card.x} y={card.y} runs={props.values} />;
    case 'parallel':
      return <ParallelCard metric={card.metric} runs={props.values} paramKeys={props.paramKeys} onBrush={props.onBrush} />;
  }
}

function AddCard({ metricKeys, paramKeys, onAdd }: { metricKeys: readonly string[]; paramKeys: readonly string[]; onAdd: (card: Card) => void }): ReactNode {
  const [x, setX] = useState('');
  const [y, setY] = useState('');
  const fields = [...paramKeys.map((k) => `params.${k}`), ...metricKeys.map((k) => `metrics.${k}`)];
  return (
    <details className="picker add-card">
      <summary className="button">Add chart</summary>
      <div className="picker-panel">
        <label>
          metric{' '}
          <select value="" onChange={(e) => e.target.value && onAdd({ type: 'metric', key: e.target.value })} data-testid="add-metric">
            <option value="">choose…</option>
            {metricKeys.map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </label>
        <fieldset>
          <legend>scatter</legend>
          <select value={x} onChange={(e) => setX(e.target.value)} data-testid="scatter-x" aria-label="scatter x">
            <option value="">x…</option>
            {fields.map((k) => <option key={k} value={k}>{k}</option>)}
          </select>{' '}
          <select value={y} onChange={(e) => setY(e.target.value)} data-testid="scatter-y" aria-label="scatter y">
            <option value="">y…</option>
            {fields.map((k) => <option key={k} value={k}>{k}</option>)}
          </select>{' '}
          <button type="button" disabled={!x || !y} onClick={() => onAdd({ type: 'scatter', x, y })} data-testid="add-scatter">
            add scatter
          </button>
        </fieldset>
        <label>
          parallel coordinates for{' '}
          <select value="" onChange={(e) => e.target.value && onAdd({ type: 'parallel', metric: e.target.value })} data-testid="add-parallel">
            <option value="">metric…</option>
            {metricKeys.map((k) => <option key={k} value={k}>{k}</option>)}
          </select>
        </label>
      </div>
    </details>
  );
}

/** The experiment's chart view: one card per metric (or scatter/parallel), in sections by prefix. */
export function ChartView(props: Props): ReactNode {
  const { query, setQuery } = useLocation();
  const [options, setOptions] = useChartOptions();
  const cards = decodeCards(query.get('charts'), props.metricKeys);
  const wide = new Set((query.get('csize') ?? '').split('|').filter(Boolean));
  const band = bandOf(query.get('band'));
  const setCards = (next: Card[]): void => setQuery({ charts: encodeCards(next) }, true);
  const toggleWide = (id: string): void => {
    const next = wide.has(id) ? [...wide].filter((w) => w !== id) : [...wide, id];
    setQuery({ csize: next.join('|') }, true);
  };
  if (props.runs.length === 0) return <p className="muted">No visible runs to chart.</p>;
  return (
    <div className="chart-view" data-testid="chart-view">
      <div className="toolbar">
        <ChartControls options={options} onChange={setOptions} />
        {props.groups && (
          <label>
            band{' '}
            <select value={band} onChange={(e) => setQuery({ band: e.target.value === 'std' ? undefined : e.target.value }, true)} data-testid="band">
              {BANDS.map((b) => <option key={b.id} value={b.id}>{b.title}</option>)}
            </select>
          </label>
        )}
        <AddCard metricKeys={props.metricKeys} paramKeys={props.paramKeys} onAdd={(card) => setCards([...cards.filter((c) => cardId(c) !== cardId(card)), card])} />
      </div>
      {sectionsOf(cards).map((section) => (
        <details key={section.name} open className="chart-section" data-testid="chart-section" data-section={section.name}>
          <summary>{section.name || 'Charts'} ({section.cards.length})</summary>
          <div className="chart-grid">
            {section.cards.map(({ card, index }) => {
              const id = cardId(card);
              const isWide = wide.has(id);
              return (
                <div key={id} className={`chart-card${isWide ? ' wide' : ''}`} data-testid="chart-card" data-card={id}>
                  <div className="card-tools">
                    <button type="button" className="link" title="Move earlier" onClick={() => setCards(moveCard(cards, index, -1))} data-testid="card-earlier">◀</button>
                    <button type="button" className="link" title="Move later" onClick={() => setCards(moveCard(cards, index, 1))} data-testid="card-later">▶</button>
                    <button type="button" className="link" title={isWide ? 'Make narrow' : 'Make wide'} onClick={() => toggleWide(id)} data-testid="card-resize">⤢</button>
                    <button type="button" className="link" title="Remove chart" onClick={() => setCards(cards.filter((_, i) => i !== index))} data-testid="card-remove">✕</button>
                  </div>
                  {card.type === 'metric' ? (
                    // Only metric charts in the viewport fetch: the server's sampling is the page's cost.
                    <WhenVisible height={HEIGHT + 60} margin="0px">
                      <CardBody card={card} props={props} band={band} wide={isWide} />
                    </WhenVisible>
                  ) : (
                    <CardBody card={card} props={props} band={band} wide={isWide} />
                  )}
                </div>
              );
            })}
          </div>
        </details>
      ))}
    </div>
  );
}
