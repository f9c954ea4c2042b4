import { isWriter, type RepoPermission } from '../../github/types.js';
import type { Logger } from '../../util/logger.js';
import type { Viewer } from './sessions.js';

/** What a viewer may do with one repository's runs. */
export interface RepoAccess {
  readonly see: boolean;
  readonly act: boolean;
}

/**
 * The rule, pure: the admin sees and acts on everything; a GitHub user sees and acts on the
 * repositories they can write to (and nothing else, not even that the runs exist); a viewer let in
 * by the fallback guard reads everything and acts on nothing.
 */
export function decideAccess(viewer: Viewer, permission: RepoPermission | undefined): RepoAccess {
  switch (viewer.kind) {
    case 'admin':
      return { see: true, act: true };
    case 'guard':
      return { see: true, act: false };
    case 'user': {
      const writer = permission !== undefined && isWriter(permission);
      return { see: writer, act: writer };
    }
  }
}

/** Asks GitHub (through the App) what a user may do on `owner/name`. */
export type PermissionLookup = (
  repo: { owner: string; repo: string },
  login: string,
) => Promise<RepoPermission>;

export interface Access {
  /** `repo`: `owner/name`; empty for runs without one (only the admin and the guard see those). */
  of(viewer: Viewer, repo: string): Promise<RepoAccess>;
}

export function createAccess(lookup: PermissionLookup | undefined, log: Logger): Access {
  return {
    async of(viewer, repo) {
      if (viewer.kind !== 'user') return decideAccess(viewer, undefined);
      const [owner, name] = repo.split('/');
      if (!lookup || !owner || !name) return decideAccess(viewer, undefined);
      try {
        return decideAccess(viewer, await lookup({ owner, repo: name }, viewer.login));
      } catch (err) {
        log.warn(
          { err, repo, login: viewer.login },
          'dashboard: permission look-up failed; showing nothing of the repository',
        );
        return decideAccess(viewer, undefined);
      }
    },
  };
}
