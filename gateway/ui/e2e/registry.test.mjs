// Browser tests of the model registry pages: the Models list (search, sort, virtual scrolling), a
// model page, a version page, and registering a run's logged model and model folder.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, resultsDir, seed, startServer } from './harness.mjs';

let server;
let browser;
let page;
let seeded;

const shot = (name) => page.screenshot({ path: join(resultsDir, `${name}.png`), fullPage: true });
const at = (hash) => page.goto(`${server.url}/${hash}`);
const modelRows = () => page.locator('[data-testid=model-row]');
const firstModel = () => page.evaluate(() => document.querySelector('[data-testid=model-row]')?.dataset.name);

async function get(path) {
  const response = await fetch(`${server.url}/api/2.0/mlflow/${path}`);
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

before(async () => {
  mkdirSync(resultsDir, { recursive: true });
  server = await startServer();
  try {
    seeded = await seed(server.trackingUri, 'seed_registry.py');
  } catch (error) {
    error.message += `\n--- server log (tail) ---\n${server.log?.().slice(-4000) ?? ''}`;
    throw error;
  }
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('dialog', (dialog) => void dialog.accept());
  page.setDefaultTimeout(15_000);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the Models page pages through 151 models while rendering only the rows in view', async () => {
  await page.goto(`${server.url}/`);
  await page.getByTestId('nav-models').click();
  await modelRows().first().waitFor();
  assert.equal(await firstModel(), 'bulk-000');
  assert.match(await page.getByTestId('models-status').textContent(), /^100\+ models$/);
  const rendered = await modelRows().count();
  assert.ok(rendered < 60, `only visible rows are mounted (${rendered})`);
  // Scrolling to the end fetches the next page by its token.
  await page.getByTestId('models-scroll').evaluate((box) => box.scrollTo(0, box.scrollHeight));
  await page.getByTestId('models-status').getByText('151 models').waitFor();
  await page.getByTestId('models-scroll').evaluate((box) => box.scrollTo(0, box.scrollHeight));
  await page.locator('[data-testid=model-row][data-name=e2e-model]').waitFor();
  await shot('registry-models');
});

test('search and sort run on the server', async () => {
  await page.getByLabel('Search models').fill('E2E');
  await page.getByLabel('Search models').press('Enter');
  await page.getByTestId('models-status').getByText('1 models').waitFor();
  const row = page.locator('[data-testid=model-row][data-name=e2e-model]');
  await row.getByText('@champion → v1').waitFor();
  await row.getByText('team=vision').waitFor();
  await page.getByLabel('Search models').fill("name LIKE 'bulk-14%'");
  await page.getByLabel('Search models').press('Enter');
  await page.getByTestId('models-status').getByText('10 models').waitFor();
  assert.equal(await firstModel(), 'bulk-140');
  await page.getByTestId('sort-name').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=model-row]')?.dataset.name === 'bulk-149');
  assert.match(decodeURIComponent(await page.evaluate(() => location.hash)), /sort=name~desc/);
});

test('a model page shows and edits aliases, tags, description and lists its versions', async () => {
  await at('#/models/e2e-model');
  await page.getByTestId('model-description').locator('h3', { hasText: 'E2E model' }).waitFor();
  await page.locator('[data-testid=alias-row][data-alias=champion]').getByText('version 1').waitFor();
  assert.deepEqual(
    await page.locator('[data-testid=version-row]').evaluateAll((rows) => rows.map((r) => r.dataset.version)),
    ['2', '1'],
  );
  await page.getByLabel('Alias', { exact: true }).fill('challenger');
  await page.getByLabel('Alias version').selectOption('2');
  await page.getByRole('button', { name: 'Set alias' }).click();
  await page.locator('[data-testid=alias-row][data-alias=challenger]').getByText('version 2').waitFor();
  await page.getByTestId('model-tags').getByLabel('New tag key').fill('owner');
  await page.getByTestId('model-tags').getByLabel('New tag value').fill('ml-team');
  await page.getByTestId('model-tags').getByRole('button', { name: 'Add tag' }).click();
  await page.locator('[data-testid=model-tags] [data-testid=tag-row][data-key=owner]').waitFor();
  await page.getByTestId('model-description').getByRole('button', { name: 'Edit Model description' }).click();
  await page.getByLabel('Model description').fill('Now **promoted**.');
  await page.getByTestId('model-description').getByRole('button', { name: 'Save' }).click();
  await page.getByTestId('model-description').locator('strong', { hasText: 'promoted' }).waitFor();
  const { registered_model: model } = await get('registered-models/get?name=e2e-model');
  assert.deepEqual(Object.fromEntries(model.aliases.map((a) => [a.alias, a.version])), { champion: '1', challenger: '2' });
  assert.equal(model.tags.find((t) => t.key === 'owner')?.value, 'ml-team');
  assert.equal(model.description, 'Now **promoted**.');
  await shot('registry-model');
});

test('the deep link to a version opens it: logged model, source run, files, stage and tags', async () => {
  await at('#/models/e2e-model/versions/1');
  await page.getByTestId('version-title').getByText('version 1').waitFor();
  await page.getByTestId('version-logged-model').getByText(`clf (${seeded.model_id})`).waitFor();
  await page.getByTestId('version-details').getByText('@champion').waitFor();
  await page.locator('[data-testid=version-artifacts] [data-testid=artifact-file][data-path=MLmodel]').click();
  await page.getByTestId('text-preview').getByText('label: logged').waitFor();
  await page.getByTestId('version-stage').selectOption('Staging');
  await page.waitForFunction(async () => {
    const r = await fetch('ajax-api/2.0/mlflow/model-versions/get?name=e2e-model&version=1');
    return (await r.json()).model_version.current_stage === 'Staging';
  });
  await page.getByTestId('version-tags').getByLabel('New tag key').fill('approved_by');
  await page.getByTestId('version-tags').getByLabel('New tag value').fill('qa');
  await page.getByTestId('version-tags').getByRole('button', { name: 'Add tag' }).click();
  await page.locator('[data-testid=version-tags] [data-testid=tag-row][data-key=approved_by]').waitFor();
  await shot('registry-version');
  // Version 2 came from the run's model folder: its files are that folder's.
  await at('#/models/e2e-model/versions/2');
  await page.locator('[data-testid=version-artifacts] [data-testid=artifact-file][data-path=MLmodel]').click();
  await page.getByTestId('text-preview').getByText('label: folder').waitFor();
  await page.locator('[data-testid=version-artifacts] [data-testid=artifact-file][data-path="requirements.txt"]').waitFor();
  await page.getByTestId('version-source-run').click();
  await page.getByTestId('run-name').getByText('trainer').waitFor();
  assert.match(await page.evaluate(() => location.hash), new RegExp(`#/runs/${seeded.run_id}$`));
});

test("registering a run's logged model creates the model and its first version", async () => {
  await at(`#/experiments/${seeded.experiment_id}/runs/${seeded.run_id}`);
  await page.getByTestId('register-clf').click();
  await page.getByLabel('Registered model name').fill('ui-registered');
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await page.getByTestId('registered-version').getByRole('link', { name: 'ui-registered version 1' }).click();
  await page.getByTestId('version-logged-model').getByText(`clf (${seeded.model_id})`).waitFor();
  const { model_version: version } = await get('model-versions/get?name=ui-registered&version=1');
  assert.equal(version.source, `models:/${seeded.model_id}`);
  assert.equal(version.run_id, seeded.run_id);
});

test("registering a run's model folder adds a version with a runs:/ source", async () => {
  await at(`#/experiments/${seeded.experiment_id}/runs/${seeded.run_id}?tab=artifacts`);
  await page.locator('[data-testid=artifact-tree] .folder', { hasText: 'model' }).click();
  await page.locator('[data-testid=artifact-file][data-path="model/MLmodel"]').click();
  await page.getByTestId('register-folder-model').click();
  await page.getByLabel('Registered model name').fill('ui-registered');
  await page.getByRole('button', { name: 'Register', exact: true }).click();
  await page.getByTestId('registered-version').getByRole('link', { name: 'ui-registered version 2' }).waitFor();
  await shot('registry-register-folder');
  const { model_version: version } = await get('model-versions/get?name=ui-registered&version=2');
  assert.equal(version.source, `runs:/${seeded.run_id}/model`);
  await at('#/models/ui-registered');
  await page.locator('[data-testid=version-row][data-version="1"]').waitFor();
  assert.deepEqual(
    await page.locator('[data-testid=version-row]').evaluateAll((rows) => rows.map((r) => r.dataset.version)),
    ['2', '1'],
  );
});

test('deleting a version and an unknown model name', async () => {
  await at('#/models/ui-registered/versions/2');
  await page.getByTestId('delete-version').click();
  await page.waitForFunction(() => location.hash === '#/models/ui-registered');
  await page.locator('[data-testid=version-row][data-version="1"]').waitFor();
  assert.equal(await page.locator('[data-testid=version-row][data-version="2"]').count(), 0);
  await at('#/models/no-such-model');
  await page.getByTestId('registry-missing').waitFor();
});
