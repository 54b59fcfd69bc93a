import { createContext, type ComponentChildren } from 'preact';
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { followRegistryEvents, type AuditSearchItem } from '@mrw/client/browser';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';
type Listener = (event: AuditSearchItem) => void;

interface LiveEvents {
  readonly status: LiveStatus;
  readonly subscribe: (listener: Listener) => () => void;
}

const LiveContext = createContext<LiveEvents>({ status: 'connecting', subscribe: () => () => undefined });

/**
 * One Server-Sent Events connection for the whole console (`GET /api/v1/events/stream`, the
 * token in the Authorization header, never in the URL): pages subscribe to it and reload what
 * an event changes. The reader resumes with `Last-Event-ID` after a drop, so nothing is missed
 * while the network blinks; nothing polls.
 */
export const LiveEventsProvider = ({ token, children }: { token: string; children: ComponentChildren }) => {
  const [status, setStatus] = useState<LiveStatus>('connecting');
  const listeners = useRef(new Set<Listener>());
  useEffect(() => {
    const abort = new AbortController();
    const follow = async (): Promise<void> => {
      const events = followRegistryEvents({
        url: location.origin,
        token,
        signal: abort.signal,
        onOpen: () => setStatus('live'),
        onDrop: () => setStatus('reconnecting'),
      });
      for await (const event of events) listeners.current.forEach((listener) => listener(event.entry));
    };
    // A refusal that retrying cannot fix (a revoked token) ends the stream; the pages still load on demand.
    follow().catch(() => setStatus('reconnecting'));
    return () => abort.abort();
  }, [token]);
  const subscribe = useCallback((listener: Listener) => {
    listeners.current.add(listener);
    return () => {
      listeners.current.delete(listener);
    };
  }, []);
  const value = useMemo<LiveEvents>(() => ({ status, subscribe }), [status, subscribe]);
  return <LiveContext.Provider value={value}>{children}</LiveContext.Provider>;
};

export const useLiveStatus = (): LiveStatus => useContext(LiveContext).status;

/**
 * Calls `onChange` (at most every `waitMs`) after events that `matches` accepts: a burst of
 * events (a promotion appends several) becomes one reload.
 */
export const useLiveReload = (onChange: () => void, matches: (event: AuditSearchItem) => boolean = () => true, waitMs = 150): void => {
  const { subscribe } = useContext(LiveContext);
  const latest = useRef({ onChange, matches });
  latest.current = { onChange, matches };
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = subscribe((event) => {
      if (!latest.current.matches(event) || timer !== undefined) return;
      timer = setTimeout(() => {
        timer = undefined;
        latest.current.onChange();
      }, waitMs);
    });
    return () => {
      off();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [subscribe, waitMs]);
};
