import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { diffRows } from './diff';
import { DiffTable } from './DiffTable';
import { axisOf } from './parallel';
import { ParallelCoordinates } from './ParallelCoordinates';

describe('ParallelCoordinates', () => {
  it('draws one line per run that has a value on every axis', () => {
    const axes = [axisOf('lr', ['0.1', '0.01', undefined]), axisOf('acc', ['0.9', '0.7', '0.8'])];
    const svg = renderToStaticMarkup(<ParallelCoordinates axes={axes} runLabels={['a', 'b', 'c']} />);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg).toContain('<title>a</title>');
    expect(svg).not.toContain('<title>c</title>');
  });

  it('asks for more axes when there is only one', () => {
    const html = renderToStaticMarkup(<ParallelCoordinates axes={[axisOf('acc', ['1'])]} runLabels={['a']} />);
    expect(html).toContain('Pick at least one parameter');
  });
});

describe('DiffTable', () => {
  const rows = diffRows([
    [
      { key: 'lr', value: '0.1' },
      { key: 'seed', value: '1' },
    ],
    [
      { key: 'lr', value: '<b>0.2</b>' },
      { key: 'seed', value: '1' },
    ],
  ]);

  it('highlights differing rows and escapes values', () => {
    const html = renderToStaticMarkup(<DiffTable rows={rows} runLabels={['a', 'b']} onlyDifferences={false} testId="t" />);
    expect(html).toContain('<tr class="differs" data-differs="true"><th>lr</th>');
    expect(html).toContain('&lt;b&gt;0.2&lt;/b&gt;');
    expect(html).toContain('<tr data-differs="false"><th>seed</th>');
  });

  it('can hide equal rows', () => {
    const html = renderToStaticMarkup(<DiffTable rows={rows} runLabels={['a', 'b']} onlyDifferences testId="t" />);
    expect(html).not.toContain('<th>seed</th>');
  });
});
