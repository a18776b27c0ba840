import type { ReactNode } from 'react';
import { searchExperimentModels } from '../../api/endpoints';
import { ErrorBox } from '../../components/ErrorBox';
import { useAsync } from '../../util/useAsync';
import { ModelTable } from '../models/ModelTable';

const MAX_MODELS = 1000;

/** The experiment's logged models (MLflow 3), linking to their pages and source runs. */
export function ExperimentModels({ experimentIds }: { experimentIds: readonly string[] }): ReactNode {
  const { data, error } = useAsync(experimentIds.join(','), (signal) => searchExperimentModels(experimentIds, MAX_MODELS, signal));
  if (error) return <ErrorBox error={error} />;
  if (!data) return <p>Loading logged models…</p>;
  if (data.length === 0) return <p className="muted">No logged models in this experiment.</p>;
  return <ModelTable models={data} />;
}
