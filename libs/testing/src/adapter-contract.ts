/** What a contract test needs of one adapter: handles on a shared state, and a way to remove that state. */
export interface AdapterFixture<T> {
  /** A handle; several share the fixture's state (another replica, or the same file reopened). */
  open(): Promise<T>;
  cleanup(): Promise<void>;
}

/**
 * One adapter held to a port's contract: `tests` get `open`, which hands out handles on a fresh
 * fixture per test; after each test every handle is closed and the fixture cleaned up. Calling it
 * once per adapter with the same `tests` holds them all to the same behaviour.
 */
export const describeAdapterContract = <T extends { close(): Promise<void> }>(
  title: string,
  fixture: () => Promise<AdapterFixture<T>>,
  tests: (open: () => Promise<T>) => void,
): void => {
  describe(title, () => {
    let current: AdapterFixture<T>;
    const opened: T[] = [];

    beforeEach(async () => {
      current = await fixture();
    });

    afterEach(async () => {
      for (const handle of opened.splice(0)) await handle.close();
      await current.cleanup();
    });

    tests(async () => {
      const handle = await current.open();
      opened.push(handle);
      return handle;
    });
  });
};
