// Who is using the UI. With auth on, a password sign-in is exchanged at once for a short-lived
// access token ("browser session", revoked on sign-out): the password never outlives the sign-in
// form, and only the token is kept, in sessionStorage (this tab, until it closes).
import { useSyncExternalStore } from 'react';
import { basicHeader, callAs, CURRENT_USER_PATH, type AccessToken, type User } from '../../api/auth';
import { ApiError, setAuthorization } from '../../api/client';

export type Session =
  | { state: 'checking' }
  /** The server runs without auth: everyone may do everything. */
  | { state: 'off' }
  | { state: 'signed-out'; notice?: string }
  /** `tokenId`: the session token this tab created (revoked on sign-out); absent for a pasted token or an SSO proxy. */
  | { state: 'signed-in'; user: User; via: 'password' | 'token' | 'proxy'; tokenId?: number };

export const STORAGE_KEY = 'runstash.session';
export const SESSION_TOKEN_NAME = 'browser session';
const SESSION_DAYS = 1;

interface Stored {
  secret: string;
  tokenId?: number;
}

let session: Session = { state: 'checking' };
const listeners = new Set<() => void>();

function publish(next: Session): void {
  session = next;
  for (const listener of listeners) listener();
}

export function currentSession(): Session {
  return session;
}

export function useSession(): Session {
  return useSyncExternalStore(
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    () => session,
  );
}

function store(stored: Stored | undefined): void {
  if (stored) window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(stored));
  else window.sessionStorage.removeItem(STORAGE_KEY);
}

export function parseStored(text: string | null): Stored | undefined {
  if (!text) return undefined;
  try {
    const value = JSON.parse(text) as Partial<Stored>;
    if (typeof value.secret !== 'string' || !value.secret) return undefined;
    return { secret: value.secret, tokenId: typeof value.tokenId === 'number' ? value.tokenId : undefined };
  } catch {
    return undefined;
  }
}

function expired(): void {
  if (session.state !== 'signed-in' || session.via === 'proxy') return;
  setAuthorization(undefined);
  store(undefined);
  publish({ state: 'signed-out', notice: 'Your session ended (the token expired or was revoked). Please sign in again.' });
}

async function adoptToken(stored: Stored, via: 'password' | 'token'): Promise<void> {
  const { user } = await callAs<{ user: User }>(`Bearer ${stored.secret}`, 'GET', CURRENT_USER_PATH);
  store(stored);
  setAuthorization(`Bearer ${stored.secret}`, expired);
  publish({ state: 'signed-in', user, via, tokenId: stored.tokenId });
}

/** Decides at start-up: auth off (404), an SSO proxy or a kept token (200), or sign in (401). */
export async function probe(): Promise<void> {
  const kept = parseStored(window.sessionStorage.getItem(STORAGE_KEY));
  if (kept) {
    try {
      await adoptToken(kept, kept.tokenId === undefined ? 'token' : 'password');
      return;
    } catch {
      store(undefined);
    }
  }
  try {
    const { user } = await callAs<{ user: User }>(undefined, 'GET', CURRENT_USER_PATH);
    publish({ state: 'signed-in', user, via: 'proxy' });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) publish({ state: 'off' });
    else if (error instanceof ApiError && error.status === 401) publish({ state: 'signed-out' });
    else await probeWithCookies(error);
  }
}

/** An SSO proxy may need its cookie to let the request through; asked once more with it. */
async function probeWithCookies(first: unknown): Promise<void> {
  try {
    const { user } = await callAs<{ user: User }>(undefined, 'GET', CURRENT_USER_PATH, undefined, 'same-origin');
    publish({ state: 'signed-in', user, via: 'proxy' });
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) publish({ state: 'off' });
    else publish({ state: 'signed-out', notice: (error instanceof Error ? error : (first as Error)).message });
  }
}

export async function signInWithPassword(username: string, password: string): Promise<void> {
  const created = await callAs<{ token: AccessToken; secret: string }>(
    basicHeader(username, password),
    'POST',
    'ajax-api/2.0/mlflow/users/tokens/create',
    { name: SESSION_TOKEN_NAME, expires_in_days: SESSION_DAYS },
  );
  await adoptToken({ secret: created.secret, tokenId: created.token.id }, 'password');
}

export async function signInWithToken(secret: string): Promise<void> {
  await adoptToken({ secret: secret.trim() }, 'token');
}

/** Forgets the token; a session token this tab created is revoked first (best effort). */
export async function signOut(): Promise<void> {
  const kept = parseStored(window.sessionStorage.getItem(STORAGE_KEY));
  if (kept?.tokenId !== undefined) {
    await callAs(`Bearer ${kept.secret}`, 'POST', 'ajax-api/2.0/mlflow/users/tokens/revoke', { id: kept.tokenId }).catch(() => undefined);
  }
  store(undefined);
  setAuthorization(undefined);
  publish({ state: 'signed-out', notice: 'Signed out.' });
}
