import { describe, expect, it } from 'vitest';
import { attributesOf, detailOf, hexId, nanosToMs, rowOf } from './spanJson';

describe('span JSON', () => {
  it('reads nanoseconds beyond double precision as milliseconds', () => {
    expect(nanosToMs('1796307238117494566') - 1796307238117).toBeCloseTo(0.4946, 3);
    // traces/get may send them as JSON numbers, already rounded by the parser
    expect(nanosToMs(JSON.parse('1796307238117494566') as number) - 1796307238117).toBeCloseTo(0.49, 1);
    expect(nanosToMs('500000')).toBe(0.5);
    expect(nanosToMs(undefined)).toBe(0);
    expect(nanosToMs(null)).toBe(0);
  });

  it('decodes OTLP AnyValues and MLflow JSON-encoded attribute text', () => {
    expect(
      attributesOf([
        { key: 's', value: { string_value: 'CHAIN' } },
        { key: 'j', value: { string_value: '{"a": [1, 2]}' } },
        { key: 'i', value: { int_value: '40' } },
        { key: 'kv', value: { kvlist_value: { values: [{ key: 'q', value: { string_value: 'hi' } }] } } },
        { key: 'arr', value: { array_value: { values: [{ bool_value: true }, { double_value: 1.5 }] } } },
      ]),
    ).toEqual({ s: 'CHAIN', j: { a: [1, 2] }, i: 40, kv: { q: 'hi' }, arr: [true, 1.5] });
    expect(attributesOf({ 'mlflow.spanType': '"LLM"', plain: 'not json {' })).toEqual({ 'mlflow.spanType': 'LLM', plain: 'not json {' });
  });

  it('turns base64 span ids into the hex MLflow shows elsewhere', () => {
    expect(hexId('nRc5NR+ExSY=')).toBe('9d1739351f84c526');
    expect(hexId('9D1739351F84C526')).toBe('9d1739351f84c526');
  });

  it('marks spans with an error status or an exception event', () => {
    const base = { span_id: 'nRc5NR+ExSY=', name: 'x', start_time_unix_nano: '2000000', end_time_unix_nano: '5000000' };
    expect(rowOf(base)).toMatchObject({ id: '9d1739351f84c526', parentId: '', startMs: 2, endMs: 5, error: false });
    expect(rowOf({ ...base, status: { code: 'STATUS_CODE_ERROR' } }).error).toBe(true);
    expect(rowOf({ ...base, events: [{ name: 'exception' }] }).error).toBe(true);
    expect(rowOf({ ...base, end_time_unix_nano: null }).endMs).toBe(2);
  });

  it('splits inputs and outputs from the other attributes', () => {
    const detail = detailOf({
      span_id: 'nRc5NR+ExSY=',
      attributes: [
        { key: 'mlflow.spanInputs', value: { kvlist_value: { values: [{ key: 'question', value: { string_value: 'why' } }] } } },
        { key: 'mlflow.spanOutputs', value: { string_value: '"because"' } },
        { key: 'mlflow.spanType', value: { string_value: 'LLM' } },
      ],
      status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
      events: [{ name: 'exception', time_unix_nano: '3000000', attributes: [{ key: 'exception.type', value: { string_value: 'ValueError' } }] }],
    });
    expect(detail.inputs).toEqual({ question: 'why' });
    expect(detail.outputs).toBe('because');
    expect(detail.attributes).toEqual({ 'mlflow.spanType': 'LLM' });
    expect(detail.row.type).toBe('LLM');
    expect(detail.statusCode).toBe('ERROR');
    expect(detail.events).toEqual([{ name: 'exception', timeMs: 3, attributes: { 'exception.type': 'ValueError' } }]);
  });
});
