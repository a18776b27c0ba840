import { useMemo, useState, type ReactNode } from 'react';
import { getLoggedModel } from '../../api/endpoints';
import {
  deleteModelVersion,
  deleteVersionTag,
  getModelVersion,
  setVersionTag,
  STAGES,
  transitionStage,
  updateModelVersion,
  type ModelVersion,
} from '../../api/registry';
import type { LoggedModel } from '../../api/types';
import { EditableText } from '../../components/EditableText';
import { ErrorBox } from '../../components/ErrorBox';
import { KeyValueTable } from '../../components/KeyValueTable';
import { Markdown } from '../../markdown/Markdown';
import { hrefOf, paths } from '../../routing/route';
import { navigate, useLocation } from '../../routing/useLocation';
import { formatTime } from '../../util/format';
import { useAsync } from '../../util/useAsync';
import { ArtifactPreview } from '../run/artifacts/ArtifactPreview';
import { ArtifactTree } from '../run/artifacts/ArtifactTree';
import { useCan } from '../signin/access';
import { Crumbs } from './RegisteredModelPage';
import { RegistryTags } from './RegistryTags';
import { versionFiles } from './registryLogic';
import { versionSource } from './versionSource';

interface Loaded {
  version: ModelVersion;
  /** The logged model behind the version (MLflow 3), for its experiment and name. */
  logged?: LoggedModel;
}

async function load(name: string, version: string, signal: AbortSignal): Promise<Loaded> {
  const found = await getModelVersion(name, version, signal);
  // The source names the logged model (`models:/m-...`) when the response has no model_id.
  const files = versionFiles(found);
  const logged = files.kind === 'logged-model' ? await getLoggedModel(files.modelId, signal).catch(() => undefined) : undefined;
  return { version: found, logged };
}

function StageSelect({ version, canEdit, onChanged }: { version: ModelVersion; canEdit: boolean; onChanged: (error?: Error) => void }): ReactNode {
  if (!canEdit) return <span data-testid="version-stage">{version.current_stage}</span>;
  return (
    <select
      value={version.current_stage ?? 'None'}
      aria-label="Stage"
      data-testid="version-stage"
      onChange={(e) => transitionStage(version.name, version.version, e.target.value).then(() => onChanged(), (err: unknown) => onChanged(err instanceof Error ? err : new Error(String(err))))}
    >
      {STAGES.map((s) => (
        <option key={s} value={s}>
          {s}
        </option>
      ))}
    </select>
  );
}

function details(loaded: Loaded, stage: ReactNode): { key: string; value: ReactNode; text: string }[] {
  const { version: v, logged } = loaded;
  return [
    { key: 'Status', value: v.status ?? '', text: v.status ?? '' },
    { key: 'Stage', value: stage, text: v.current_stage ?? '' },
    { key: 'Aliases', value: (v.aliases ?? []).map((a) => `@${a}`).join(' '), text: '' },
    {
      key: 'Source run',
      value: v.run_id ? <a href={hrefOf(paths.runById(v.run_id))} data-testid="version-source-run">{v.run_id}</a> : '',
      text: v.run_id ?? '',
    },
    {
      key: 'Logged model',
      value: logged ? (
        <a href={hrefOf(paths.loggedModel(logged.info.experiment_id, logged.info.model_id))} data-testid="version-logged-model">
          {logged.info.name} ({logged.info.model_id})
        </a>
      ) : (
        (v.model_id ?? '')
      ),
      text: v.model_id ?? '',
    },
    { key: 'Source', value: <span className="mono">{v.source}</span>, text: v.source ?? '' },
    { key: 'Created', value: formatTime(v.creation_timestamp), text: '' },
    { key: 'Last modified', value: formatTime(v.last_updated_timestamp), text: '' },
    { key: 'Created by', value: v.user_id ?? '', text: v.user_id ?? '' },
  ];
}

/** The version's files: its logged model's, or its run folder's. */
function VersionArtifacts({ version }: { version: ModelVersion }): ReactNode {
  const { query, setQuery } = useLocation();
  const source = useMemo(() => versionSource(version), [version]);
  const selected = query.get('path') ?? '';
  if (!source) return <p className="muted">The source of this version is outside this server's artifact store; there are no files to browse.</p>;
  return (
    <div className="artifacts">
      <div className="artifact-tree" data-testid="version-artifacts">
        <ArtifactTree key={source.id} source={source} path="" selected={selected} onSelect={(path) => setQuery({ path }, true)} />
      </div>
      <div className="artifact-pane">
        {selected ? <ArtifactPreview source={source} path={selected} /> : <p className="muted">Select a file to preview it.</p>}
      </div>
    </div>
  );
}

function Version({ loaded, reload }: { loaded: Loaded; reload: () => void }): ReactNode {
  const { version } = loaded;
  const canEdit = useCan('registered_model', version.name, 'EDIT');
  const canManage = useCan('registered_model', version.name, 'MANAGE');
  const [error, setError] = useState<Error | undefined>(undefined);
  const changed = (err?: Error): void => {
    setError(err);
    reload();
  };
  const remove = (): void => {
    if (!window.confirm(`Delete version ${version.version} of ${version.name}?`)) return;
    deleteModelVersion(version.name, version.version).then(() => navigate(paths.registeredModel(version.name)), (e: unknown) => setError(e instanceof Error ? e : new Error(String(e))));
  };
  return (
    <>
      {canManage && (
        <div className="toolbar">
          <button type="button" onClick={remove} data-testid="delete-version">
            Delete version
          </button>
        </div>
      )}
      {error && <ErrorBox error={error} />}
      <KeyValueTable testId="version-details" empty="" rows={details(loaded, <StageSelect version={version} canEdit={canEdit} onChanged={changed} />)} />
      <h2>Description</h2>
      <div className="description" data-testid="version-description">
        <EditableText
          value={version.description ?? ''}
          multiline
          label="Version description"
          readOnly={!canEdit}
          onSave={async (text) => {
            await updateModelVersion(version.name, version.version, text);
            reload();
          }}
        >
          {version.description ? <Markdown source={version.description} /> : <span className="muted">No description.</span>}
        </EditableText>
      </div>
      <h2>Tags</h2>
      <RegistryTags
        testId="version-tags"
        tags={version.tags ?? []}
        canEdit={canEdit}
        canDelete={canManage}
        onSet={(key, value) => setVersionTag(version.name, version.version, key, value).then(reload)}
        onDelete={(key) => deleteVersionTag(version.name, version.version, key).then(reload)}
      />
      <h2>Artifacts</h2>
      <VersionArtifacts version={version} />
    </>
  );
}

/** `#/models/<name>/versions/<v>`: one model version, its source run, logged model and files. */
export function ModelVersionPage({ name, version }: { name: string; version: string }): ReactNode {
  const { data, error, reload } = useAsync(`${name}\u0000${version}`, (signal) => load(name, version, signal));
  return (
    <section className="model-version-page">
      <Crumbs name={name} />
      <h1 data-testid="version-title">
        {name} <span className="badge">version {version}</span>
      </h1>
      {error && <ErrorBox error={error} />}
      {!data && !error && <p>Loading model version…</p>}
      {data && <Version loaded={data} reload={reload} />}
    </section>
  );
}
