import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the operator allows of `file://` sources. */
export interface FileSourcePolicy {
  /** `MRW_ALLOW_FILE_SOURCES`: off by default. */
  readonly allowed: boolean;
  /** `MRW_FILE_SOURCE_ROOTS`: absolute directories the files must be under. */
  readonly roots: readonly string[];
}

export type FileSourceErrorCode = 'SOURCE_NOT_ALLOWED' | 'INVALID_SOURCE' | 'ARTIFACT_MISSING';

/** Why a `file://` source may not be read; the message names the setting that decides it. */
export class FileSourceError extends Error {
  override readonly name = 'FileSourceError';
  constructor(
    readonly code: FileSourceErrorCode,
    message: string,
  ) {
    super(message);
  }
}

// Kernel views of processes and devices: environment variables, memory, endless streams.
const NEVER_READ = ['/proc', '/sys', '/dev'];

const isUnder = (path: string, dir: string): boolean => {
  const rel = relative(dir, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
};

const forbidden = (path: string): string | undefined => NEVER_READ.find((dir) => isUnder(path, dir));

/**
 * The real path of a `file://` source the operator allows: file sources switched on, the path
 * under one of the roots both as written and with symlinks resolved, and never under /proc,
 * /sys or /dev, whatever the roots say. Throws FileSourceError otherwise.
 */
export const resolveFileSource = async (source: string, policy: FileSourcePolicy): Promise<string> => {
  if (!policy.allowed) {
    throw new FileSourceError('SOURCE_NOT_ALLOWED', 'file:// sources are disabled here (MRW_ALLOW_FILE_SOURCES=true enables them)');
  }
  let path: string;
  try {
    path = resolve(fileURLToPath(source));
  } catch {
    throw new FileSourceError('INVALID_SOURCE', `${source} is not a valid file:// URL`);
  }
  const refuse = (where: string): FileSourceError => {
    const what = where === path ? path : `${path} (really ${where})`;
    const never = forbidden(where);
    if (never) return new FileSourceError('SOURCE_NOT_ALLOWED', `${what} is under ${never}, which is never read as a source, whatever MRW_FILE_SOURCE_ROOTS says`);
    const roots = policy.roots.length > 0 ? `(${policy.roots.join(', ')})` : '(none are configured)';
    return new FileSourceError('SOURCE_NOT_ALLOWED', `${what} is not under any directory in MRW_FILE_SOURCE_ROOTS ${roots}`);
  };
  // Roots are compared as written and as resolved, so a root that is itself a symlink still works.
  const roots = [...policy.roots, ...(await Promise.all(policy.roots.map((root) => realpath(root).catch(() => root))))];
  const inside = (where: string): boolean => forbidden(where) === undefined && roots.some((root) => isUnder(where, root));
  // Checked before touching the file system, so paths outside the roots cannot be probed.
  if (!inside(path)) throw refuse(path);
  const real = await realpath(path).catch(() => {
    throw new FileSourceError('ARTIFACT_MISSING', `${path} does not exist on this host`);
  });
  if (!inside(real)) throw refuse(real);
  return real;
};
