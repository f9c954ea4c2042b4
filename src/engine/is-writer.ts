/** Roles that may trigger droidworks: write, maintain or admin. `author_association` is not enough. */
const WRITER_ROLES: ReadonlySet<string> = new Set(['admin', 'maintain', 'write']);

/**
 * Whether a collaborator permission (the `role_name` or `permission` from GitHub's collaborator
 * permission API) lets its holder trigger runs. Pure.
 */
export function isWriter(permission: string | undefined): boolean {
  return permission !== undefined && WRITER_ROLES.has(permission.toLowerCase());
}
