// What the signed-in user may do to an experiment or registered model, so the UI hides the controls
// the server would refuse. The server still decides; this only keeps dead buttons off the page.
// One request for the user's grants (kept 30 s), one for an ungranted resource's level (the
// server's default), whatever the number of rows on screen.
import { currentGrants, effectiveLevel, rankOf, type Grant, type Level, type ResourceType } from '../../api/auth';
import { useAsync } from '../../util/useAsync';
import { useSession, type Session } from './session';

export interface Grants {
  isAdmin: boolean;
  byResource: ReadonlyMap<string, Level>;
}

export function grantKey(type: ResourceType, id: string): string {
  return `${type}\u0000${id}`;
}

export function indexGrants(isAdmin: boolean, grants: readonly Grant[]): Grants {
  return { isAdmin, byResource: new Map(grants.map((g) => [grantKey(g.resource_type, g.resource_pattern), g.permission])) };
}

/** The levels of `ids`: MANAGE for admins, the grant, else the default (absent: not known yet). */
export function levelsOf(grants: Grants, type: ResourceType, ids: readonly string[], fallback: Level | undefined): (Level | undefined)[] {
  return ids.map((id) => (grants.isAdmin ? 'MANAGE' : (grants.byResource.get(grantKey(type, id)) ?? fallback)));
}

/** The lowest of several levels (a page over several experiments allows what all of them allow). */
export function lowest(levels: readonly Level[]): Level {
  return levels.reduce<Level>((low, level) => (rankOf(level) < rankOf(low) ? level : low), 'MANAGE');
}

interface Cache {
  username: string;
  at: number;
  grants?: Promise<Grants>;
  /** Levels the server stated for single resources (users/permissions/get). */
  exact: Map<string, Promise<Level>>;
}

/** Grants changed by an administrator elsewhere show up within this time. */
const MAX_AGE_MS = 30_000;
let cache: Cache | undefined;

function cacheFor(username: string): Cache {
  const now = Date.now();
  if (cache?.username !== username || now - cache.at > MAX_AGE_MS) cache = { username, at: now, exact: new Map() };
  return cache;
}

/** Forgets grants after they change (the admin page calls it). */
export function forgetAccess(): void {
  cache = undefined;
}

function exactLevel(entry: Cache, type: ResourceType, id: string): Promise<Level> {
  const key = grantKey(type, id);
  let level = entry.exact.get(key);
  if (!level) {
    level = effectiveLevel(entry.username, type, id);
    entry.exact.set(key, level);
  }
  return level;
}

/**
 * Granted resources take their grant; every ungranted one has the server's default permission,
 * so one of them is asked for (exact for a single resource, whatever the number of rows).
 */
async function resolve(username: string, type: ResourceType, ids: readonly string[]): Promise<Level[]> {
  const entry = cacheFor(username);
  entry.grants ??= currentGrants().then(({ isAdmin, grants }) => indexGrants(isAdmin, grants));
  const grants = await entry.grants;
  const known = levelsOf(grants, type, ids, undefined);
  const ungranted = ids[known.indexOf(undefined)];
  if (ungranted === undefined) return known as Level[];
  const fallback = await exactLevel(entry, type, ungranted);
  return levelsOf(grants, type, ids, fallback) as Level[];
}

function everything(session: Session): boolean {
  return session.state === 'off' || (session.state === 'signed-in' && Boolean(session.user.is_admin));
}

/** The user's level on each of `ids` (undefined while loading); MANAGE everywhere with auth off. */
export function useLevels(type: ResourceType, ids: readonly string[]): Level[] | undefined {
  const session = useSession();
  const username = session.state === 'signed-in' ? session.user.username : '';
  const all = everything(session);
  const key = `${all}|${username}|${type}|${ids.join(',')}`;
  const { data } = useAsync(key, () => (all || !username ? Promise.resolve(ids.map((): Level => (all ? 'MANAGE' : 'NO_PERMISSIONS'))) : resolve(username, type, ids)));
  return data;
}

/** Whether the user has at least `needed` on every one of `ids` (false while not known). */
export function useCan(type: ResourceType, ids: string | readonly string[], needed: Level): boolean {
  const list = typeof ids === 'string' ? [ids] : ids;
  const levels = useLevels(type, list);
  return levels !== undefined && rankOf(lowest(levels)) >= rankOf(needed);
}
