import { useState, type ReactNode } from 'react';
import { listUsers } from '../../api/auth';
import { ErrorBox } from '../../components/ErrorBox';
import { useAsync } from '../../util/useAsync';
import { useSession } from '../signin/session';
import { UserGrants } from './UserGrants';
import { CreateUser, UsersTable } from './UsersTable';

/** Users (create, admin flag, password reset, delete) and each user's grants; admins only. */
export function AdminPage(): ReactNode {
  const session = useSession();
  const admin = session.state === 'signed-in' && Boolean(session.user.is_admin);
  const { data: users, error, reload } = useAsync(`users:${admin}`, (signal) => (admin ? listUsers(signal) : Promise.resolve([])));
  const [selected, setSelected] = useState<string | undefined>(undefined);
  if (session.state === 'off') {
    return <p className="notice">This server runs without authentication (start it with <code>--app-name basic-auth</code> to have users).</p>;
  }
  if (!admin) return <p className="notice" data-testid="admin-only">Only administrators manage users and permissions.</p>;
  const me = session.state === 'signed-in' ? session.user.username : '';
  const chosen = users?.find((u) => u.username === selected);
  return (
    <section data-testid="admin-page">
      <h1>Users and permissions</h1>
      {error && <ErrorBox error={error} />}
      <div className="admin-grid">
        <div>
          <h2>Users</h2>
          <CreateUser onCreated={(name) => { reload(); setSelected(name); }} />
          {users && <UsersTable users={users} me={me} selected={selected} onSelect={setSelected} onChanged={reload} />}
        </div>
        <div>
          {chosen ? (
            <UserGrants key={chosen.username} user={chosen} />
          ) : (
            <p className="muted">Select a user to see and change their permissions.</p>
          )}
        </div>
      </div>
    </section>
  );
}
