import { useCallback, useSyncExternalStore } from 'react';
import { formatHash, parseHash, withQuery, type Location } from './route';

// replaceState does not fire hashchange, so replacements announce themselves with this event.
const REPLACED = 'runstash:hash-replaced';

function subscribe(onChange: () => void): () => void {
  window.addEventListener('hashchange', onChange);
  window.addEventListener(REPLACED, onChange);
  return () => {
    window.removeEventListener('hashchange', onChange);
    window.removeEventListener(REPLACED, onChange);
  };
}

function snapshot(): string {
  return window.location.hash;
}

export function navigate(path: string, query: URLSearchParams = new URLSearchParams()): void {
  window.location.hash = formatHash(path, query);
}

export interface LocationState extends Location {
  /** Changes query keys; `replace` keeps the browser history short for small toggles. */
  setQuery: (changes: Record<string, string | undefined>, replace?: boolean) => void;
}

export function useLocation(): LocationState {
  const hash = useSyncExternalStore(subscribe, snapshot);
  const location = parseHash(hash);
  const setQuery = useCallback((changes: Record<string, string | undefined>, replace = false) => {
    const current = parseHash(window.location.hash);
    const next = formatHash(current.path, withQuery(current.query, changes));
    if (replace) {
      window.history.replaceState(window.history.state, '', next);
      window.dispatchEvent(new Event(REPLACED));
    } else {
      window.location.hash = next;
    }
  }, []);
  return { ...location, setQuery };
}
