import { useState, type ReactNode } from 'react';
import { ApiError } from '../../api/client';
import { signInWithPassword, signInWithToken } from './session';

function messageOf(error: unknown): string {
  if (error instanceof ApiError && error.status === 401) return 'Wrong user name, password or token.';
  if (error instanceof ApiError && error.status === 429) return 'Too many failed sign-ins; wait a moment and try again.';
  return error instanceof Error ? error.message : String(error);
}

/** Sign in with a user name and password, or with an access token. */
export function SignInPage({ notice }: { notice?: string }): ReactNode {
  const [mode, setMode] = useState<'password' | 'token'>('password');
  const [username, setUsername] = useState('');
  const [secret, setSecret] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const submit = (): void => {
    setBusy(true);
    setError(undefined);
    const attempt = mode === 'password' ? signInWithPassword(username.trim(), secret) : signInWithToken(secret);
    attempt.catch((e: unknown) => {
      setError(messageOf(e));
      setBusy(false);
    });
  };
  return (
    <section className="signin" data-testid="signin-page">
      <h1>Sign in to runstash</h1>
      {notice && <p className="notice" data-testid="signin-notice">{notice}</p>}
      <div className="toolbar" role="radiogroup" aria-label="Sign in with">
        <label className="check">
          <input type="radio" checked={mode === 'password'} onChange={() => setMode('password')} /> password
        </label>
        <label className="check">
          <input type="radio" checked={mode === 'token'} onChange={() => setMode('token')} data-testid="signin-mode-token" /> access token
        </label>
      </div>
      <form
        className="signin-form"
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        {mode === 'password' && (
          <label>
            User name
            <input value={username} onChange={(e) => setUsername(e.target.value)} autoComplete="username" autoFocus data-testid="signin-username" />
          </label>
        )}
        <label>
          {mode === 'password' ? 'Password' : 'Access token'}
          <input
            type="password"
            value={secret}
            onChange={(e) => setSecret(e.target.value)}
            autoComplete={mode === 'password' ? 'current-password' : 'off'}
            data-testid="signin-secret"
          />
        </label>
        <button type="submit" disabled={busy || !secret || (mode === 'password' && !username.trim())} data-testid="signin-submit">
          Sign in
        </button>
        {error && (
          <div className="error" role="alert" data-testid="signin-error">
            {error}
          </div>
        )}
      </form>
    </section>
  );
}
