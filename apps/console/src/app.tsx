import { useCallback, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation, useRoute } from 'preact-iso';
import type { Self } from '@mrw/client/browser';
import { InboxPage } from './decide-approvals/inbox.page';
import { DeploymentsPage } from './follow-deployments/deployments.page';
import { ModelPage } from './inspect-model/model.page';
import { VersionPage } from './inspect-version/version.page';
import { LiveEventsProvider, useLiveStatus } from './live-updates/live-events';
import { WebhooksPage } from './manage-webhooks/webhooks.page';
import { SearchAuditPage } from './search-audit/audit.page';
import { SessionProvider, useSession } from './session/session';
import { SignInPage } from './session/sign-in.page';
import { formatActor } from './shared/format';
import { BoardPage } from './watch-the-board/board.page';

const NAV: ReadonlyArray<{ href: string; label: string }> = [
  { href: '/', label: 'Board' },
  { href: '/approvals', label: 'Approvals' },
  { href: '/deployments', label: 'Deployments' },
  { href: '/webhooks', label: 'Webhooks' },
  { href: '/audit', label: 'Audit' },
];

const LiveIndicator = () => {
  const status = useLiveStatus();
  return (
    <span class={`live ${status}`} role="status" aria-live="polite">
      <span aria-hidden="true">●</span> {status === 'live' ? 'Live' : status === 'connecting' ? 'Connecting…' : 'Reconnecting…'}
    </span>
  );
};

const Shell = () => {
  const { self, signOut } = useSession();
  const { path } = useLocation();
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          Model registry
        </a>
        <nav aria-label="Main">
          <ul>
            {NAV.map((item) => (
              <li key={item.href}>
                <a href={item.href} aria-current={(item.href === '/' ? path === '/' : path.startsWith(item.href)) ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <LiveIndicator />
        <span class="who" title={`roles: ${self.roles.join(', ')}`}>
          {formatActor(self.actor)}
        </span>
        <button type="button" class="secondary" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        <Router onRouteChange={focusMain}>
          <Route path="/" component={BoardPage} />
          <Route path="/models/:name" component={ModelRoute} />
          <Route path="/models/:name/versions/:version" component={VersionRoute} />
          <Route path="/approvals" component={InboxPage} />
          <Route path="/deployments" component={DeploymentsPage} />
          <Route path="/webhooks" component={WebhooksPage} />
          <Route path="/audit" component={SearchAuditPage} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </>
  );
};

/** After a client-side navigation, focus moves to the new page's content, as a page load would put it at the top. */
const focusMain = (): void => {
  document.getElementById('main')?.focus({ preventScroll: false });
};

const ModelRoute = () => {
  const { params } = useRoute();
  return <ModelPage name={decodeURIComponent(params['name'] ?? '')} />;
};

const VersionRoute = () => {
  const { params } = useRoute();
  return <VersionPage name={decodeURIComponent(params['name'] ?? '')} number={Number(params['version'])} />;
};

const NotFound = () => (
  <p>
    Nothing here. <a href="/">Back to the board</a>.
  </p>
);

/** The console: sign in with a token, then the pages, all fed by the public API and its live event stream. */
export const App = ({ initial }: { initial: { token: string; self: Self } | null }) => {
  const [signedIn, setSignedIn] = useState(initial);
  const signOut = useCallback(() => setSignedIn(null), []);
  return (
    <LocationProvider>
      {signedIn ? (
        <SessionProvider token={signedIn.token} self={signedIn.self} onSignOut={signOut}>
          <LiveEventsProvider token={signedIn.token}>
            <Shell />
          </LiveEventsProvider>
        </SessionProvider>
      ) : (
        <SignInPage onSignedIn={(token, self) => setSignedIn({ token, self })} />
      )}
    </LocationProvider>
  );
};
