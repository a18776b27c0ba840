import type { ReactNode } from 'react';
import type { Run } from '../../api/types';

/** Dataset inputs with their context (train/eval) and, on demand, schema and profile. */
export function Datasets({ run }: { run: Run }): ReactNode {
  const inputs = run.inputs?.dataset_inputs ?? [];
  if (inputs.length === 0) return <p className="muted">No datasets.</p>;
  return (
    <table className="grid" data-testid="datasets">
      <thead>
        <tr>
          <th>Name</th>
          <th>Digest</th>
          <th>Context</th>
          <th>Source</th>
          <th>Schema</th>
        </tr>
      </thead>
      <tbody>
        {inputs.map(({ dataset, tags }) => (
          <tr key={`${dataset.name}/${dataset.digest}/${tags?.map((t) => t.value).join()}`}>
            <td>{dataset.name}</td>
            <td className="mono">{dataset.digest}</td>
            <td>{tags?.find((t) => t.key === 'mlflow.data.context')?.value ?? ''}</td>
            <td>
              {dataset.source_type}
              {dataset.source && (
                <details>
                  <summary>source</summary>
                  <pre>{dataset.source}</pre>
                </details>
              )}
            </td>
            <td>
              {dataset.schema && (
                <details>
                  <summary>schema</summary>
                  <pre>{dataset.schema}</pre>
                </details>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
