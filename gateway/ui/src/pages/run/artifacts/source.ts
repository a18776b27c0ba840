// Where an artifact tree comes from: a run's artifacts or a logged model's.
import { artifactUrl, loggedModelArtifactUrl } from '../../../api/client';
import { listArtifacts, listLoggedModelArtifacts } from '../../../api/endpoints';
import type { FileInfo } from '../../../api/types';

export interface ArtifactSource {
  /** Distinguishes sources in cache keys. */
  id: string;
  list: (path: string, signal: AbortSignal) => Promise<FileInfo[]>;
  fileUrl: (path: string) => string;
}

export function runSource(runId: string): ArtifactSource {
  return {
    id: `run:${runId}`,
    list: (path, signal) => listArtifacts(runId, path, signal),
    fileUrl: (path) => artifactUrl(runId, path),
  };
}

/** Listings of a logged model carry paths relative to its root, like run listings. */
export function modelSource(modelId: string): ArtifactSource {
  return {
    id: `model:${modelId}`,
    list: (path, signal) => listLoggedModelArtifacts(modelId, path, signal),
    fileUrl: (path) => loggedModelArtifactUrl(modelId, path),
  };
}
