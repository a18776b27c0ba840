import { useEffect, type ReactNode } from 'react';
import { AccountPage } from './pages/admin/AccountPage';
import { AdminPage } from './pages/admin/AdminPage';
import { ComparePage } from './pages/compare/ComparePage';
import { ExperimentsPage } from './pages/experiments/ExperimentsPage';
import { LoggedModelPage } from './pages/models/LoggedModelPage';
import { ModelVersionPage } from './pages/models/ModelVersionPage';
import { RegisteredModelPage } from './pages/models/RegisteredModelPage';
import { RegisteredModelsPage } from './pages/models/RegisteredModelsPage';
import { RunPage } from './pages/run/RunPage';
import { RunsPage } from './pages/runs/RunsPage';
import { probe, useSession } from './pages/signin/session';
import { SignInPage } from './pages/signin/SignInPage';
import { UserMenu } from './pages/signin/UserMenu';
import { TraceView } from './pages/traces/TraceView';
import { hrefOf, paths, routeOf, type Route } from './routing/route';
import { useLocation } from './routing/useLocation';

function NotFound({ path }: { path: string }): ReactNode {
  return (
    <section data-testid="not-found">
      <h1>Page not found</h1>
      <p>
        Nothing lives at <code>{path}</code>.
      </p>
      <p>
        <a href={hrefOf(paths.experiments())} data-testid="back-home">
          ← Back to the experiments
        </a>{' '}
        ·{' '}
        <button type="button" className="link" onClick={() => window.history.back()}>
          go back
        </button>
      </p>
    </section>
  );
}

function Page({ route }: { route: Route }): ReactNode {
  switch (route.page) {
    case 'experiments':
      return <ExperimentsPage />;
    case 'runs':
      return <RunsPage key={route.experimentIds.join(',')} experimentIds={route.experimentIds} />;
    case 'run':
      return <RunPage key={route.runId} experimentId={route.experimentId} runId={route.runId} routeTab={route.tab} artifactPath={route.artifactPath} />;
    case 'logged-model':
      return <LoggedModelPage key={route.modelId} experimentId={route.experimentId} modelId={route.modelId} />;
    case 'registered-model':
      return route.version ? (
        <ModelVersionPage key={`${route.name}/${route.version}`} name={route.name} version={route.version} />
      ) : (
        <RegisteredModelPage key={route.name} name={route.name} />
      );
    case 'registered-models':
      return <RegisteredModelsPage />;
    case 'admin':
      return <AdminPage />;
    case 'account':
      return <AccountPage />;
    case 'compare':
      return <ComparePage runIds={route.runIds} />;
    case 'trace':
      return <TraceView key={route.traceId} experimentId={route.experimentId} traceId={route.traceId} />;
    case 'not-found':
      return <NotFound path={route.path} />;
  }
}

let probed = false;

/** Signed out (auth on): the sign-in page at any address, which opens once signed in. */
function Gate({ children }: { children: ReactNode }): ReactNode {
  const session = useSession();
  useEffect(() => {
    if (probed) return;
    probed = true;
    void probe();
  }, []);
  if (session.state === 'checking') return <p className="muted">Loading…</p>;
  if (session.state === 'signed-out') return <SignInPage notice={session.notice} />;
  return children;
}

export function App(): ReactNode {
  const location = useLocation();
  return (
    <>
      <header className="topbar">
        <a href={hrefOf(paths.experiments())} className="brand">
          runstash
        </a>
        <a href={hrefOf(paths.experiments())}>Experiments</a>
        <a href={hrefOf(paths.registeredModels())} data-testid="nav-models">
          Models
        </a>
        <UserMenu />
      </header>
      <main>
        <Gate>
          <Page route={routeOf(location)} />
        </Gate>
      </main>
    </>
  );
}
