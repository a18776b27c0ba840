import { useState, type ReactNode } from 'react';
import { createUser, deleteUser, setAdmin, updatePassword, type User } from '../../api/auth';
import { ErrorBox } from '../../components/ErrorBox';
import { toError } from './errors';

export function CreateUser({ onCreated }: { onCreated: (username: string) => void }): ReactNode {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<Error | undefined>(undefined);
  return (
    <form
      className="toolbar"
      data-testid="create-user"
      onSubmit={(e) => {
        e.preventDefault();
        setError(undefined);
        createUser(username.trim(), password).then(
          (user) => {
            setUsername('');
            setPassword('');
            onCreated(user.username);
          },
          (err: unknown) => setError(toError(err)),
        );
      }}
    >
      <input value={username} onChange={(e) => setUsername(e.target.value)} placeholder="user name" aria-label="New user name" autoComplete="off" />
      <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} placeholder="password" aria-label="New user password" autoComplete="new-password" />
      <button type="submit" disabled={!username.trim() || !password}>
        Create user
      </button>
      {error && <ErrorBox error={error} />}
    </form>
  );
}

function ResetPassword({ username, onDone }: { username: string; onDone: (error?: Error) => void }): ReactNode {
  const [password, setPassword] = useState('');
  return (
    <form
      className="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        updatePassword(username, password).then(() => onDone(), (err: unknown) => onDone(toError(err)));
      }}
    >
      <input type="password" value={password} onChange={(e) => setPassword(e.target.value)} aria-label={`New password for ${username}`} autoComplete="new-password" autoFocus />
      <button type="submit" disabled={!password}>
        Set
      </button>
      <button type="button" onClick={() => onDone()}>
        Cancel
      </button>
    </form>
  );
}

interface RowProps {
  user: User;
  isMe: boolean;
  selected: boolean;
  resetting: boolean;
  onSelect: () => void;
  onReset: () => void;
  onResetDone: (error?: Error) => void;
  act: (action: Promise<void>) => void;
}

/** One user: select (their grants), admin flag, reset password, delete (not oneself). */
function UserRow({ user, isMe, selected, resetting, onSelect, onReset, onResetDone, act }: RowProps): ReactNode {
  return (
    <tr data-testid="user-row" data-username={user.username} className={selected ? 'differs' : undefined}>
      <td>
        <button type="button" className="link" onClick={onSelect}>
          {user.username}
        </button>
      </td>
      <td>
        <input
          type="checkbox"
          checked={Boolean(user.is_admin)}
          disabled={isMe}
          aria-label={`${user.username} is an administrator`}
          onChange={(e) => act(setAdmin(user.username, e.target.checked))}
        />
      </td>
      <td>
        {resetting ? (
          <ResetPassword username={user.username} onDone={onResetDone} />
        ) : (
          <span className="toolbar">
            <button type="button" onClick={onReset}>
              Reset password
            </button>
            {!isMe && (
              <button
                type="button"
                onClick={() => {
                  if (window.confirm(`Delete user ${user.username}?`)) act(deleteUser(user.username));
                }}
              >
                Delete
              </button>
            )}
          </span>
        )}
      </td>
    </tr>
  );
}

interface Props {
  users: readonly User[];
  me: string;
  selected?: string;
  onSelect: (username: string) => void;
  onChanged: () => void;
}

export function UsersTable({ users, me, selected, onSelect, onChanged }: Props): ReactNode {
  const [error, setError] = useState<Error | undefined>(undefined);
  const [resetting, setResetting] = useState<string | undefined>(undefined);
  const [notice, setNotice] = useState<string | undefined>(undefined);
  const act = (action: Promise<void>): void => {
    setError(undefined);
    setNotice(undefined);
    action.then(onChanged, (e: unknown) => setError(toError(e)));
  };
  return (
    <>
      {error && <ErrorBox error={error} />}
      {notice && <p className="notice">{notice}</p>}
      <table className="grid" data-testid="users">
        <thead>
          <tr>
            <th>User</th>
            <th>Admin</th>
            <th>Actions</th>
          </tr>
        </thead>
        <tbody>
          {users.map((user) => (
            <UserRow
              key={user.username}
              user={user}
              isMe={user.username === me}
              selected={user.username === selected}
              resetting={resetting === user.username}
              onSelect={() => onSelect(user.username)}
              onReset={() => setResetting(user.username)}
              onResetDone={(err) => {
                setResetting(undefined);
                setError(err);
                if (!err) setNotice(`Password of ${user.username} changed.`);
              }}
              act={act}
            />
          ))}
        </tbody>
      </table>
    </>
  );
}
