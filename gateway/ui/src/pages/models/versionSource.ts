// The artifact tree of a model version: its logged model's files, or its run folder with the
// folder prefix hidden, so paths are relative to the model like the registry's download route.
import { listArtifacts } from '../../api/endpoints';
import { versionArtifactUrl, type ModelVersion } from '../../api/registry';
import { modelSource, type ArtifactSource } from '../run/artifacts/source';
import { versionFiles } from './registryLogic';

function joinPath(prefix: string, path: string): string {
  return prefix && path ? `${prefix}/${path}` : prefix || path;
}

export function stripPrefix(prefix: string, path: string): string {
  return prefix && path.startsWith(`${prefix}/`) ? path.slice(prefix.length + 1) : path;
}

export function versionSource(version: ModelVersion): ArtifactSource | undefined {
  const files = versionFiles(version);
  const fileUrl = (path: string): string => versionArtifactUrl(version.name, version.version, path);
  if (files.kind === 'logged-model') return { ...modelSource(files.modelId), fileUrl };
  if (files.kind === 'none') return undefined;
  const { runId, prefix } = files;
  return {
    id: `version:${version.name}/${version.version}`,
    list: async (path, signal) => {
      const listed = await listArtifacts(runId, joinPath(prefix, path), signal);
      return listed.map((f) => ({ ...f, path: stripPrefix(prefix, f.path) }));
    },
    fileUrl,
  };
}
