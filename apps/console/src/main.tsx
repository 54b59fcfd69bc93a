import { render } from 'preact';
import type { Self } from '@mrw/client/browser';
import { App } from './app';
import { apiFor, forgetToken, storedToken } from './session/session';
import './styles.css';

/** Signs in again with this tab's token if it still works, then renders the console. */
const start = async (): Promise<void> => {
  const token = storedToken();
  let initial: { token: string; self: Self } | null = null;
  if (token) {
    try {
      initial = { token, self: await apiFor(token).whoAmI() };
    } catch {
      forgetToken();
    }
  }
  render(<App initial={initial} />, document.getElementById('app') as HTMLElement);
};

void start();
