// The UI under `runstash server --static-prefix /ml`: relative asset and API paths keep working.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, resultsDir, startServer } from './harness.mjs';

let server;
let browser;

async function call(method, path, body) {
  const response = await fetch(`${server.url}/${path}`, {
    method,
    headers: { 'Content-Type': method === 'PUT' ? 'text/plain' : 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  assert.equal(response.status, 200, `${path}: ${await response.clone().text()}`);
  const text = await response.text();
  return text ? JSON.parse(text) : {};
}

before(async () => {
  // Always a server of its own (even when E2E_BASE_URL points the other tests elsewhere).
  server = await startServer('', { prefix: '/ml' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('run page, metric chart and artifact preview under a static prefix', async () => {
  const { experiment_id: experimentId } = await call('POST', 'api/2.0/mlflow/experiments/create', { name: 'prefixed' });
  const { run } = await call('POST', 'api/2.0/mlflow/runs/create', { experiment_id: experimentId, run_name: 'under-prefix', start_time: Date.now() });
  const runId = run.info.run_id;
  const metrics = Array.from({ length: 20 }, (_, step) => ({ key: 'loss', value: 1 / (step + 1), timestamp: Date.now(), step }));
  await call('POST', 'api/2.0/mlflow/runs/log-batch', { run_id: runId, metrics });
  const root = run.info.artifact_uri.replace(/^mlflow-artifacts:\//, '');
  await call('PUT', `api/2.0/mlflow-artifacts/artifacts/${root}/hello.txt`, 'hello from a prefix');

  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.url}/#/experiments/${experimentId}/runs/${runId}?tab=charts`);
  await page.getByTestId('run-name').getByText('under-prefix').waitFor();
  await page.waitForFunction(() => document.querySelector('[data-title=loss]')?.dataset.points === '20');
  await page.getByTestId('tab-artifacts').click();
  await page.locator('[data-testid=artifact-file][data-path="hello.txt"]').click();
  await page.getByTestId('text-preview').getByText('hello from a prefix').waitFor();
  const href = await page.getByTestId('download-link').getAttribute('href');
  assert.ok(new URL(href, page.url()).pathname.startsWith('/ml/get-artifact'), href);
  await page.screenshot({ path: join(resultsDir, 'static-prefix.png') });
});
