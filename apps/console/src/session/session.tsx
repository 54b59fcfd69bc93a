import { createContext, type ComponentChildren } from 'preact';
import { useContext, useMemo, useState } from 'preact/hooks';
import { MrwApi, type Self } from '@mrw/client/browser';

/**
 * The token lives in this tab's session storage only: never in a URL (links get shared, logged
 * and kept in history), never in local storage (it would outlive the tab).
 */
const TOKEN_KEY = 'mrw.console.token';

export interface Session {
  readonly api: MrwApi;
  readonly token: string;
  readonly self: Self;
  readonly signOut: () => void;
  /** Whether the token holds a role (admin holds every role but `reviewer`, as the API decides). */
  readonly can: (role: 'viewer' | 'contributor' | 'reviewer' | 'deployer' | 'admin') => boolean;
}

export const apiFor = (token: string): MrwApi => new MrwApi({ url: location.origin, token });

export const storedToken = (): string | null => sessionStorage.getItem(TOKEN_KEY);
export const storeToken = (token: string): void => sessionStorage.setItem(TOKEN_KEY, token);
export const forgetToken = (): void => sessionStorage.removeItem(TOKEN_KEY);

const SessionContext = createContext<Session | null>(null);

export const SessionProvider = ({ token, self, onSignOut, children }: { token: string; self: Self; onSignOut: () => void; children: ComponentChildren }) => {
  const [api] = useState(() => apiFor(token));
  const session = useMemo<Session>(
    () => ({
      api,
      token,
      self,
      signOut: () => {
        forgetToken();
        onSignOut();
      },
      can: (role) => self.roles.includes(role) || (role !== 'reviewer' && self.roles.includes('admin')),
    }),
    [api, token, self, onSignOut],
  );
  return <SessionContext.Provider value={session}>{children}</SessionContext.Provider>;
};

export const useSession = (): Session => {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
};
