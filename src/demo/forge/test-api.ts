import {
  addLabels,
  addReaction,
  createComment,
  createIssue,
  removeLabel,
  requireIssue,
  updateComment,
  updateIssue,
} from './issue-ops.js';
import { createCheckRun, createStatus, type CheckRunInput } from './check-ops.js';
import { createPull, isPull, mergePull, refreshPulls, submitReview, type PullIssue } from './pull-ops.js';
import type { ForgeState } from './state.js';
import type {
  Actor,
  ForgeCheckRun,
  ForgeComment,
  ForgeInstallation,
  ForgeIssue,
  ForgeRepo,
  ForgeReview,
  ForgeStatus,
  ForgeUser,
  ReactionContent,
  Role,
  StatusState,
} from './types.js';

export interface CreateRepoOptions {
  /** Owner login; created as a user when missing. */
  readonly owner: string;
  readonly name: string;
  /** @defaultValue false */
  readonly private?: boolean;
  /** @defaultValue `main` */
  readonly defaultBranch?: string;
  readonly description?: string;
  /** First commit from a `{ path: content }` map… */
  readonly files?: Readonly<Record<string, string | Buffer>>;
  /** …or from every file under a local folder (its .gitignore applies). */
  readonly dir?: string;
  /** Further commits on the default branch, in order (`null` deletes a file). */
  readonly history?: ReadonlyArray<{
    message: string;
    files: Readonly<Record<string, string | Buffer | null>>;
  }>;
}

/** Acting as a user: pass their login. The App's bot login (`<slug>[bot]`) acts as the installation. */
type As = { readonly as: string };

/**
 * Seeding and inspecting the forge from tests and the demo. Every change goes through the same
 * operations as the REST API, so it emits the same webhooks.
 */
export class ForgeTestApi {
  constructor(readonly state: ForgeState) {}

  /** Creates a user; returns it with a personal access token (`ghp_…`). */
  createUser(
    login: string,
    options: { type?: ForgeUser['type']; name?: string; email?: string } = {},
  ): {
    user: ForgeUser;
    token: string;
  } {
    return this.state.createUser({ login, ...options });
  }

  /** Registers the App (see `startForge` options). */
  registerApp(options: { id: number; slug: string; key: string; installEverywhere: boolean }): void {
    const owner =
      this.state.user(`${options.slug}-owner`) ??
      this.state.createUser({ login: `${options.slug}-owner` }).user;
    this.state.registerApp({ ...options, owner });
    this.installEverywhere = options.installEverywhere;
  }

  private installEverywhere = false;

  /** Installs the App on an account (repositories of that owner); idempotent. */
  installApp(owner: string): ForgeInstallation {
    if (!this.state.app) throw new Error('the forge has no App (start it with appId and privateKey)');
    return this.state.install(this.state.requireUser(owner));
  }

  /** Mints an installation token for `owner`'s installation (as POST …/access_tokens does). */
  installationToken(owner: string): string {
    return this.state.mintInstallationToken(this.installApp(owner)).token;
  }

  async createRepo(options: CreateRepoOptions): Promise<ForgeRepo> {
    const { state } = this;
    const owner = state.user(options.owner) ?? state.createUser({ login: options.owner }).user;
    if (state.repo(owner.login, options.name))
      throw new Error(`repository ${options.owner}/${options.name} exists`);
    const branch = options.defaultBranch ?? 'main';
    await state.git.init(owner.login, options.name, branch);
    const identity = {
      name: owner.name ?? owner.login,
      email: `${owner.id}+${owner.login}@users.noreply.localhost`,
    };
    if (options.dir) {
      await state.git.commitDirectory(owner.login, options.name, {
        branch,
        dir: options.dir,
        message: 'Initial commit',
        author: identity,
      });
    } else if (options.files || !options.history) {
      const files = options.files ?? { 'README.md': `# ${options.name}\n` };
      await state.git.commitFiles(owner.login, options.name, {
        branch,
        files,
        message: 'Initial commit',
        author: identity,
      });
    }
    for (const step of options.history ?? []) {
      await state.git.commitFiles(owner.login, options.name, {
        branch,
        files: step.files,
        message: step.message,
        author: identity,
      });
    }
    const now = state.timestamp();
    const repo: ForgeRepo = {
      id: state.nextId(),
      owner,
      name: options.name,
      private: options.private ?? false,
      defaultBranch: branch,
      description: options.description ?? null,
      collaborators: new Map(),
      labels: new Map(),
      issues: new Map(),
      comments: new Map(),
      checkRuns: [],
      statuses: [],
      deployments: [],
      nextNumber: 1,
      createdAt: now,
      pushedAt: now,
    };
    state.repos.set(`${owner.login}/${options.name}`.toLowerCase(), repo);
    if (state.app && this.installEverywhere) state.install(owner);
    return repo;
  }

  setPermission(repo: string, login: string, role: Role | null): void {
    this.state.setPermission(repo, login, role);
  }

  /** Commits files to a branch (creating it from the default branch when new), like a push. */
  async commit(
    repo: string,
    options: {
      branch?: string;
      files: Readonly<Record<string, string | Buffer | null>>;
      message: string;
    } & Partial<As>,
  ): Promise<string> {
    const r = this.state.requireRepo(repo);
    const branch = options.branch ?? r.defaultBranch;
    const exists = await this.state.git.revParse(r.owner.login, r.name, `refs/heads/${branch}`);
    const parent =
      exists ??
      (await this.state.git.revParse(r.owner.login, r.name, `refs/heads/${r.defaultBranch}`)) ??
      undefined;
    const sha = await this.state.git.commitFiles(r.owner.login, r.name, {
      branch,
      files: options.files,
      message: options.message,
      parent,
    });
    await refreshPulls(this.state, r, this.actor(r, options.as ?? r.owner.login));
    return sha;
  }

  createIssue(repo: string, input: { title: string; body?: string; labels?: string[] } & As): ForgeIssue {
    const r = this.state.requireRepo(repo);
    return createIssue(this.state, r, this.actor(r, input.as), input);
  }

  issue(repo: string, number: number): ForgeIssue {
    return requireIssue(this.state.requireRepo(repo), number);
  }

  addLabel(repo: string, number: number, label: string, as: string): void {
    const r = this.state.requireRepo(repo);
    addLabels(this.state, r, requireIssue(r, number), this.actor(r, as), [label]);
  }

  removeLabel(repo: string, number: number, label: string, as: string): boolean {
    const r = this.state.requireRepo(repo);
    return removeLabel(this.state, r, requireIssue(r, number), this.actor(r, as), label);
  }

  closeIssue(
    repo: string,
    number: number,
    as: string,
    reason: 'completed' | 'not_planned' = 'completed',
  ): void {
    const r = this.state.requireRepo(repo);
    updateIssue(this.state, r, requireIssue(r, number), this.actor(r, as), {
      state: 'closed',
      stateReason: reason,
    });
  }

  comment(repo: string, number: number, body: string, as: string): ForgeComment {
    const r = this.state.requireRepo(repo);
    return createComment(this.state, r, requireIssue(r, number), this.actor(r, as), body);
  }

  editComment(repo: string, id: number, body: string, as: string): ForgeComment {
    const r = this.state.requireRepo(repo);
    const comment = r.comments.get(id);
    if (!comment) throw new Error(`no comment ${id} in ${repo}`);
    return updateComment(this.state, r, comment, this.actor(r, as), body);
  }

  /** Comments on an issue or pull request, oldest first. */
  comments(repo: string, number: number): ForgeComment[] {
    return [...this.state.requireRepo(repo).comments.values()].filter((c) => c.issueNumber === number);
  }

  react(
    repo: string,
    target: { issue: number } | { comment: number },
    content: ReactionContent,
    as: string,
  ): void {
    const r = this.state.requireRepo(repo);
    const on = 'issue' in target ? requireIssue(r, target.issue) : r.comments.get(target.comment);
    if (!on) throw new Error(`no such reaction target in ${repo}`);
    addReaction(this.state, on, this.actor(r, as), content);
  }

  pulls(repo: string): PullIssue[] {
    return [...this.state.requireRepo(repo).issues.values()].filter(isPull);
  }

  pull(repo: string, number: number): PullIssue {
    const issue = this.issue(repo, number);
    if (!isPull(issue)) throw new Error(`#${number} in ${repo} is not a pull request`);
    return issue;
  }

  async createPullRequest(
    repo: string,
    input: { title: string; head: string; base?: string; body?: string; draft?: boolean } & As,
  ): Promise<PullIssue> {
    const r = this.state.requireRepo(repo);
    return createPull(this.state, r, this.actor(r, input.as), input);
  }

  /** Merges with a real git merge commit (or squash); emits `pull_request.closed` with `merged: true`. */
  async mergePullRequest(
    repo: string,
    number: number,
    as: string,
    method: 'merge' | 'squash' = 'merge',
  ): Promise<string> {
    const r = this.state.requireRepo(repo);
    return mergePull(this.state, r, this.pull(repo, number), this.actor(r, as), { method });
  }

  submitReview(
    repo: string,
    number: number,
    input: { event: 'APPROVE' | 'REQUEST_CHANGES' | 'COMMENT'; body?: string } & As,
  ): ForgeReview {
    const r = this.state.requireRepo(repo);
    return submitReview(this.state, r, this.pull(repo, number), this.actor(r, input.as), input);
  }

  setStatus(
    repo: string,
    sha: string,
    input: { state: StatusState; context?: string; description?: string; targetUrl?: string } & As,
  ): ForgeStatus {
    const r = this.state.requireRepo(repo);
    return createStatus(this.state, r, this.actor(r, input.as), sha, input);
  }

  addCheckRun(repo: string, sha: string, input: CheckRunInput & { name: string } & As): ForgeCheckRun {
    const r = this.state.requireRepo(repo);
    return createCheckRun(this.state, r, this.actor(r, input.as), sha, input);
  }

  /** The SHA a branch (or any ref) points at, from git itself. */
  async refSha(repo: string, ref: string): Promise<string | null> {
    const r = this.state.requireRepo(repo);
    return this.state.git.revParse(r.owner.login, r.name, ref);
  }

  /** A file's text at `ref` (default branch by default), or null. */
  async readFile(repo: string, path: string, ref?: string): Promise<string | null> {
    const r = this.state.requireRepo(repo);
    const found = await this.state.git.readPath(r.owner.login, r.name, ref ?? r.defaultBranch, path);
    return found?.type === 'file' ? found.content.toString('utf8') : null;
  }

  private actor(repo: ForgeRepo, login: string): Actor {
    const user = this.state.requireUser(login);
    const app = this.state.app;
    if (app && user.id === app.bot.id) return { user, installation: this.state.install(repo.owner) };
    return { user };
  }
}
