import { useState, type ReactNode } from 'react';
import type { Run } from '../../api/types';
import { KeyValueTable } from '../../components/KeyValueTable';
import { hrefOf, paths } from '../../routing/route';
import { formatDuration, formatTime, runDuration } from '../../util/format';
import { tagValue } from './tags';

/** Status, times, duration, source and lineage of a run. */
export function RunOverview({ run }: { run: Run }): ReactNode {
  const [now] = useState(Date.now);
  const info = run.info;
  const parent = tagValue(run, 'mlflow.parentRunId');
  const source = tagValue(run, 'mlflow.source.name');
  const sourceType = tagValue(run, 'mlflow.source.type');
  const commit = tagValue(run, 'mlflow.source.git.commit');
  const text = (key: string, value: string | undefined): { key: string; value: ReactNode; text: string } => ({
    key,
    value: value ?? '',
    text: value ?? '',
  });
  const rows = [
    { key: 'Status', value: <span className={`status-${info.status}`} data-testid="run-status">{info.status}</span>, text: info.status },
    text('Run ID', info.run_id),
    text('Started', formatTime(info.start_time)),
    text('Ended', formatTime(info.end_time)),
    text('Duration', formatDuration(runDuration(info.start_time, info.end_time, now))),
    text('User', info.user_id || tagValue(run, 'mlflow.user')),
    text('Source', [source, sourceType && `(${sourceType})`].filter(Boolean).join(' ')),
    ...(commit ? [text('Git commit', commit)] : []),
    ...(parent
      ? [{ key: 'Parent run', value: <a href={hrefOf(paths.run(info.experiment_id, parent))}>{parent}</a>, text: parent }]
      : []),
    text('Lifecycle', info.lifecycle_stage),
    text('Artifact URI', info.artifact_uri),
  ];
  return <KeyValueTable rows={rows} empty="" testId="run-overview" />;
}
