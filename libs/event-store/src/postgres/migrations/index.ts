import { eventsMigration } from './001-events.migration';
import type { Migration } from './migration';

export type { Migration } from './migration';

/**
 * Every migration, oldest first. Kept as TypeScript modules rather than `.sql` files so the
 * compiled build carries them without a copy step. Never edit one that has shipped: add the next.
 */
export const MIGRATIONS: readonly Migration[] = [eventsMigration];
