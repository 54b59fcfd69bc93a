import type { OipServerOptions } from './oip-server';
import type { VersionSpec } from './served-version';

/** What the supervisor passes a serving process at start (in its environment, as JSON). */
export interface ProcessOptions extends OipServerOptions {
  readonly host: string;
  /** 0: any free port; a restart asks for the port it had, so the endpoint stays the same. */
  readonly port: number;
}

/** Supervisor → serving process, over the IPC channel. */
export type ControlRequest =
  | { readonly id: number; readonly type: 'load'; readonly spec: VersionSpec }
  | { readonly id: number; readonly type: 'promote'; readonly model: string; readonly version: string }
  | { readonly id: number; readonly type: 'unload'; readonly model: string; readonly version: string }
  | { readonly id: number; readonly type: 'shutdown' };

/** Serving process → supervisor. */
export type ControlReply =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly code: string; readonly message: string };
