import type { ReactNode } from 'react';
import { hrefOf } from '../../routing/route';
import { signOut, useSession } from './session';

/** "Signed in as …", the admin and account pages, sign out; nothing with auth off. */
export function UserMenu(): ReactNode {
  const session = useSession();
  if (session.state !== 'signed-in') return null;
  return (
    <span className="user-menu">
      {session.user.is_admin && (
        <a href={hrefOf('/admin')} data-testid="nav-admin">
          Admin
        </a>
      )}
      <a href={hrefOf('/account')} data-testid="nav-account">
        Access tokens
      </a>
      <span data-testid="signed-in-as">
        Signed in as <strong>{session.user.username}</strong>
        {session.user.is_admin ? ' (admin)' : ''}
      </span>
      {session.via !== 'proxy' && (
        <button type="button" className="link" onClick={() => void signOut()} data-testid="sign-out">
          Sign out
        </button>
      )}
    </span>
  );
}
