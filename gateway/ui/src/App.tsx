import type { ReactNode } from 'react';
import { ComparePage } from './pages/compare/ComparePage';
import { ExperimentsPage } from './pages/experiments/ExperimentsPage';
import { LoggedModelPage } from './pages/models/LoggedModelPage';
import { RegisteredModelPage } from './pages/models/RegisteredModelPage';
import { RunPage } from './pages/run/RunPage';
import { RunsPage } from './pages/runs/RunsPage';
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
      return <RegisteredModelPage key={route.name} name={route.name} version={route.version} />;
    case 'compare':
      return <ComparePage runIds={route.runIds} />;
    case 'trace':
      return <TraceView key={route.traceId} experimentId={route.experimentId} traceId={route.traceId} />;
    case 'not-found':
      return <NotFound path={route.path} />;
  }
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
      </header>
      <main>
        <Page route={routeOf(location)} />
      </main>
    </>
  );
}
