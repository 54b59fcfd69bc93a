import { useState } from 'preact/hooks';
import type { Self } from '@mrw/client/browser';
import { ErrorNotice } from '../shared/ui';
import { apiFor, storeToken } from './session';

/** Signing in is checking a token with the registry (`GET /api/v1/tokens/self`) and keeping it for this tab. */
export const SignInPage = ({ onSignedIn }: { onSignedIn: (token: string, self: Self) => void }) => {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const self = await apiFor(token.trim()).whoAmI();
      storeToken(token.trim());
      onSignedIn(token.trim(), self);
    } catch (failure) {
      setError(failure);
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="sign-in">
      <h1>Model registry console</h1>
      <form onSubmit={submit} class="card">
        <label for="token">Access token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="off"
          required
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          aria-describedby="token-help"
        />
        <p id="token-help" class="muted">
          A bearer token from your admin (<code>mrw login</code> or <code>POST /api/v1/tokens</code>). It stays in this tab only.
        </p>
        <button type="submit" disabled={busy || token.trim() === ''}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
      <ErrorNotice error={error} />
    </main>
  );
};
