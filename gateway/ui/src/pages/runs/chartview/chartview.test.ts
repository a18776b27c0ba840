import { describe, expect, it } from 'vitest';
import type { Metric } from '../../../api/types';
import { seriesOf, type ChartOptions, type RunSeries } from '../../../charts/series';
import { parseImages, imageAt } from '../images';
import { passingRuns, varyingParams } from './brush';
import { decodeCards, encodeCards, moveCard, sectionsOf } from './layout';
import { groupBars, groupLines, isSingleValue, runBars } from './lines';
import { axisOf } from '../../compare/parallel';

const options: ChartOptions = { xAxis: 'step', logScale: false, smoothing: 0 };
const series = (runId: string, values: number[]): RunSeries =>
  seriesOf(runId, values.map((value, step): Metric => ({ key: 'm', value, step, timestamp: 1000 + step })));

describe('group lines', () => {
  it('draws mean ± std per group with the run count in the label', () => {
    const data = [series('a', [1, 2]), series('b', [3, 6]), series('c', [10, 10])];
    const plot = groupLines(data, [{ label: 'lr=1', color: '#1f77b4', runIds: ['a', 'b'] }, { label: 'lr=2', color: '#ff7f0e', runIds: ['c'] }], options, 'std');
    expect(plot.data[0]).toEqual([0, 1]);
    expect(plot.data[1]).toEqual([2, 4]);
    expect(plot.data[2]).toEqual([3, 6]);
    expect(plot.data[3]).toEqual([1, 2]);
    expect(plot.data[4]).toEqual([10, 10]);
    expect(plot.styles[0]?.label).toBe('lr=1 (2 runs) mean');
    expect(plot.styles[3]?.label).toBe('lr=2 (1 run) mean');
    expect(plot.bands).toEqual([
      { series: [2, 3], fill: 'rgba(31,119,180,0.18)' },
      { series: [5, 6], fill: 'rgba(255,127,14,0.18)' },
    ]);
  });

  it('draws median between min and max', () => {
    const data = [series('a', [1]), series('b', [2]), series('c', [9]), series('d', [0])];
    const plot = groupLines(data, [{ label: 'g', color: '#000000', runIds: ['a', 'b', 'c'] }], options, 'median');
    expect(plot.data.slice(1)).toEqual([[2], [9], [1]]);
  });
});

describe('single-value metrics', () => {
  it('are bars per run, or per group at the mean with a std whisker', () => {
    const data = [series('a', [0.5]), series('b', [0.7]), series('c', [])];
    expect(isSingleValue(data)).toBe(true);
    expect(isSingleValue([series('a', [1, 2])])).toBe(false);
    expect(runBars(data, [{ runId: 'a', label: 'A', color: '#1' }, { runId: 'c', label: 'C', color: '#3' }])).toEqual([{ label: 'A', value: 0.5, color: '#1' }]);
    const [bar] = groupBars(data, [{ label: 'g', color: '#2', runIds: ['a', 'b'] }]);
    expect(bar?.value).toBeCloseTo(0.6, 12);
    expect(bar?.spread).toBeCloseTo(0.1, 12);
    expect(bar?.label).toBe('g (2 runs)');
  });
});

describe('chart layout in the URL', () => {
  it('defaults to one card per metric and round-trips edits', () => {
    const cards = decodeCards(null, ['train/loss', 'val/loss', 'acc']);
    expect(cards.map((c) => c.type)).toEqual(['metric', 'metric', 'metric']);
    const edited = [...moveCard(cards, 2, -5), { type: 'scatter' as const, x: 'params.lr', y: 'metrics.acc' }];
    expect(decodeCards(encodeCards(edited), [])).toEqual(edited);
    expect(sectionsOf(cards).map((s) => [s.name, s.cards.map((c) => c.index)])).toEqual([
      ['train', [0]],
      ['val', [1]],
      ['', [2]],
    ]);
  });
});

describe('parallel coordinates brushing', () => {
  it('keeps the runs inside every brushed range and picks varying params', () => {
    const lr = axisOf('lr', ['0.1', '0.2', '0.3']);
    const acc = axisOf('acc', ['1', '2', undefined]);
    expect(passingRuns([lr, acc], new Map([['lr', { low: 0.4, high: 1 }]]), 3)).toEqual([1, 2]);
    expect(passingRuns([lr, acc], new Map([['lr', { low: 0.4, high: 1 }], ['acc', { low: 0, high: 1 }]]), 3)).toEqual([1]);
    const values: Record<string, string[]> = { lr: ['1', '2'], seed: ['7', '7'], depth: ['3', '4'] };
    expect(varyingParams(['depth', 'lr', 'seed'], (k) => values[k] ?? [], 6)).toEqual(['depth', 'lr']);
  });
});

describe('logged images', () => {
  it('pairs full images with thumbnails and reads key and step from the names', () => {
    const images = parseImages([
      'images/sample~input+step+2+timestamp+1700+0b1c-aa.png',
      'images/sample~input+step+2+timestamp+1700+0b1c-aa+compressed.webp',
      'images/sample~input%step%0%timestamp%1600%ffee.png',
      'images/other.txt',
    ]);
    expect(images).toEqual([
      { key: 'sample/input', step: 0, timestamp: 1600, path: 'images/sample~input%step%0%timestamp%1600%ffee.png' },
      {
        key: 'sample/input',
        step: 2,
        timestamp: 1700,
        path: 'images/sample~input+step+2+timestamp+1700+0b1c-aa.png',
        thumbnail: 'images/sample~input+step+2+timestamp+1700+0b1c-aa+compressed.webp',
      },
    ]);
    expect(imageAt(images, 'sample/input', 1)?.step).toBe(0);
    expect(imageAt(images, 'sample/input', 5)?.step).toBe(2);
  });
});
