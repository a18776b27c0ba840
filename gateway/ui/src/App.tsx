import type { ReactNode } from 'react';
import { ComparePage } from './pages/compare/ComparePage';
import { ExperimentsPage } from './pages/experiments/ExperimentsPage';
import { RunPage } from './pages/run/RunPage';
import { RunsPage } from './pages/runs/RunsPage';
import { hrefOf, paths, routeOf, type Route } from './routing/route';
import { useLocation } from './routing/useLocation';

function Page({ route }: { route: Route }): ReactNode {
  switch (route.page) {
    case 'experiments':
      return <ExperimentsPage />;
    case 'runs':
      return <RunsPage key={route.experimentIds.join(',')} experimentIds={route.experimentIds} />;
    case 'run':
      return <RunPage key={route.runId} experimentId={route.experimentId} runId={route.runId} />;
    case 'compare':
      return <ComparePage runIds={route.runIds} />;
    case 'not-found':
      return <p>Nothing at {route.path}.</p>;
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
