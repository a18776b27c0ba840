import { useState, type ReactNode } from 'react';
import { ApiError } from '../../api/client';
import {
  deleteRegisteredModel,
  deleteRegisteredModelTag,
  getRegisteredModel,
  renameRegisteredModel,
  searchModelVersions,
  setRegisteredModelTag,
  updateRegisteredModel,
  type ModelVersion,
  type RegisteredModel,
} from '../../api/registry';
import { EditableText } from '../../components/EditableText';
import { ErrorBox } from '../../components/ErrorBox';
import { KeyValueTable } from '../../components/KeyValueTable';
import { Markdown } from '../../markdown/Markdown';
import { hrefOf, paths } from '../../routing/route';
import { navigate } from '../../routing/useLocation';
import { formatTime } from '../../util/format';
import { useAsync } from '../../util/useAsync';
import { useCan } from '../signin/access';
import { ModelAliases } from './ModelAliases';
import { ModelVersionsTable } from './ModelVersionsTable';
import { RegistryTags } from './RegistryTags';

const MAX_VERSIONS = 5000;

type Answer = { model: RegisteredModel; versions: ModelVersion[] } | { missing: string };

async function load(name: string, signal: AbortSignal): Promise<Answer> {
  try {
    const [model, versions] = await Promise.all([getRegisteredModel(name, signal), searchModelVersions(name, MAX_VERSIONS, signal)]);
    return { model, versions };
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return { missing: error.message };
    throw error;
  }
}

export function Crumbs({ name }: { name?: string }): ReactNode {
  return (
    <p className="crumbs">
      <a href={hrefOf(paths.registeredModels())}>Models</a>
      {name && (
        <>
          {' / '}
          <a href={hrefOf(paths.registeredModel(name))}>{name}</a>
        </>
      )}
    </p>
  );
}

function Missing({ name, message }: { name: string; message: string }): ReactNode {
  return (
    <div className="notice" data-testid="registry-missing">
      <p>
        There is no registered model named <strong>{name}</strong> ({message}). Register one from a run's logged model, or
        create it on the <a href={hrefOf(paths.registeredModels())}>Models</a> page.
      </p>
    </div>
  );
}

function Model({ model, versions, reload }: { model: RegisteredModel; versions: ModelVersion[]; reload: () => void }): ReactNode {
  const canEdit = useCan('registered_model', model.name, 'EDIT');
  const canManage = useCan('registered_model', model.name, 'MANAGE');
  const [error, setError] = useState<Error | undefined>(undefined);
  const remove = (): void => {
    if (!window.confirm(`Delete model ${model.name} and all its versions?`)) return;
    deleteRegisteredModel(model.name).then(
      () => navigate(paths.registeredModels()),
      (e: unknown) => setError(e instanceof Error ? e : new Error(String(e))),
    );
  };
  return (
    <>
      {canManage && (
        <div className="toolbar">
          <button type="button" onClick={remove} data-testid="delete-model">
            Delete model
          </button>
        </div>
      )}
      {error && <ErrorBox error={error} />}
      <h2>Description</h2>
      <div className="description" data-testid="model-description">
        <EditableText
          value={model.description ?? ''}
          multiline
          label="Model description"
          readOnly={!canEdit}
          onSave={async (text) => {
            await updateRegisteredModel(model.name, text);
            reload();
          }}
        >
          {model.description ? <Markdown source={model.description} /> : <span className="muted">No description.</span>}
        </EditableText>
      </div>
      <KeyValueTable
        testId="registered-model"
        empty=""
        rows={[
          { key: 'Created', value: formatTime(model.creation_timestamp), text: '' },
          { key: 'Last modified', value: formatTime(model.last_updated_timestamp), text: '' },
          { key: 'Created by', value: model.user_id ?? '', text: model.user_id ?? '' },
        ]}
      />
      <h2>Aliases</h2>
      <ModelAliases model={model} versions={versions} canEdit={canEdit} canManage={canManage} onChanged={reload} />
      <h2>Tags</h2>
      <RegistryTags
        testId="model-tags"
        tags={model.tags ?? []}
        canEdit={canEdit}
        canDelete={canEdit}
        onSet={(key, value) => setRegisteredModelTag(model.name, key, value).then(reload)}
        onDelete={(key) => deleteRegisteredModelTag(model.name, key).then(reload)}
      />
      <h2>Versions ({versions.length})</h2>
      <ModelVersionsTable versions={versions} aliases={model.aliases ?? []} />
    </>
  );
}

/** `#/models/<name>`: a registered model with its versions, aliases, tags and description. */
export function RegisteredModelPage({ name }: { name: string }): ReactNode {
  const { data, error, reload } = useAsync(name, (signal) => load(name, signal));
  const canEdit = useCan('registered_model', name, 'EDIT');
  const found = data && 'model' in data ? data : undefined;
  return (
    <section className="registered-model-page">
      <Crumbs />
      <h1 data-testid="registered-model-name">
        <EditableText
          value={name}
          label="Model name"
          readOnly={!found || !canEdit}
          onSave={async (newName) => {
            const renamed = await renameRegisteredModel(name, newName.trim());
            navigate(paths.registeredModel(renamed.name));
          }}
        >
          {name}
        </EditableText>
      </h1>
      {error && <ErrorBox error={error} />}
      {!data && !error && <p>Loading registered model…</p>}
      {data && 'missing' in data && <Missing name={name} message={data.missing} />}
      {found && <Model model={found.model} versions={found.versions} reload={reload} />}
    </section>
  );
}
