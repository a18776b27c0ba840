import type { ReactNode } from 'react';
import { apiGet, ApiError } from '../../api/client';
import type { KeyValue } from '../../api/types';
import { ErrorBox } from '../../components/ErrorBox';
import { KeyValueTable } from '../../components/KeyValueTable';
import { hrefOf, paths } from '../../routing/route';
import { formatTime } from '../../util/format';
import { useAsync } from '../../util/useAsync';

interface RegisteredModel {
  name: string;
  description?: string;
  creation_timestamp?: number;
  latest_versions?: { version: string; run_id?: string; status?: string; current_stage?: string; source?: string }[];
  tags?: KeyValue[];
  aliases?: { alias: string; version: string }[];
}

type Answer = { model: RegisteredModel } | { missing: string };

async function load(name: string, signal: AbortSignal): Promise<Answer> {
  try {
    const body = await apiGet<{ registered_model: RegisteredModel }>('registered-models/get', { name }, signal);
    return { model: body.registered_model };
  } catch (error) {
    // The registry routes answer 404 both for an unknown model and on a server without a registry.
    if (error instanceof ApiError && (error.status === 404 || error.status === 501)) return { missing: error.message };
    throw error;
  }
}

/** `#/models/<name>`: the registered model from the server's model registry, when there is one. */
export function RegisteredModelPage({ name, version }: { name: string; version?: string }): ReactNode {
  const { data, error } = useAsync(name, (signal) => load(name, signal));
  return (
    <section className="registered-model-page">
      <p className="crumbs">
        <a href={hrefOf(paths.experiments())}>Experiments</a> / model registry
      </p>
      <h1 data-testid="registered-model-name">
        {name}
        {version ? ` version ${version}` : ''}
      </h1>
      {error && <ErrorBox error={error} />}
      {!data && !error && <p>Loading registered model…</p>}
      {data && 'missing' in data && (
        <div className="notice" data-testid="registry-missing">
          <p>
            This server has no registered model named <strong>{name}</strong> ({data.missing}). Registered models appear here once
            the model registry has them; logged models are listed on each experiment's <em>Logged models</em> tab.
          </p>
          <p>
            <a href={hrefOf(paths.experiments())}>Back to experiments</a>
          </p>
        </div>
      )}
      {data && 'model' in data && (
        <>
          {data.model.description && <p>{data.model.description}</p>}
          <KeyValueTable
            testId="registered-model"
            empty=""
            rows={[
              { key: 'Created', value: formatTime(data.model.creation_timestamp), text: '' },
              ...(data.model.aliases ?? []).map((a) => ({ key: `@${a.alias}`, value: `version ${a.version}`, text: a.version })),
              ...(data.model.tags ?? []).map((t) => ({ key: t.key, value: t.value, text: t.value })),
            ]}
          />
          <h2>Latest versions</h2>
          <table className="grid" data-testid="model-versions">
            <thead>
              <tr>
                <th>Version</th>
                <th>Status</th>
                <th>Stage</th>
                <th>Source run</th>
              </tr>
            </thead>
            <tbody>
              {(data.model.latest_versions ?? []).map((v) => (
                <tr key={v.version} className={v.version === version ? 'differs' : ''}>
                  <td>{v.version}</td>
                  <td>{v.status}</td>
                  <td>{v.current_stage}</td>
                  <td className="mono">{v.run_id}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
