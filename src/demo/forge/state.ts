import { createPublicKey, randomBytes } from 'node:crypto';
import type { GitStore } from './git-store.js';
import {
  ROLES,
  type Actor,
  type ForgeApp,
  type ForgeInstallation,
  type ForgeLabel,
  type ForgeRepo,
  type ForgeUser,
  type Role,
} from './types.js';

/** Where the forge lives; serialisers build `url` and `html_url` fields from it. */
export interface ForgeUrls {
  /** e.g. `http://127.0.0.1:PORT` */
  readonly web: string;
  /** REST base, e.g. `http://127.0.0.1:PORT/api/v3` */
  readonly api: string;
}

/** A state change that becomes a webhook (`repository`, `sender`, `installation` are added on send). */
export interface ForgeEvent {
  readonly name: string;
  readonly action?: string;
  readonly repo: ForgeRepo;
  readonly sender: ForgeUser;
  readonly payload: Record<string, unknown>;
}

export interface InstallationToken {
  readonly token: string;
  readonly installation: ForgeInstallation;
  readonly expiresAt: number;
}

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** `prefix` + 36 random alphanumerics, the shape of GitHub's tokens (so redaction recognises them). */
export function randomToken(prefix: string): string {
  const bytes = randomBytes(36);
  return prefix + Array.from(bytes, (b) => ALNUM[b % ALNUM.length]).join('');
}

const LABEL_COLORS = ['d73a4a', '0075ca', 'cfd3d7', 'a2eeef', '7057ff', '008672', 'e4e669', 'd876e3'];

/**
 * Everything the forge knows: users and their tokens, repositories with collaborators, issues,
 * pull requests, checks, deployments, the App and its installations. The `*-ops.ts` modules
 * change it (emitting events); REST handlers and the test API both go through them.
 */
export class ForgeState {
  private lastId = 1000;
  readonly users = new Map<string, ForgeUser>();
  readonly repos = new Map<string, ForgeRepo>();
  /** user token → login */
  readonly userTokens = new Map<string, string>();
  readonly installationTokens = new Map<string, InstallationToken>();
  /** lower-case account login → installation */
  readonly installations = new Map<string, ForgeInstallation>();
  app: ForgeApp | undefined;
  /** GitHub lets only Apps write check runs; false lets token users too. */
  checkRunsRequireApp = true;
  private readonly listeners: Array<(event: ForgeEvent) => void> = [];

  constructor(
    readonly urls: ForgeUrls,
    readonly git: GitStore,
    readonly now: () => number = Date.now,
  ) {}

  nextId(): number {
    this.lastId += 1;
    return this.lastId;
  }

  timestamp(): string {
    return new Date(this.now()).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  onEvent(listener: (event: ForgeEvent) => void): void {
    this.listeners.push(listener);
  }

  emit(event: ForgeEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  createUser(options: { login: string; type?: ForgeUser['type']; name?: string; email?: string }): {
    user: ForgeUser;
    token: string;
  } {
    const key = options.login.toLowerCase();
    if (this.users.has(key)) throw new Error(`user ${options.login} already exists`);
    const user: ForgeUser = {
      id: this.nextId(),
      login: options.login,
      type: options.type ?? 'User',
      name: options.name ?? null,
      email: options.email ?? null,
      createdAt: this.timestamp(),
    };
    this.users.set(key, user);
    const token = randomToken('ghp_');
    this.userTokens.set(token, key);
    return { user, token };
  }

  user(login: string): ForgeUser | undefined {
    return this.users.get(login.toLowerCase());
  }

  requireUser(login: string): ForgeUser {
    const user = this.user(login);
    if (!user) throw new Error(`no user ${login} in the forge`);
    return user;
  }

  repo(owner: string, name: string): ForgeRepo | undefined {
    return this.repos.get(`${owner}/${name}`.toLowerCase());
  }

  requireRepo(fullName: string): ForgeRepo {
    const [owner = '', name = ''] = fullName.split('/');
    const repo = this.repo(owner, name);
    if (!repo) throw new Error(`no repository ${fullName} in the forge`);
    return repo;
  }

  /** The actor's role on `repo`, or null for none. An App installation on the owner writes. */
  roleOf(repo: ForgeRepo, actor: Actor | undefined): Role | null {
    if (!actor) return null;
    if (actor.installation)
      return actor.installation.account.id === repo.owner.id ? 'write' : repo.private ? null : 'read';
    if (actor.user.id === repo.owner.id) return 'admin';
    return repo.collaborators.get(actor.user.login.toLowerCase()) ?? (repo.private ? null : 'read');
  }

  can(repo: ForgeRepo, actor: Actor | undefined, needed: Role): boolean {
    const role = this.roleOf(repo, actor);
    if (!role) return !repo.private && needed === 'read';
    return ROLES.indexOf(role) >= ROLES.indexOf(needed);
  }

  setPermission(fullName: string, login: string, role: Role | null): void {
    const repo = this.requireRepo(fullName);
    const user = this.requireUser(login);
    if (role) repo.collaborators.set(user.login.toLowerCase(), role);
    else repo.collaborators.delete(user.login.toLowerCase());
  }

  /** The label called `name` on `repo`, created (as GitHub does) when missing. */
  ensureLabel(repo: ForgeRepo, name: string): ForgeLabel {
    const key = name.toLowerCase();
    let label = repo.labels.get(key);
    if (!label) {
      label = {
        id: this.nextId(),
        name,
        color: LABEL_COLORS[repo.labels.size % LABEL_COLORS.length] ?? 'ededed',
        description: null,
      };
      repo.labels.set(key, label);
    }
    return label;
  }

  /** Registers the forge's GitHub App; its bot user is `<slug>[bot]`. */
  registerApp(options: { id: number; slug: string; name?: string; key: string; owner: ForgeUser }): ForgeApp {
    const publicKeyPem = createPublicKey(options.key).export({ type: 'spki', format: 'pem' }).toString();
    const bot = this.createUser({ login: `${options.slug}[bot]`, type: 'Bot' }).user;
    this.app = {
      id: options.id,
      slug: options.slug,
      name: options.name ?? options.slug,
      publicKeyPem,
      bot,
      owner: options.owner,
      createdAt: this.timestamp(),
    };
    return this.app;
  }

  /** Installs the App on `account` (idempotent). */
  install(account: ForgeUser): ForgeInstallation {
    const key = account.login.toLowerCase();
    let installation = this.installations.get(key);
    if (!installation) {
      installation = { id: this.nextId(), account, createdAt: this.timestamp() };
      this.installations.set(key, installation);
    }
    return installation;
  }

  installationById(id: number): ForgeInstallation | undefined {
    return [...this.installations.values()].find((i) => i.id === id);
  }

  mintInstallationToken(installation: ForgeInstallation, ttlMs = 3_600_000): InstallationToken {
    const minted = { token: randomToken('ghs_'), installation, expiresAt: this.now() + ttlMs };
    this.installationTokens.set(minted.token, minted);
    return minted;
  }

  /** Resolves a user or installation token; null when unknown or expired. */
  actorForToken(token: string): Actor | null {
    const login = this.userTokens.get(token);
    if (login) {
      const user = this.users.get(login);
      return user ? { user } : null;
    }
    const minted = this.installationTokens.get(token);
    if (!minted || minted.expiresAt <= this.now() || !this.app) return null;
    return { user: this.app.bot, installation: minted.installation };
  }
}
