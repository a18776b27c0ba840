// Browser tests with auth on (`runstash server --app-name basic-auth`): sign-in, the admin page,
// access tokens, and a READ-only user who sees runs, charts and artifacts but no edit controls.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, resultsDir, seed, seriesPixels, startServer } from './harness.mjs';

const ADMIN = ['admin', 'admin-password-e2e-1'];
const READER = ['reader', 'reader-password-e2e-1'];

let server;
let browser;
let page;
let seeded;
let configDir;

const shot = (name) => page.screenshot({ path: join(resultsDir, `${name}.png`), fullPage: true });
const at = (hash) => page.goto(`${server.url}/${hash}`);
const basic = ([user, password]) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** A REST call outside the browser, as `authorization` (a header value or undefined). */
async function api(method, path, authorization, body) {
  const headers = authorization ? { Authorization: authorization } : {};
  if (body) headers['Content-Type'] = 'application/json';
  const response = await fetch(`${server.url}/${path}`, { method, headers, body: body && JSON.stringify(body) });
  return { status: response.status, text: await response.text() };
}

const sessionSecret = () => page.evaluate(() => JSON.parse(sessionStorage.getItem('runstash.session') ?? '{}').secret);

async function signIn([user, password]) {
  await page.getByTestId('signin-page').waitFor();
  await page.getByTestId('signin-username').fill(user);
  await page.getByTestId('signin-secret').fill(password);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('signed-in-as').getByText(user, { exact: true }).waitFor();
}

async function signOut() {
  await page.getByTestId('sign-out').click();
  await page.getByTestId('signin-page').waitFor();
}

before(async () => {
  mkdirSync(resultsDir, { recursive: true });
  // Users see nothing they were not granted, so the READ grant below is what lets the reader in.
  configDir = mkdtempSync(join(tmpdir(), 'runstash-ui-auth-'));
  writeFileSync(join(configDir, 'auth.ini'), '[mlflow]\ndefault_permission = NO_PERMISSIONS\n');
  server = await startServer(undefined, {
    args: ['--app-name', 'basic-auth'],
    env: {
      MLFLOW_AUTH_CONFIG_PATH: join(configDir, 'auth.ini'),
      MLFLOW_AUTH_ADMIN_USERNAME: ADMIN[0],
      MLFLOW_AUTH_ADMIN_PASSWORD: ADMIN[1],
    },
  });
  try {
    seeded = await seed(server.trackingUri, 'seed.py', { MLFLOW_TRACKING_USERNAME: ADMIN[0], MLFLOW_TRACKING_PASSWORD: ADMIN[1] });
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
  if (configDir) rmSync(configDir, { recursive: true, force: true });
});

test('a deep link asks to sign in, refuses a wrong password, then opens the experiment', async () => {
  await at(`#/experiments/${seeded.experiment_id}`);
  await page.getByTestId('signin-page').waitFor();
  await shot('auth-signin');
  await page.getByTestId('signin-username').fill(ADMIN[0]);
  await page.getByTestId('signin-secret').fill('not-the-password');
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('signin-error').getByText('Wrong user name, password or token.').waitFor();
  await page.getByTestId('signin-secret').fill(ADMIN[1]);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('signed-in-as').getByText('admin', { exact: true }).waitFor();
  await page.locator('[data-testid=run-row]').nth(2).waitFor();
  // The password is kept nowhere: only a session token, in sessionStorage.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }));
  assert.ok(!stored.includes(ADMIN[1]), 'password not stored');
  const secret = await sessionSecret();
  assert.match(secret, /\S{20,}/);
  assert.equal((await api('GET', 'api/2.0/mlflow/users/current', `Bearer ${secret}`)).status, 200);
  // An admin sees the run actions.
  await page.locator('[data-testid=run-row] input[type=checkbox]').first().check();
  await page.getByRole('button', { name: 'Delete', exact: true }).waitFor();
});

test('the admin creates users, resets a password, deletes one and grants READ', async () => {
  await page.getByTestId('nav-admin').click();
  await page.getByTestId('admin-page').waitFor();
  for (const [name, password] of [READER, ['temp-user', 'temp-password-1234']]) {
    await page.getByLabel('New user name').fill(name);
    await page.getByLabel('New user password').fill(password);
    await page.getByRole('button', { name: 'Create user' }).click();
    await page.locator(`[data-testid=user-row][data-username="${name}"]`).waitFor();
  }
  assert.equal((await api('GET', 'api/2.0/mlflow/users/current', basic(['temp-user', 'temp-password-1234']))).status, 200);
  const temp = page.locator('[data-testid=user-row][data-username="temp-user"]');
  await temp.getByRole('button', { name: 'Reset password' }).click();
  await page.getByLabel('New password for temp-user').fill('temp-password-5678');
  await temp.getByRole('button', { name: 'Set' }).click();
  await page.getByText('Password of temp-user changed.').waitFor();
  assert.equal((await api('GET', 'api/2.0/mlflow/users/current', basic(['temp-user', 'temp-password-5678']))).status, 200);
  await temp.getByLabel('temp-user is an administrator').click();
  await page.waitForFunction(() => document.querySelector('[aria-label="temp-user is an administrator"]')?.checked === true);
  const made = JSON.parse((await api('GET', 'api/2.0/mlflow/users/get?username=temp-user', basic(ADMIN))).text);
  assert.equal(made.user.is_admin, true);
  await temp.getByRole('button', { name: 'Delete' }).click();
  await temp.waitFor({ state: 'detached' });
  assert.equal((await api('GET', 'api/2.0/mlflow/users/current', basic(['temp-user', 'temp-password-5678']))).status, 401);

  await page.locator('[data-testid=user-row][data-username=reader]').getByRole('button', { name: 'reader' }).click();
  const grants = page.locator('[data-testid=user-grants][data-username=reader]');
  await grants.getByLabel('Resource', { exact: true }).fill(seeded.experiment_id);
  await grants.getByLabel('Permission to grant').selectOption('EDIT');
  await grants.getByRole('button', { name: 'Grant' }).click();
  const row = grants.locator(`[data-testid=grant-row][data-resource="${seeded.experiment_id}"]`);
  await row.waitFor();
  // Change the grant down to READ.
  await row.getByLabel(`Permission on ${seeded.experiment_id}`).selectOption('READ');
  await page.waitForFunction(
    async ({ id, auth }) => {
      const r = await fetch(`ajax-api/3.0/mlflow/users/permissions/get?username=reader&resource_type=experiment&resource_id=${id}`, { headers: { Authorization: auth }, credentials: 'omit' });
      return (await r.json()).permission === 'READ';
    },
    { id: seeded.experiment_id, auth: basic(ADMIN) },
  );
  // A grant on a model, then revoked.
  await grants.getByLabel('Resource type').selectOption('registered_model');
  await grants.getByLabel('Resource', { exact: true }).fill('some-model');
  await grants.getByRole('button', { name: 'Grant' }).click();
  const modelRow = grants.locator('[data-testid=grant-row][data-resource="some-model"]');
  await modelRow.waitFor();
  await modelRow.getByRole('button', { name: 'Revoke' }).click();
  await modelRow.waitFor({ state: 'detached' });
  await shot('auth-admin');
});

test('access tokens: created and shown once, listed, usable, revoked', async () => {
  await page.getByTestId('nav-account').click();
  await page.getByTestId('account-page').waitFor();
  await page.getByLabel('Token name').fill('ci');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = (await page.getByTestId('new-token-secret').textContent()).trim();
  const ci = page.locator('[data-testid=token-row][data-name=ci]');
  await ci.waitFor();
  await page.locator('[data-testid=token-row][data-name="browser session"]').getByText('this session').waitFor();
  await shot('auth-tokens');
  const current = await api('GET', 'api/2.0/mlflow/users/current', `Bearer ${secret}`);
  assert.equal(current.status, 200);
  assert.equal(JSON.parse(current.text).user.username, 'admin');
  await page.getByRole('button', { name: 'Done' }).click();
  assert.equal(await page.getByTestId('new-token').count(), 0, 'the secret is not shown again');
  await ci.getByRole('button', { name: 'Revoke' }).click();
  await ci.getByText('revoked').waitFor();
  assert.equal((await api('GET', 'api/2.0/mlflow/users/current', `Bearer ${secret}`)).status, 401);
});

test('signing out revokes the session token', async () => {
  const secret = await sessionSecret();
  await signOut();
  assert.equal((await api('GET', 'api/2.0/mlflow/users/current', `Bearer ${secret}`)).status, 401);
  assert.equal(await page.evaluate(() => sessionStorage.getItem('runstash.session')), null);
});

test('a READ user sees runs, charts and artifacts, with no edit or delete controls', async () => {
  const hidden = await api('POST', 'api/2.0/mlflow/experiments/create', basic(ADMIN), { name: 'not-granted' });
  assert.equal(hidden.status, 200, hidden.text);
  await at('#/experiments');
  // The reader's grants load once per session; every page after this reads them from memory, so
  // a control still absent once the page's data is on screen is absent for good.
  const grantsLoaded = page.waitForResponse((r) => r.url().includes('users/current/permissions') && r.status() === 200);
  await signIn(READER);
  await grantsLoaded;
  const row = page.locator('[data-testid=experiment-row]', { hasText: 'ui-e2e-' });
  await row.waitFor();
  assert.equal(await page.locator('[data-testid=experiment-row]', { hasText: 'not-granted' }).count(), 0, 'ungranted experiment not listed');
  assert.equal(await row.getByRole('button', { name: 'Delete' }).count(), 0);
  assert.equal(await row.getByLabel('Edit Experiment name').count(), 0);
  assert.equal(await page.getByTestId('nav-admin').count(), 0, 'no admin link');

  await at(`#/experiments/${seeded.experiment_id}`);
  await page.locator('[data-testid=run-row]').nth(2).waitFor();
  await page.locator('[data-testid=run-row] input[type=checkbox]').first().check();
  await page.getByText('1 selected').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Delete', exact: true }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Restore', exact: true }).count(), 0);

  await at(`#/experiments/${seeded.experiment_id}?tab=charts`);
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=metric-chart][data-title=loss]')?.dataset.drawn ?? 0) > 0);
  assert.ok((await seriesPixels(page, '[data-testid=metric-chart][data-title=loss] canvas')) > 50, 'loss chart drawn for READ');
  await shot('auth-reader-charts');

  const runId = seeded.run_ids[1];
  await at(`#/experiments/${seeded.experiment_id}/runs/${runId}`);
  await page.getByTestId('run-name').getByText('run-forest-1').waitFor();
  await page.getByTestId('params').getByText('forest').waitFor();
  await page.getByTestId('description').locator('h3', { hasText: 'Run 1' }).waitFor();
  assert.equal(await page.getByRole('button', { name: /^Edit / }).count(), 0, 'no edit buttons');
  assert.equal(await page.getByRole('button', { name: 'Add tag' }).count(), 0);
  assert.equal(await page.getByTestId('tags').getByRole('button', { name: 'remove' }).count(), 0);

  await page.getByTestId('tab-artifacts').click();
  await page.locator('[data-testid=artifact-file][data-path="notes.txt"]').click();
  await page.getByTestId('text-preview').getByText('learning rate 0.01').waitFor();
  await page.locator('[data-testid=artifact-file][data-path="plot.png"]').click();
  await page.waitForFunction(() => document.querySelector('[data-testid=image-preview]')?.naturalWidth === 16);
  assert.match(await page.getByTestId('image-preview').getAttribute('src'), /^blob:/);
  await shot('auth-reader-artifacts');
});

test('a READ user on a registered model sees it without edit, alias, tag or delete controls', async () => {
  const made = await api('POST', 'api/2.0/mlflow/registered-models/create', basic(ADMIN), { name: 'auth-model', description: 'shared' });
  assert.equal(made.status, 200, made.text);
  const granted = await api('POST', 'api/3.0/mlflow/users/permissions/grant', basic(ADMIN), {
    username: READER[0],
    resource_type: 'registered_model',
    resource_id: 'auth-model',
    permission: 'READ',
  });
  assert.equal(granted.status, 200, granted.text);
  await at('#/models/auth-model');
  await page.getByTestId('model-description').getByText('shared').waitFor();
  await page.getByTestId('model-aliases').waitFor();
  assert.equal(await page.getByRole('button', { name: /^Edit / }).count(), 0, 'no edit buttons');
  assert.equal(await page.getByTestId('delete-model').count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Set alias' }).count(), 0);
  assert.equal(await page.getByRole('button', { name: 'Add tag' }).count(), 0);
  await shot('auth-reader-model');
});

test('a denied action is refused: the READ user cannot delete a run or create a user', async () => {
  const secret = await sessionSecret();
  const runId = seeded.run_ids[0];
  const denied = await page.evaluate(
    async ({ auth, id }) => {
      const r = await fetch('ajax-api/2.0/mlflow/runs/delete', {
        method: 'POST',
        headers: { Authorization: auth, 'Content-Type': 'application/json' },
        body: JSON.stringify({ run_id: id }),
        credentials: 'omit',
      });
      return r.status;
    },
    { auth: `Bearer ${secret}`, id: runId },
  );
  assert.equal(denied, 403);
  const run = JSON.parse((await api('GET', `api/2.0/mlflow/runs/get?run_id=${runId}`, basic(ADMIN))).text);
  assert.equal(run.run.info.lifecycle_stage, 'active');
  assert.equal((await api('POST', 'api/2.0/mlflow/users/create', `Bearer ${secret}`, { username: 'x', password: 'y-password-1234' })).status, 403);
  await at('#/admin');
  await page.getByTestId('admin-only').waitFor();
});

test('the READ user signs in again with an access token of their own', async () => {
  await at('#/account');
  await page.getByLabel('Token name').fill('notebook');
  await page.getByRole('button', { name: 'Create token' }).click();
  const secret = (await page.getByTestId('new-token-secret').textContent()).trim();
  await signOut();
  await page.getByTestId('signin-mode-token').check();
  await page.getByTestId('signin-secret').fill(secret);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('signed-in-as').getByText('reader', { exact: true }).waitFor();
  // A pasted token is the user's own: signing out forgets it but does not revoke it.
  await signOut();
  assert.equal((await api('GET', 'api/2.0/mlflow/users/current', `Bearer ${secret}`)).status, 200);
});

test('a session token revoked elsewhere brings back the sign-in page with a notice', async () => {
  await signIn(READER);
  const { secret, tokenId } = await page.evaluate(() => JSON.parse(sessionStorage.getItem('runstash.session')));
  const revoked = await api('POST', 'api/2.0/mlflow/users/tokens/revoke', `Bearer ${secret}`, { id: tokenId });
  assert.equal(revoked.status, 200, revoked.text);
  await at(`#/experiments/${seeded.experiment_id}`);
  await page.getByTestId('signin-notice').getByText('Your session ended').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('runstash.session')), null);
  await signIn(READER);
  await page.locator('[data-testid=run-row]').first().waitFor();
});
