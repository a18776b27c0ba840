import type { ReactNode } from 'react';
import { ApiError } from '../api/client';

/** Shows the server's own message (e.g. a search-grammar error) as plain text. */
export function ErrorBox({ error }: { error: Error }): ReactNode {
  const code = error instanceof ApiError ? `${error.code}: ` : '';
  return (
    <div className="error" role="alert" data-testid="error">
      {code}
      {error.message}
    </div>
  );
}
