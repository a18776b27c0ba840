import { useState, type ReactNode } from 'react';
import { createToken, listTokens, revokeToken, updatePassword, type AccessToken } from '../../api/auth';
import { ErrorBox } from '../../components/ErrorBox';
import { formatTime } from '../../util/format';
import { useAsync } from '../../util/useAsync';
import { useSession } from '../signin/session';
import { toError } from './errors';

function CreateToken({ onCreated }: { onCreated: (secret: string) => void }): ReactNode {
  const [name, setName] = useState('');
  const [days, setDays] = useState('90');
  const [error, setError] = useState<Error | undefined>(undefined);
  return (
    <form
      className="toolbar"
      data-testid="create-token"
      onSubmit={(e) => {
        e.preventDefault();
        setError(undefined);
        createToken(name.trim(), Number(days) || 0).then(
          (created) => {
            setName('');
            onCreated(created.secret);
          },
          (err: unknown) => setError(toError(err)),
        );
      }}
    >
      <input value={name} onChange={(e) => setName(e.target.value)} placeholder="name, e.g. ci" aria-label="Token name" />
      <label>
        expires in{' '}
        <input type="number" min={0} value={days} onChange={(e) => setDays(e.target.value)} aria-label="Days until it expires" style={{ width: 70 }} /> days (0: never)
      </label>
      <button type="submit" disabled={!name.trim()}>
        Create token
      </button>
      {error && <ErrorBox error={error} />}
    </form>
  );
}

function ChangePassword({ username }: { username: string }): ReactNode {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [result, setResult] = useState<Error | 'ok' | undefined>(undefined);
  return (
    <form
      className="toolbar"
      onSubmit={(e) => {
        e.preventDefault();
        updatePassword(username, next, current).then(
          () => {
            setCurrent('');
            setNext('');
            setResult('ok');
          },
          (err: unknown) => setResult(toError(err)),
        );
      }}
    >
      <input type="password" value={current} onChange={(e) => setCurrent(e.target.value)} placeholder="current password" aria-label="Current password" autoComplete="current-password" />
      <input type="password" value={next} onChange={(e) => setNext(e.target.value)} placeholder="new password" aria-label="New password" autoComplete="new-password" />
      <button type="submit" disabled={!current || !next}>
        Change password
      </button>
      {result === 'ok' && <span>Password changed.</span>}
      {result instanceof Error && <ErrorBox error={result} />}
    </form>
  );
}

interface TokensProps {
  tokens: readonly AccessToken[];
  now: number;
  /** This tab's own session token: listed, but revoked by signing out. */
  sessionTokenId?: number;
  onRevoke: (id: number) => void;
}

function TokensTable({ tokens, now, sessionTokenId, onRevoke }: TokensProps): ReactNode {
  return (
    <table className="grid" data-testid="tokens">
      <thead>
        <tr>
          <th>Name</th>
          <th>Created</th>
          <th>Expires</th>
          <th>State</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {tokens.map((t) => (
          <tr key={t.id} data-testid="token-row" data-name={t.name} className={t.revoked ? 'deleted' : undefined}>
            <td>
              {t.name}
              {t.id === sessionTokenId && <span className="badge">this session</span>}
            </td>
            <td>{formatTime(t.created_ms)}</td>
            <td>{t.expires_ms ? formatTime(t.expires_ms) : 'never'}</td>
            <td>{t.revoked ? 'revoked' : t.expires_ms && t.expires_ms < now ? 'expired' : 'active'}</td>
            <td>
              {!t.revoked && t.id !== sessionTokenId && (
                <button type="button" onClick={() => onRevoke(t.id)}>
                  Revoke
                </button>
              )}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/** The signed-in user's access tokens (for jobs and CI) and password. */
export function AccountPage(): ReactNode {
  const session = useSession();
  const signedIn = session.state === 'signed-in';
  // `now` is read with the list, so "expired" is judged against the moment it was fetched.
  const { data, error, reload } = useAsync(`tokens:${signedIn}`, async (signal) => ({
    tokens: signedIn ? await listTokens(signal) : [],
    now: Date.now(),
  }));
  const [secret, setSecret] = useState<string | undefined>(undefined);
  const [actionError, setActionError] = useState<Error | undefined>(undefined);
  if (!signedIn) return <p className="notice">This server runs without authentication: there are no accounts or tokens.</p>;
  const sessionTokenId = session.tokenId;
  return (
    <section data-testid="account-page">
      <h1>Access tokens of {session.user.username}</h1>
      <p className="muted">
        Jobs and CI authenticate with a token instead of a password: <code>MLFLOW_TRACKING_TOKEN=&lt;token&gt;</code>.
      </p>
      <CreateToken
        onCreated={(value) => {
          setSecret(value);
          reload();
        }}
      />
      {secret && (
        <div className="notice" data-testid="new-token">
          <p>Copy the token now: it is shown only this once.</p>
          <p className="secret" data-testid="new-token-secret">
            {secret}
          </p>
          <button type="button" onClick={() => setSecret(undefined)}>
            Done
          </button>
        </div>
      )}
      {error && <ErrorBox error={error} />}
      {actionError && <ErrorBox error={actionError} />}
      {data && <TokensTable tokens={data.tokens} now={data.now} sessionTokenId={sessionTokenId} onRevoke={(id) => revokeToken(id).then(reload, (e: unknown) => setActionError(toError(e)))} />}
      {session.via === 'password' && (
        <>
          <h2>Password</h2>
          <ChangePassword username={session.user.username} />
        </>
      )}
    </section>
  );
}
