import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A git command that exited non-zero. */
export class GitCommandError extends Error {
  override readonly name = 'GitCommandError';
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`git ${args.join(' ')} exited with ${exitCode}: ${stderr.trim()}`);
  }
}

export interface GitIdentity {
  readonly name: string;
  readonly email: string;
}

export interface CommitInfo {
  readonly sha: string;
  readonly tree: string;
  readonly parents: string[];
  readonly message: string;
  readonly author: { name: string; email: string; date: string };
  readonly committer: { name: string; email: string; date: string };
}

export type TreeEntry = {
  readonly type: 'file' | 'dir';
  readonly name: string;
  readonly sha: string;
  readonly size: number;
};

export type PathContent =
  | { readonly type: 'file'; readonly sha: string; readonly content: Buffer }
  | { readonly type: 'dir'; readonly entries: TreeEntry[] };

/** Refs and paths from requests must not look like options or escape the repository. */
const SAFE_REF = /^(?!-)(?!.*\.\.)[\w./-]+$/;
export const isSafeRef = (ref: string): boolean => SAFE_REF.test(ref);

const DEFAULT_IDENTITY: GitIdentity = { name: 'Forge', email: 'forge@localhost' };

/**
 * Bare repositories under `root/<owner>/<repo>.git`, driven by async `git` child processes
 * (never synchronous: the same process serves git over HTTP). Commits are built with plumbing
 * (temporary index + commit-tree), so no working tree is ever needed.
 */
export class GitStore {
  constructor(readonly root: string) {}

  dir(owner: string, repo: string): string {
    return join(this.root, owner, `${repo}.git`);
  }

  async run(
    gitDir: string,
    args: readonly string[],
    options: { input?: Buffer | string; env?: Record<string, string>; okCodes?: number[] } = {},
  ): Promise<{ stdout: Buffer; code: number }> {
    const child = spawn('git', ['--git-dir', gitDir, ...args], {
      env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', ...options.env },
      stdio: [options.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => out.push(d));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    if (child.stdin) {
      // A child that exits without reading its input fails on its exit code; keep the pipe error for the message.
      child.stdin.on('error', (err) => (stderr += `\n(stdin: ${err.message})`));
      child.stdin.end(options.input);
    }
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code === null || (code !== 0 && !(options.okCodes ?? []).includes(code)))
      throw new GitCommandError(args, code, stderr);
    return { stdout: Buffer.concat(out), code };
  }

  private async text(gitDir: string, args: readonly string[], env?: Record<string, string>): Promise<string> {
    return (await this.run(gitDir, args, { env })).stdout.toString().trim();
  }

  async init(owner: string, repo: string, defaultBranch: string): Promise<void> {
    const dir = this.dir(owner, repo);
    await mkdir(dir, { recursive: true });
    await this.run(dir, ['init', '--bare', '--quiet', `--initial-branch=${defaultBranch}`]);
    await this.run(dir, ['config', 'http.receivepack', 'true']);
  }

  /** The commit SHA `ref` names, or null. */
  async revParse(owner: string, repo: string, ref: string): Promise<string | null> {
    if (!isSafeRef(ref)) return null;
    const { stdout, code } = await this.run(
      this.dir(owner, repo),
      ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`],
      { okCodes: [1, 128] },
    );
    return code === 0 ? stdout.toString().trim() : null;
  }

  async branches(owner: string, repo: string): Promise<Array<{ name: string; sha: string }>> {
    const out = await this.text(this.dir(owner, repo), [
      'for-each-ref',
      '--format=%(refname:strip=2) %(objectname)',
      'refs/heads/',
    ]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name = '', sha = ''] = line.split(' ');
        return { name, sha };
      });
  }

  async isAncestor(owner: string, repo: string, ancestor: string, of: string): Promise<boolean> {
    const { code } = await this.run(this.dir(owner, repo), ['merge-base', '--is-ancestor', ancestor, of], {
      okCodes: [1],
    });
    return code === 0;
  }

  async commit(owner: string, repo: string, sha: string): Promise<CommitInfo> {
    const raw = await this.text(this.dir(owner, repo), [
      'show',
      '-s',
      '--format=%H%n%T%n%P%n%an%n%ae%n%aI%n%cn%n%ce%n%cI%n%B',
      sha,
    ]);
    const [h = '', t = '', p = '', an = '', ae = '', ad = '', cn = '', ce = '', cd = '', ...msg] =
      raw.split('\n');
    return {
      sha: h,
      tree: t,
      parents: p.split(' ').filter(Boolean),
      message: msg.join('\n').trim(),
      author: { name: an, email: ae, date: ad },
      committer: { name: cn, email: ce, date: cd },
    };
  }

  /** A file's bytes or a folder's entries at `ref`, or null when absent. */
  async readPath(owner: string, repo: string, ref: string, path: string): Promise<PathContent | null> {
    const gitDir = this.dir(owner, repo);
    const commit = await this.revParse(owner, repo, ref);
    if (!commit) return null;
    const clean = path.replace(/^\/+|\/+$/g, '');
    const spec = clean ? `${commit}:${clean}` : `${commit}^{tree}`;
    const type = await this.run(gitDir, ['cat-file', '-t', spec], { okCodes: [128] });
    if (type.code !== 0) return null;
    const sha = await this.text(gitDir, ['rev-parse', spec]);
    if (type.stdout.toString().trim() === 'blob') {
      return { type: 'file', sha, content: (await this.run(gitDir, ['cat-file', 'blob', sha])).stdout };
    }
    const listing = await this.text(gitDir, ['ls-tree', '-l', sha]);
    const entries = listing
      .split('\n')
      .filter(Boolean)
      .map((line): TreeEntry => {
        const [meta = '', name = ''] = line.split('\t');
        const [, kind, objectSha = '', size = '0'] = meta.split(/\s+/);
        return { type: kind === 'tree' ? 'dir' : 'file', name, sha: objectSha, size: Number(size) || 0 };
      });
    return { type: 'dir', entries };
  }

  /**
   * Commits `files` (path → content; null deletes) on top of `branch` (or as a root commit when
   * the branch does not exist yet) and moves the branch. Returns the new commit SHA.
   */
  async commitFiles(
    owner: string,
    repo: string,
    options: {
      branch: string;
      files: Readonly<Record<string, string | Buffer | null>>;
      message: string;
      author?: GitIdentity;
      /** Start from this commit instead of the branch tip. */
      parent?: string;
    },
  ): Promise<string> {
    const gitDir = this.dir(owner, repo);
    const tmp = await mkdtemp(join(tmpdir(), 'forge-index-'));
    const env = { GIT_INDEX_FILE: join(tmp, 'index') };
    try {
      const parent = options.parent ?? (await this.revParse(owner, repo, `refs/heads/${options.branch}`));
      if (parent) await this.run(gitDir, ['read-tree', parent], { env });
      for (const [path, content] of Object.entries(options.files)) {
        const clean = path.replace(/^\/+/, '');
        if (content === null) {
          await this.run(gitDir, ['update-index', '--force-remove', '--', clean], { env });
          continue;
        }
        const blob = (await this.run(gitDir, ['hash-object', '-w', '--stdin'], { input: content })).stdout
          .toString()
          .trim();
        await this.run(gitDir, ['update-index', '--add', '--cacheinfo', `100644,${blob},${clean}`], { env });
      }
      const tree = await this.text(gitDir, ['write-tree'], env);
      return await this.commitTree(owner, repo, { tree, parents: parent ? [parent] : [], ...options });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /** Commits every file under `dir` (honouring its .gitignore) as the new tip of `branch`. */
  async commitDirectory(
    owner: string,
    repo: string,
    options: { branch: string; dir: string; message: string; author?: GitIdentity },
  ): Promise<string> {
    const gitDir = this.dir(owner, repo);
    const tmp = await mkdtemp(join(tmpdir(), 'forge-index-'));
    const env = { GIT_INDEX_FILE: join(tmp, 'index') };
    try {
      await this.run(gitDir, ['--work-tree', options.dir, 'add', '-A', '.'], { env });
      const tree = await this.text(gitDir, ['write-tree'], env);
      const parent = await this.revParse(owner, repo, `refs/heads/${options.branch}`);
      return await this.commitTree(owner, repo, { tree, parents: parent ? [parent] : [], ...options });
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }

  /**
   * Merges `head` into `base` without a working tree (`git merge-tree --write-tree`).
   * Returns the new tip of `base`, or null on conflicts.
   */
  async merge(
    owner: string,
    repo: string,
    options: {
      base: string;
      head: string;
      message: string;
      method: 'merge' | 'squash' | 'rebase';
      author?: GitIdentity;
    },
  ): Promise<string | null> {
    const gitDir = this.dir(owner, repo);
    const baseSha = await this.revParse(owner, repo, `refs/heads/${options.base}`);
    const headSha = await this.revParse(owner, repo, options.head);
    if (!baseSha || !headSha) return null;
    const result = await this.run(gitDir, ['merge-tree', '--write-tree', baseSha, headSha], { okCodes: [1] });
    if (result.code !== 0) return null;
    const tree = result.stdout.toString().split('\n')[0]?.trim() ?? '';
    const parents = options.method === 'merge' ? [baseSha, headSha] : [baseSha];
    return this.commitTree(owner, repo, {
      tree,
      parents,
      branch: options.base,
      message: options.message,
      author: options.author,
    });
  }

  private async commitTree(
    owner: string,
    repo: string,
    options: { tree: string; parents: string[]; branch: string; message: string; author?: GitIdentity },
  ): Promise<string> {
    const gitDir = this.dir(owner, repo);
    const who = options.author ?? DEFAULT_IDENTITY;
    const env = {
      GIT_AUTHOR_NAME: who.name,
      GIT_AUTHOR_EMAIL: who.email,
      GIT_COMMITTER_NAME: who.name,
      GIT_COMMITTER_EMAIL: who.email,
    };
    const args = ['commit-tree', options.tree, ...options.parents.flatMap((p) => ['-p', p])];
    const sha = (await this.run(gitDir, args, { input: options.message, env })).stdout.toString().trim();
    await this.run(gitDir, ['update-ref', `refs/heads/${options.branch}`, sha]);
    return sha;
  }
}
