import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** What `mrw login` keeps: where the registry is and the token to call it with. */
export interface Profile {
  readonly url?: string;
  readonly token?: string;
}

/** Where it came from, so messages can say what to fix. */
export interface ResolvedSettings {
  readonly url: string;
  readonly token: string | undefined;
  readonly urlFrom: 'MRW_URL' | 'profile' | 'default';
  readonly tokenFrom: 'MRW_TOKEN' | 'profile' | 'none';
  readonly profilePath: string;
}

export const DEFAULT_URL = 'http://localhost:8080';

/** `$MRW_CONFIG`, else `$XDG_CONFIG_HOME/mrw/config.json`, else `~/.config/mrw/config.json`. */
export const profilePath = (env: NodeJS.ProcessEnv): string =>
  env['MRW_CONFIG'] || join(env['XDG_CONFIG_HOME'] || join(homedir(), '.config'), 'mrw', 'config.json');

export const readProfile = async (path: string): Promise<Profile> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not JSON: run mrw login again, or delete it`);
  }
  const profile = (parsed ?? {}) as Record<string, unknown>;
  return {
    ...(typeof profile['url'] === 'string' ? { url: profile['url'] } : {}),
    ...(typeof profile['token'] === 'string' ? { token: profile['token'] } : {}),
  };
};

/** The environment wins over the profile file, so a CI job's MRW_URL/MRW_TOKEN never meet a stale login. */
export const resolveSettings = async (env: NodeJS.ProcessEnv): Promise<ResolvedSettings> => {
  const path = profilePath(env);
  const profile = await readProfile(path);
  const envUrl = env['MRW_URL']?.trim();
  const envToken = env['MRW_TOKEN']?.trim();
  return {
    url: envUrl || profile.url || DEFAULT_URL,
    urlFrom: envUrl ? 'MRW_URL' : profile.url ? 'profile' : 'default',
    token: envToken || profile.token,
    tokenFrom: envToken ? 'MRW_TOKEN' : profile.token ? 'profile' : 'none',
    profilePath: path,
  };
};

/** Writes the profile readable by its owner only (0600, in a 0700 directory), replacing it whole. */
export const writeProfile = async (path: string, profile: Profile): Promise<void> => {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(profile, null, 2)}\n`, { mode: 0o600 });
  // The mode given to writeFile is masked by the umask; the token must not be readable by others whatever it is.
  await chmod(temporary, 0o600);
  await rename(temporary, path);
};
