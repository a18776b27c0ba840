import type { KeyValue, Run } from '../../api/types';

export const NOTE_TAG = 'mlflow.note.content';

export function tagValue(run: Run, key: string): string | undefined {
  return run.data.tags?.find((t) => t.key === key)?.value;
}

/** System tags (mlflow.*) are shown apart from the ones users set. */
export function splitTags(tags: readonly KeyValue[] | undefined): { user: KeyValue[]; system: KeyValue[] } {
  const sorted = [...(tags ?? [])].sort((a, b) => a.key.localeCompare(b.key));
  return {
    user: sorted.filter((t) => !t.key.startsWith('mlflow.')),
    system: sorted.filter((t) => t.key.startsWith('mlflow.')),
  };
}
