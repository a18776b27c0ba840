import type { ReactNode } from 'react';
import type { Run } from '../../api/types';
import { hrefOf, paths } from '../../routing/route';
import { plural } from '../../util/plural';
import { runName } from './columns';

interface DatasetRow {
  name: string;
  digest: string;
  sourceType: string;
  contexts: Set<string>;
  runs: Run[];
}

/** Datasets used by the loaded runs, one row per name and digest, with the runs that used them. */
export function datasetRows(runs: readonly Run[]): DatasetRow[] {
  const rows = new Map<string, DatasetRow>();
  for (const run of runs) {
    for (const input of run.inputs?.dataset_inputs ?? []) {
      const { name, digest, source_type: sourceType } = input.dataset;
      const id = `${name}\u0000${digest}`;
      let row = rows.get(id);
      if (!row) {
        row = { name, digest, sourceType, contexts: new Set(), runs: [] };
        rows.set(id, row);
      }
      const context = input.tags?.find((t) => t.key === 'mlflow.data.context')?.value;
      if (context) row.contexts.add(context);
      if (!row.runs.includes(run)) row.runs.push(run);
    }
  }
  return [...rows.values()];
}

export function ExperimentDatasets({ runs }: { runs: readonly Run[] }): ReactNode {
  const rows = datasetRows(runs);
  if (rows.length === 0) return <p className="muted">No datasets logged by the loaded runs.</p>;
  return (
    <table className="grid" data-testid="experiment-datasets">
      <thead>
        <tr>
          <th>Name</th>
          <th>Digest</th>
          <th>Source type</th>
          <th>Context</th>
          <th>Runs</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((row) => (
          <tr key={`${row.name}/${row.digest}`}>
            <td>{row.name}</td>
            <td className="mono">{row.digest}</td>
            <td>{row.sourceType}</td>
            <td>{[...row.contexts].join(', ')}</td>
            <td>
              <details>
                <summary>{plural(row.runs.length, 'run')}</summary>
                {row.runs.map((run) => (
                  <div key={run.info.run_id}>
                    <a href={hrefOf(paths.run(run.info.experiment_id, run.info.run_id))}>{runName(run)}</a>
                  </div>
                ))}
              </details>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
