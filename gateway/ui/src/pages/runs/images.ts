// Images logged with mlflow.log_image(key=..., step=...): files named
// `images/<key>+step+<n>+timestamp+<ms>+<uuid>.png` (older clients: `%` instead of `+`),
// with a `+compressed.webp` thumbnail beside each; `/` in keys is stored as `~`.

export interface LoggedImage {
  key: string;
  step: number;
  timestamp: number;
  path: string;
  thumbnail?: string;
}

const NAME = /^(.+?)[+%]step[+%](-?\d+)[+%]timestamp[+%](\d+)[+%]([0-9a-f-]+)(?:[+%]compressed)?\.(png|webp|jpe?g)$/i;

/** Full images with their thumbnails, from a listing of the run's `images/` folder. */
export function parseImages(paths: readonly string[]): LoggedImage[] {
  const byUuid = new Map<string, LoggedImage>();
  for (const path of paths) {
    const name = path.slice(path.lastIndexOf('/') + 1);
    const match = NAME.exec(name);
    if (!match) continue;
    const [, key = '', step = '0', timestamp = '0', uuid = ''] = match;
    const compressed = /[+%]compressed\./i.test(name);
    const image = byUuid.get(uuid) ?? { key: key.replaceAll('~', '/'), step: Number(step), timestamp: Number(timestamp), path: '' };
    if (compressed) image.thumbnail = path;
    else image.path = path;
    byUuid.set(uuid, image);
  }
  return [...byUuid.values()]
    .map((image) => (image.path ? image : { ...image, path: image.thumbnail ?? '' }))
    .sort((a, b) => a.key.localeCompare(b.key) || a.step - b.step || a.timestamp - b.timestamp);
}

/** The image of a run at `step`, or its latest one before it (slider between logged steps). */
export function imageAt(images: readonly LoggedImage[], key: string, step: number): LoggedImage | undefined {
  let found: LoggedImage | undefined;
  for (const image of images) if (image.key === key && image.step <= step) found = image;
  return found;
}
