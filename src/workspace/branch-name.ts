/** Lower-case ASCII words joined by `-`, at most `max` characters, never empty (pure). */
export function slugify(text: string, max = 40): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (!slug) return 'change';
  if (slug.length <= max) return slug;
  const cut = slug.slice(0, max);
  const lastDash = cut.lastIndexOf('-');
  return (lastDash >= max / 2 ? cut.slice(0, lastDash) : cut).replace(/-+$/, '');
}

/** The droid's branch for an issue: `droid/<number>-<slug>`. */
export function droidBranch(issueNumber: number, title: string): string {
  return `droid/${issueNumber}-${slugify(title)}`;
}

/** Whether a branch is the droid's own, the only kind it may force-push. */
export function isDroidBranch(branch: string): boolean {
  return branch.startsWith('droid/');
}
