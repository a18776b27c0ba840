// Browser tests: a real runstash server seeded by the stock mlflow client, driven in Chromium.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, resultsDir, seed, seriesPixels, startServer } from './harness.mjs';

let server;
let browser;
let page;
let seeded;
const dialogs = [];

const shot = (name) => page.screenshot({ path: join(resultsDir, `${name}.png`), fullPage: true });
const at = (hash) => page.goto(`${server.url}/${hash}`);
const rows = () => page.locator('[data-testid=run-row]');
const rowNames = () => page.locator('[data-testid=run-row] .name').allTextContents();

/** Opens a link the client printed, on the server under test (dev mode rewrites the origin). */
function onServer(link) {
  const hash = link.slice(link.indexOf('#'));
  return `${server.url}/${hash}`;
}

async function rest(path, body) {
  const response = await fetch(`${server.trackingUri}/api/2.0/mlflow/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

before(async () => {
  mkdirSync(resultsDir, { recursive: true });
  server = await startServer();
  try {
    seeded = await seed(server.trackingUri);
  } catch (error) {
    error.message += `\n--- server log (tail) ---\n${server.log?.().slice(-4000) ?? ''}`;
    throw error;
  }
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.setDefaultTimeout(15_000);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the run link printed by the client opens that run', async () => {
  assert.equal(seeded.links.length, 3, `client printed: ${seeded.links}`);
  const link = seeded.links[2];
  assert.match(link, /#\/experiments\/\d+\/runs\/[0-9a-f]{32}$/);
  await page.goto(onServer(link));
  await page.getByTestId('run-name').getByText('run-forest-2').waitFor();
  assert.equal(await page.getByTestId('run-status').textContent(), 'FINISHED');
  // Markdown description: heading rendered, raw HTML shown as text, never as markup.
  await page.getByTestId('description').locator('h3', { hasText: 'Run 2' }).waitFor();
  assert.match(await page.getByTestId('description').textContent(), /<b>not bold<\/b>/);
  assert.equal(await page.getByTestId('description').locator('b').count(), 0);
  await page.getByTestId('params').getByText('forest').waitFor();
  await page.getByTestId('datasets').getByText('features-2').waitFor();
  await page.getByTestId('logged-models').getByText('model-2').waitFor();
  await shot('run-page');
});

test('the printed experiment link lists its runs; the filter box narrows them', async () => {
  await at(`#/experiments/${seeded.experiment_id}`);
  await rows().nth(2).waitFor();
  assert.equal(await rows().count(), 3);
  await page.getByLabel('Filter runs').fill("params.model = 'forest' and metrics.accuracy > 0.85");
  await page.getByLabel('Filter runs').press('Enter');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-row]').length === 1);
  assert.deepEqual(await rowNames(), ['run-forest-2']);
  assert.match(page.url(), /q=params\.model/);
  await shot('runs-filtered');
});

test('a bad filter shows the server error message', async () => {
  await page.getByLabel('Filter runs').fill('metrics.loss >> 1 OR');
  await page.getByLabel('Filter runs').press('Enter');
  const error = page.getByTestId('error');
  await error.waitFor();
  assert.match(await error.textContent(), /INVALID_PARAMETER_VALUE/);
  await shot('runs-filter-error');
});

test('sorting by a metric column orders the runs on the server', async () => {
  await at(`#/experiments/${seeded.experiment_id}?cols=${encodeURIComponent('attr:status|metric:accuracy|param:lr')}`);
  await rows().nth(2).waitFor();
  await page.getByTestId('sort-metric:accuracy').click();
  await page.waitForFunction(() => decodeURIComponent(location.hash).includes('sort=metric:accuracy~desc'));
  await page.waitForFunction(() => document.querySelector('[data-testid=run-row] .name')?.textContent === 'run-forest-2');
  assert.deepEqual(await rowNames(), ['run-forest-2', 'run-forest-1', 'run-tree-0']);
  await page.getByTestId('sort-metric:accuracy').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=run-row] .name')?.textContent === 'run-tree-0');
  assert.deepEqual(await rowNames(), ['run-tree-0', 'run-forest-1', 'run-forest-2']);
  await shot('runs-table');
});

test('a run opened from the table draws its metric charts', async () => {
  await page.getByRole('link', { name: 'run-forest-1' }).click();
  await page.getByTestId('run-name').getByText('run-forest-1').waitFor();
  await page.getByTestId('tab-charts').click();
  const chart = page.locator('[data-testid=metric-chart][data-title=loss]');
  await chart.locator('canvas').waitFor();
  await page.waitForFunction(() => Number(document.querySelector('[data-title=loss]')?.dataset.drawn ?? 0) > 0);
  assert.ok((await seriesPixels(page, '[data-title=loss] canvas')) > 50, 'loss line drawn');
  await page.getByTestId('log-scale').check();
  await page.getByTestId('x-axis').selectOption('relative');
  await page.waitForFunction(() => location.hash.includes('log=1') && location.hash.includes('x=relative'));
  await page.waitForFunction(() => document.querySelector('[data-title=loss] .u-title')?.textContent === 'loss');
  assert.ok((await seriesPixels(page, '[data-title=loss] canvas')) > 50, 'loss line drawn on log scale');
  await shot('run-charts');
});

test('artifacts: tree, text, JSON, CSV and image previews, download link, logged-model MLmodel', async () => {
  await page.getByTestId('tab-artifacts').click();
  await page.getByTestId('artifact-tree').waitFor();
  await page.locator('[data-testid=artifact-file][data-path="notes.txt"]').click();
  const text = page.getByTestId('text-preview');
  await text.getByText("<script>alert('x')</script>").waitFor();
  assert.deepEqual(dialogs, [], 'no script ran');
  const href = await page.getByTestId('download-link').getAttribute('href');
  const download = await page.request.get(new URL(href, page.url()).toString());
  assert.equal(download.status(), 200);
  assert.match(await download.text(), /learning rate 0\.01/);

  await page.locator('[data-testid=artifact-file][data-path="predictions.csv"]').click();
  await page.getByTestId('csv-preview').getByRole('cell', { name: 'dog, big' }).waitFor();

  await page.getByRole('button', { name: /config/ }).click();
  await page.locator('[data-testid=artifact-file][data-path="config/params.json"]').click();
  await text.getByText('"layers": [').waitFor();

  await page.locator('[data-testid=artifact-file][data-path="plot.png"]').click();
  const image = page.getByTestId('image-preview');
  await image.waitFor();
  await page.waitForFunction(() => document.querySelector('[data-testid=image-preview]')?.naturalWidth === 16);
  assert.match(page.url(), /path=plot\.png/);
  await shot('run-artifacts');

  await page.getByTestId('artifact-source').selectOption({ label: 'logged model: model-1' });
  await page.locator('[data-testid=artifact-file][data-path="MLmodel"]').click();
  await text.getByText('python_function').waitFor();
  assert.match(page.url(), /model=m-/);
  await shot('model-artifacts');
});

test('two selected runs compare: parameter diff, metrics, parallel coordinates, chart', async () => {
  await at(`#/experiments/${seeded.experiment_id}`);
  await rows().nth(2).waitFor();
  await page.getByLabel('Select run run-tree-0').check();
  await page.getByLabel('Select run run-forest-2').check();
  await page.getByTestId('compare-button').click();
  await page.getByRole('heading', { name: 'Compare 2 runs' }).waitFor();
  const diff = page.getByTestId('param-diff');
  await diff.waitFor();
  assert.equal(await diff.locator('tr[data-differs=true] th', { hasText: 'lr' }).count(), 1);
  assert.equal(await diff.locator('tr[data-differs=true] th', { hasText: 'model' }).count(), 1);
  await page.getByTestId('metric-table').getByText('accuracy').waitFor();
  assert.equal(await page.getByTestId('parallel-coordinates').locator('polyline').count(), 2);
  await page.getByTestId('chart-metric').selectOption('loss');
  await page.waitForFunction(() => Number(document.querySelector('[data-title=loss]')?.dataset.drawn ?? 0) > 0);
  assert.ok((await seriesPixels(page, '[data-title=loss] canvas')) > 50, 'first run line drawn');
  assert.ok((await seriesPixels(page, '[data-title=loss] canvas', [0xff, 0x7f, 0x0e])) > 50, 'second run line drawn');
  await shot('compare');
});

test('the chart of a RUNNING run refreshes by itself', async () => {
  const { run } = await rest('runs/create', { experiment_id: seeded.experiment_id, run_name: 'live-run', start_time: Date.now() });
  const runId = run.info.run_id;
  const points = (from, to) =>
    Array.from({ length: to - from }, (_, i) => ({ key: 'live', value: 1 / (from + i + 1), timestamp: Date.now(), step: from + i }));
  await rest('runs/log-batch', { run_id: runId, metrics: points(0, 5) });
  await at(`#/experiments/${seeded.experiment_id}/runs/${runId}?tab=charts`);
  await page.waitForFunction(() => document.querySelector('[data-title=live]')?.dataset.points === '5');
  await rest('runs/log-batch', { run_id: runId, metrics: points(5, 12) });
  // No reload: the page polls while the run is RUNNING.
  await page.waitForFunction(() => document.querySelector('[data-title=live]')?.dataset.points === '12', null, { timeout: 20_000 });
  await rest('runs/update', { run_id: runId, status: 'FINISHED', end_time: Date.now() });
});

test('run page edits: rename, add a tag, edit the description', async () => {
  const runId = seeded.run_ids[0];
  await at(`#/experiments/${seeded.experiment_id}/runs/${runId}`);
  await page.getByRole('button', { name: 'Edit Run name' }).click();
  await page.getByLabel('Run name').fill('renamed-in-ui');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('run-name').getByText('renamed-in-ui').waitFor();
  await page.getByLabel('New tag key').fill('reviewed');
  await page.getByLabel('New tag value').fill('yes');
  await page.getByRole('button', { name: 'Add tag' }).click();
  await page.getByTestId('tags').getByText('reviewed').waitFor();
  await page.getByRole('button', { name: 'Edit Description' }).click();
  await page.getByLabel('Description').fill('## New note\n\n- [docs](https://example.com)\n- [bad](javascript:alert(1))');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('description').locator('h4', { hasText: 'New note' }).waitFor();
  assert.equal(await page.getByTestId('description').locator('a[href^="javascript"]').count(), 0);
  assert.equal(await page.getByTestId('description').locator('a[href="https://example.com"]').count(), 1);
  const response = await fetch(`${server.trackingUri}/api/2.0/mlflow/runs/get?run_id=${runId}`);
  const { run } = await response.json();
  assert.equal(run.info.run_name, 'renamed-in-ui');
  assert.ok(run.data.tags.some((t) => t.key === 'reviewed' && t.value === 'yes'));
  assert.ok(run.data.tags.some((t) => t.key === 'mlflow.note.content' && t.value.startsWith('## New note')));
});

test('runs of several experiments in one table', async () => {
  const { experiment_id: other } = await rest('experiments/create', { name: `second-${Date.now()}` });
  await rest('runs/create', { experiment_id: other, run_name: 'other-experiment-run', start_time: Date.now() });
  await at(`#/experiments?sel=${seeded.experiment_id},${other}`);
  await page.getByRole('link', { name: 'Runs of selected (2)' }).click();
  await page.getByText('other-experiment-run').waitFor();
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=run-row]').length >= 5);
  assert.equal(await page.locator('.vheader').getByText('Experiment').count(), 1);
  await page.locator('[data-testid=run-row]', { hasText: 'other-experiment-run' }).getByText(/^second-/).waitFor();
  await shot('runs-two-experiments');
});

test('the runs table follows page tokens as it scrolls (150 runs, first page 100)', async () => {
  const { experiment_id: id } = await rest('experiments/create', { name: `paged-${Date.now()}` });
  const t0 = Date.now();
  for (let i = 0; i < 150; i += 1) {
    await rest('runs/create', { experiment_id: id, run_name: `paged-${String(i).padStart(3, '0')}`, start_time: t0 + i });
  }
  await at(`#/experiments/${id}`);
  await page.getByTestId('runs-count').getByText(/^100 runs loaded, more on the server/).waitFor();
  await page.waitForFunction(() => {
    const box = document.querySelector('[data-testid=runs-scroll]');
    box.scrollTop = box.scrollHeight;
    return document.querySelector('[data-testid=runs-count]')?.textContent?.startsWith('150 runs');
  });
  // Every run exactly once across the page boundary, newest first (start_time DESC).
  const names = await page.evaluate(async () => {
    const box = document.querySelector('[data-testid=runs-scroll]');
    const seen = new Map();
    for (let top = 0; top <= box.scrollHeight; top += box.clientHeight / 2) {
      box.scrollTop = top;
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
      for (const row of document.querySelectorAll('[data-testid=run-row]')) {
        seen.set(Number(row.parentElement.style.top.replace('px', '')), row.querySelector('.name').textContent);
      }
    }
    return [...seen].sort((a, b) => a[0] - b[0]).map(([, name]) => name);
  });
  const expected = Array.from({ length: 150 }, (_, i) => `paged-${String(149 - i).padStart(3, '0')}`);
  assert.deepEqual(names, expected);
});

test('experiments: search, create, rename, delete and restore', async () => {
  await at('#/experiments');
  await page.getByTestId('experiment-row').first().waitFor();
  const name = `made-in-ui-${Date.now()}`;
  await page.getByLabel('New experiment name').fill(name);
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByTestId('experiment-title').getByText(name).waitFor();
  await at(`#/experiments?q=${name}`);
  const row = page.getByTestId('experiment-row');
  await row.getByText(name).waitFor();
  assert.equal(await row.count(), 1);
  await row.getByRole('button', { name: 'Edit Experiment name' }).click();
  await row.getByLabel('Experiment name').fill(`${name}-renamed`);
  await row.getByRole('button', { name: 'Save' }).click();
  await row.getByText(`${name}-renamed`).waitFor();
  await row.getByRole('button', { name: 'Delete' }).click();
  await page.getByText('No experiments.').waitFor();
  await page.getByTestId('view').selectOption('deleted');
  await row.getByRole('button', { name: 'Restore' }).click();
  await page.getByText('No experiments.').waitFor();
  await page.getByTestId('view').selectOption('active');
  await row.getByText(`${name}-renamed`).waitFor();
  await at('#/experiments');
  await page.getByTestId('experiment-row').first().waitFor();
  await shot('experiments');
});
