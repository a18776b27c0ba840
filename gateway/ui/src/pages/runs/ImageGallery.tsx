import { useState, type ReactNode } from 'react';
import { artifactUrl } from '../../api/client';
import { AuthorizedImg, DownloadLink } from '../../components/Authorized';
import { listArtifacts } from '../../api/endpoints';
import type { Run } from '../../api/types';
import { ErrorBox } from '../../components/ErrorBox';
import { useAsync } from '../../util/useAsync';
import { runName } from './columns';
import { imageAt, parseImages, type LoggedImage } from './images';

/** At most this many runs are listed; the gallery is for comparing a handful side by side. */
const MAX_RUNS = 12;

interface RunImages {
  run: Run;
  color: string;
  images: LoggedImage[];
}

async function load(runs: readonly { run: Run; color: string }[], signal: AbortSignal): Promise<RunImages[]> {
  return Promise.all(
    runs.map(async ({ run, color }) => {
      const files = await listArtifacts(run.info.run_id, 'images', signal);
      return { run, color, images: parseImages(files.filter((f) => !f.is_dir).map((f) => f.path)) };
    }),
  );
}

function KeyGallery({ imageKey, runs }: { imageKey: string; runs: readonly RunImages[] }): ReactNode {
  const steps = [...new Set(runs.flatMap((r) => r.images.filter((i) => i.key === imageKey).map((i) => i.step)))].sort((a, b) => a - b);
  const [index, setIndex] = useState(steps.length - 1);
  const step = steps[Math.min(Math.max(index, 0), steps.length - 1)] ?? 0;
  return (
    <section className="gallery" data-testid="image-gallery" data-key={imageKey}>
      <h2>{imageKey}</h2>
      <label>
        step{' '}
        <input
          type="range"
          min={0}
          max={Math.max(steps.length - 1, 0)}
          value={Math.min(Math.max(index, 0), steps.length - 1)}
          onChange={(e) => setIndex(Number(e.target.value))}
          data-testid="image-step"
          aria-label={`${imageKey} step`}
        />{' '}
        <span data-testid="image-step-value">{step}</span> ({steps.length} logged steps)
      </label>
      <div className="gallery-row">
        {runs.map(({ run, color, images }) => {
          const image = imageAt(images, imageKey, step);
          return (
            <figure key={run.info.run_id} className="gallery-cell" data-testid="gallery-cell" data-run-id={run.info.run_id}>
              {image ? (
                <DownloadLink href={artifactUrl(run.info.run_id, image.path)}>
                  <AuthorizedImg src={artifactUrl(run.info.run_id, image.path)} alt={`${imageKey} step ${image.step} of ${runName(run)}`} data-step={image.step} />
                </DownloadLink>
              ) : (
                <div className="chart-placeholder">no image yet</div>
              )}
              <figcaption>
                <span className="swatch" style={{ background: color }} />
                {runName(run)} {image && <span className="muted">step {image.step}</span>}
              </figcaption>
            </figure>
          );
        })}
      </div>
    </section>
  );
}

/** Images logged with mlflow.log_image, one row per key, the runs side by side, a step slider. */
export function ImageGallery({ runs }: { runs: readonly { run: Run; color: string }[] }): ReactNode {
  const withImages = runs.filter(({ run }) => run.data.tags?.some((t) => t.key === 'mlflow.loggedImages')).slice(0, MAX_RUNS);
  const key = withImages.map((r) => r.run.info.run_id).join(',');
  const { data, error } = useAsync(key, (signal) => load(withImages, signal));
  if (withImages.length === 0) return <p className="muted">No visible run logged images (mlflow.log_image).</p>;
  if (error) return <ErrorBox error={error} />;
  if (!data) return <p>Loading images…</p>;
  const keys = [...new Set(data.flatMap((r) => r.images.map((i) => i.key)))].sort();
  return (
    <div>
      {keys.map((k) => (
        <KeyGallery key={k} imageKey={k} runs={data} />
      ))}
    </div>
  );
}
