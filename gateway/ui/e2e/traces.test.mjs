// Browser tests of the traces UI: a real runstash server, traces written by the stock mlflow
// client (and one OTLP/HTTP protobuf upload per big trace), driven in Chromium.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, resultsDir, seed, startServer } from './harness.mjs';

/** Open-time bounds of the brief: all spans of 100 / 1,000, the first of 30,000. */
const BOUNDS_MS = { 100: 1000, 1000: 2000, 30000: 3000 };
/** Longest main-thread task allowed while a big trace streams in. */
const MAX_TASK_MS = 500;
const TAIL_MS = 2000;

let server;
let browser;
let page;
let seeded;
const timings = {};

const shot = (name) => page.screenshot({ path: join(resultsDir, `${name}.png`), fullPage: true });
const at = (hash) => page.goto(`${server.url}/${hash}`);
const traceRows = () => page.locator('[data-testid=trace-row]');
const traceIds = async () => traceRows().evaluateAll((rows) => rows.map((r) => r.dataset.traceId));
const tracesTab = (query = '') => at(`#/experiments/${seeded.experiment_id}?tab=traces${query}`);

async function filterTraces(text) {
  await page.getByLabel('Filter traces').fill(text);
  await page.getByLabel('Filter traces').press('Enter');
}

/** Waits until the table shows exactly `count` traces (the count line says so once loaded). */
async function waitForCount(count) {
  await page.getByTestId('traces-count').getByText(new RegExp(`^${count} traces?$`)).waitFor();
}

/** One span through OTLP/HTTP JSON, the way an OpenTelemetry SDK exports it. */
async function sendOtlpSpan(name) {
  const now = BigInt(Date.now()) * 1_000_000n;
  const body = {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'e2e-tail' } }] },
        scopeSpans: [
          {
            spans: [
              {
                traceId: randomBytes(16).toString('hex'),
                spanId: randomBytes(8).toString('hex'),
                name,
                kind: 1,
                startTimeUnixNano: String(now),
                endTimeUnixNano: String(now + 5_000_000n),
                attributes: [{ key: 'mlflow.spanInputs', value: { stringValue: JSON.stringify({ tail: name }) } }],
                status: { code: 1 },
              },
            ],
          },
        ],
      },
    ],
  };
  const response = await fetch(`${server.trackingUri}/v1/traces`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'x-mlflow-experiment-id': seeded.experiment_id },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 200, await response.text());
}

/** Opens a trace by URL; returns ms to the first span row and to the last span loaded. */
async function openTrace(traceId, spans) {
  await at('#/experiments');
  await page.evaluate(() => {
    window.__longest = 0;
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longest = Math.max(window.__longest, entry.duration);
    }).observe({ type: 'longtask', buffered: false });
  });
  const t0 = Date.now();
  await page.evaluate((hash) => (window.location.hash = hash), `#/experiments/${seeded.experiment_id}/traces/${traceId}`);
  await page.locator('[data-testid=span-row]').first().waitFor({ timeout: 60_000 });
  const first = Date.now() - t0;
  await page.locator(`[data-testid=span-count][data-done]`).waitFor({ timeout: 120_000 });
  const all = Date.now() - t0;
  assert.equal(await page.getByTestId('span-count').textContent(), `${spans} spans`);
  const longestTask = await page.evaluate(() => window.__longest);
  return { first, all, longestTask };
}

before(async () => {
  mkdirSync(resultsDir, { recursive: true });
  server = await startServer();
  try {
    seeded = await seed(server.trackingUri, 'seed_traces.py');
  } catch (error) {
    error.message += `\n--- server log (tail) ---\n${server.log?.().slice(-4000) ?? ''}`;
    throw error;
  }
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(15_000);
});

after(async () => {
  if (Object.keys(timings).length) writeFileSync(join(resultsDir, 'trace-open-times.json'), `${JSON.stringify(timings, null, 2)}\n`);
  await browser?.close();
  await server?.stop();
});

test('the Traces tab lists every trace with previews, latency, status, tokens, tags and assessments', async () => {
  await tracesTab();
  await waitForCount(7);
  const [first] = seeded.chat_ids;
  const row = page.locator(`[data-testid=trace-row][data-trace-id="${first}"]`);
  assert.match(await row.locator('.trace-request').textContent(), /what is runstash\?/);
  assert.match(await row.locator('.trace-response').textContent(), /answer to what is runstash\? from 2 docs/);
  assert.equal(await row.locator('.trace-state').textContent(), 'OK');
  assert.equal(await row.locator('.trace-tokens').textContent(), '20');
  assert.match(await row.locator('.trace-tags').textContent(), /team=search/);
  assert.match(await row.locator('.trace-assessments').textContent(), /correct: true/);
  assert.match(await row.locator('.trace-latency').textContent(), /^\d+(ms|\.\ds)$/);
  const failed = page.locator(`[data-testid=trace-row][data-trace-id="${seeded.error_id}"]`);
  assert.equal(await failed.locator('.trace-state').textContent(), 'ERROR');
  assert.match(await failed.locator('.trace-assessments').textContent(), /correct: false/);
  await shot('traces-table');
});

test('the filter box takes MLflow trace search grammar and shows its errors', async () => {
  await tracesTab();
  await waitForCount(7);
  await filterTraces("trace.status = 'ERROR'");
  await waitForCount(1);
  assert.deepEqual(await traceIds(), [seeded.error_id]);
  await filterTraces("span.type = 'LLM' and tags.team = 'search'");
  await waitForCount(3);
  assert.deepEqual((await traceIds()).sort(), [...seeded.chat_ids].sort());
  await filterTraces("feedback.correct = 'true'");
  await waitForCount(1);
  assert.deepEqual(await traceIds(), [seeded.chat_ids[0]]);
  await filterTraces("metadata.`mlflow.trace.session` = 'session-a'");
  await waitForCount(2);
  await shot('traces-filter');
  // The syntax help's examples run as they are.
  await page.getByTestId('filter-help').locator('summary').click();
  await page.getByTestId('filter-help').getByRole('button', { name: "trace.name = 'chat'" }).click();
  await waitForCount(3);
  assert.equal(await page.getByLabel('Filter traces').inputValue(), "trace.name = 'chat'");
  await filterTraces('trace.status >>> 1');
  await page.getByTestId('error').waitFor();
  assert.match(await page.getByTestId('error').textContent(), /INVALID_PARAMETER_VALUE/);
  await shot('traces-filter-error');
});

test('live tail adds new traces on top; paused, it adds none until resumed', async () => {
  await tracesTab();
  await waitForCount(7);
  await sendOtlpSpan('tail-one');
  await page.getByTestId('traces-count').getByText('8 traces (1 new since opened)').waitFor({ timeout: 4 * TAIL_MS });
  assert.match(await traceRows().first().locator('.trace-request').textContent(), /tail-one/);
  await page.getByTestId('tail-toggle').click();
  await page.getByTestId('tail-state').getByText('live tail paused').waitFor();
  await sendOtlpSpan('tail-two');
  // Three poll periods with nothing new on screen is what "paused" means.
  await page.waitForTimeout(3 * TAIL_MS);
  assert.equal(await traceRows().count(), 8);
  await page.getByTestId('tail-toggle').click();
  await page.getByTestId('traces-count').getByText('9 traces (2 new since opened)').waitFor({ timeout: 4 * TAIL_MS });
  assert.match(await traceRows().first().locator('.trace-request').textContent(), /tail-two/);
});

test('the trace view shows the span tree, payloads as JSON, the run link and the assessments panel', async () => {
  const [first] = seeded.chat_ids;
  await tracesTab();
  await page.locator(`[data-testid=trace-row][data-trace-id="${first}"] a`).click();
  await page.locator('[data-testid=span-count][data-done]').waitFor();
  const names = await page.locator('[data-testid=span-row]').evaluateAll((rows) => rows.map((r) => r.dataset.spanName));
  assert.deepEqual(names, ['chat', 'retrieve', 'postprocess', 'generate']);
  assert.equal(await page.getByTestId('trace-title').locator('text=chat').count(), 1);
  await page.locator('[data-testid=span-row][data-span-name=generate]').click();
  await page.getByTestId('span-detail-name').getByText('generate').waitFor();
  assert.match(await page.getByTestId('span-outputs').textContent(), /answer to what is runstash\? from 2 docs/);
  assert.match(await page.getByTestId('span-inputs').textContent(), /question/);
  await page.locator('[data-testid=span-row][data-span-name=postprocess]').click();
  await page.getByTestId('span-detail-name').getByText('postprocess').waitFor();
  await page.getByTestId('span-attributes').locator('summary').click();
  assert.match(await page.getByTestId('span-attributes').textContent(), /flavour.*vanilla/);
  // Assessments: feedback with its rationale and source, the expectation with its value.
  const feedback = page.locator('[data-testid=assessment-row][data-name=correct]');
  assert.match(await feedback.textContent(), /feedback.*true.*matches the docs.*HUMAN.*alice@example\.com/);
  const expectation = page.locator('[data-testid=assessment-row][data-name=expected_answer]');
  assert.match(await expectation.textContent(), /expectation.*a tracking server/);
  await shot('trace-view');
  // Collapsing the root hides its children.
  await page.locator('[data-testid=span-row][data-span-name=chat] [data-testid=span-toggle]').click();
  assert.equal(await page.locator('[data-testid=span-row]').count(), 1);
  await page.locator('[data-testid=span-row][data-span-name=chat] [data-testid=span-toggle]').click();
  assert.equal(await page.locator('[data-testid=span-row]').count(), 4);
  await page.getByTestId('trace-run-link').click();
  await page.getByTestId('run-name').getByText('traced-run').waitFor();
  assert.ok(page.url().endsWith(`/runs/${seeded.run_id}`), page.url());
});

test('an exception is highlighted in the tree and in the span details', async () => {
  await at(`#/experiments/${seeded.experiment_id}/traces/${seeded.error_id}`);
  await page.locator('[data-testid=span-count][data-done]').waitFor();
  assert.equal(await page.getByTestId('trace-state').textContent(), 'ERROR');
  const failed = await page.locator('[data-testid=span-row][data-error]').evaluateAll((rows) => rows.map((r) => r.dataset.spanName));
  assert.deepEqual(failed.sort(), ['failing-chat', 'lookup']);
  await page.locator('[data-testid=span-row][data-span-name=lookup]').click();
  await page.getByTestId('span-detail-name').getByText('lookup').waitFor();
  assert.match(await page.getByTestId('span-exception').textContent(), /ValueError: no index for 'broken question'/);
  assert.equal(await page.getByTestId('span-status').textContent(), 'ERROR');
  assert.match(await page.locator('[data-testid=assessment-row][data-name=correct]').textContent(), /false.*it crashed/);
  await shot('trace-exception');
});

for (const spans of [100, 1000, 30000]) {
  test(`a ${spans}-span trace opens within ${BOUNDS_MS[spans]} ms without freezing the tab`, async () => {
    const result = await openTrace(seeded.big[String(spans)], spans);
    timings[spans] = result;
    const measured = spans === 30000 ? result.first : result.all;
    assert.ok(measured <= BOUNDS_MS[spans], `${spans} spans: ${JSON.stringify(result)}`);
    assert.ok(result.longestTask <= MAX_TASK_MS, `longest main-thread task ${result.longestTask} ms`);
    // The tree is virtual: a few dozen rows exist however many spans there are.
    assert.ok((await page.locator('[data-testid=span-row]').count()) < 120);
    assert.equal(await page.getByTestId('span-tree').getAttribute('data-rows'), String(spans));
    if (spans === 30000) {
      // The bottom of the tree renders on demand; its last span opens with its own payload.
      await page.getByTestId('span-tree').evaluate((el) => (el.scrollTop = el.scrollHeight));
      const last = page.locator(`[data-index="${spans - 1}"] [data-testid=span-row]`);
      await last.waitFor();
      const name = await last.getAttribute('data-span-name');
      assert.match(name, /^step-\d+$/);
      await last.click();
      await page.getByTestId('span-detail-name').getByText(name, { exact: true }).waitFor();
      assert.match(await page.getByTestId('span-inputs').textContent(), new RegExp(`input of step ${name.slice(5)}\\b`));
      // Find: a span deep in the middle is selected and scrolled into view.
      await page.getByLabel('Find span').fill('step-15151');
      await page.getByLabel('Find span').press('Enter');
      await page.getByTestId('span-detail-name').getByText('step-15151', { exact: true }).waitFor();
      assert.equal(await page.getByTestId('span-find-count').textContent(), '1 of 1');
      await page.locator('[data-testid=span-row][data-span-name="step-15151"]').waitFor();
    }
    await shot(`trace-${spans}-spans`);
  });
}

test('sessions group traces by session id and open as their turns in order', async () => {
  await at(`#/experiments/${seeded.experiment_id}?tab=sessions`);
  await page.locator('[data-testid=session-row][data-session=session-a]').waitFor();
  assert.equal(await page.locator('[data-testid=session-row]').count(), 2);
  const a = page.locator('[data-testid=session-row][data-session=session-a]');
  assert.match(await a.textContent(), /session-a\s*2.*what is runstash\?.*alice/);
  await shot('sessions');
  await a.getByRole('button', { name: 'session-a' }).click();
  await page.locator('[data-testid=session-turn]').nth(1).waitFor();
  const turns = await page.locator('[data-testid=session-turn]').evaluateAll((rows) => rows.map((r) => r.dataset.traceId));
  assert.deepEqual(turns, seeded.chat_ids.slice(0, 2));
  await shot('session-detail');
});
