import type { IntakeJob, IntakeKind, SubjectRef } from '../queue/jobs.js';
import { capCommandLines, parseCommands } from './parse-command.js';
import { SCHEDULE_ROUTES } from './schedule-routes.js';

/** What the router needs from the configuration. */
export interface RouteSettings {
  readonly triggerLabel: string;
  readonly commandPrefix: string;
  /** Login of droidworks' own account; anything it sends is ignored. */
  readonly botLogin?: string;
}

/** A webhook payload, loosely typed: the fields are checked where they are read. */
type Payload = Record<string, unknown>;

export type RouteResult =
  | { readonly accepted: true; readonly job: Omit<IntakeJob, 'deliveryId' | 'receivedAt'> }
  | {
      readonly accepted: false;
      readonly reason: string;
      /** The payload lacks what the event must carry. */ readonly malformed?: boolean;
    };

export interface Route {
  readonly event: string;
  /** Actions this route listens to; undefined for events without an action (`status`). */
  readonly actions?: readonly string[];
  readonly kind: IntakeKind;
  /** Extra condition on the payload; returns a reason when the event is not for us. */
  readonly when?: (payload: Payload, settings: RouteSettings) => string | undefined;
  /** Extra fields for the intake job. */
  readonly extract?: (payload: Payload, settings: RouteSettings) => Partial<IntakeJob>;
  /** Accept bot senders: CI results start no agent work, they only wake waiting deploy gates. */
  readonly fromBots?: boolean;
}

const DROID_BRANCH = /^droid\//;

/**
 * The mapping from GitHub events to intake jobs, as data. The gateway makes no GitHub call:
 * authorization and everything costly happen in the worker.
 */
export const ROUTES: readonly Route[] = [
  {
    event: 'issues',
    actions: ['labeled'],
    kind: 'label',
    when: (p, s) => (labelName(p) === s.triggerLabel ? undefined : 'not the trigger label'),
  },
  {
    event: 'issues',
    actions: ['unlabeled'],
    kind: 'unlabel',
    when: (p, s) => (labelName(p) === s.triggerLabel ? undefined : 'not the trigger label'),
  },
  { event: 'issues', actions: ['closed'], kind: 'closed' },
  {
    event: 'pull_request',
    actions: ['closed'],
    kind: 'closed',
    when: (p) => (merged(p) ? 'merged' : undefined),
  },
  {
    event: 'issue_comment',
    actions: ['created'],
    kind: 'command',
    when: (p, s) => (commandLines(p, s).length > 0 ? undefined : 'no command in comment'),
    extract: (p, s) => {
      const { lines, ignored } = capCommandLines(commandLines(p, s));
      return {
        commentId: num(obj(p.comment).id),
        commands: lines,
        ...(ignored ? { commandsIgnored: ignored } : {}),
      };
    },
  },
  {
    event: 'pull_request',
    actions: ['closed'],
    kind: 'merge',
    when: (p) => (merged(p) ? undefined : 'closed without merge'),
    extract: (p) => ({ sha: str(obj(p.pull_request).merge_commit_sha) }),
  },
  {
    event: 'pull_request_review',
    actions: ['submitted'],
    kind: 'review',
    when: (p, s) => {
      if (!DROID_BRANCH.test(headRef(p))) return 'not a droid pull request';
      const review = obj(p.review);
      if (review.state === 'changes_requested' || mentions(str(review.body), s)) return undefined;
      return 'review neither requests changes nor mentions the droid';
    },
    extract: (p) => ({ text: cap(str(obj(p.review).body)) }),
  },
  {
    event: 'pull_request_review_comment',
    actions: ['created'],
    kind: 'review',
    when: (p, s) => {
      if (!DROID_BRANCH.test(headRef(p))) return 'not a droid pull request';
      return mentions(str(obj(p.comment).body), s) ? undefined : 'comment does not mention the droid';
    },
    extract: (p) => {
      const c = obj(p.comment);
      return { text: cap(`${str(c.path)}:${String(c.line ?? '')}\n${str(c.body)}`), commentId: num(c.id) };
    },
  },
  {
    event: 'check_run',
    actions: ['completed'],
    kind: 'ci',
    fromBots: true,
    extract: (p) => ({ sha: str(obj(p.check_run).head_sha), conclusion: str(obj(p.check_run).conclusion) }),
  },
  {
    event: 'check_suite',
    actions: ['completed'],
    kind: 'ci',
    fromBots: true,
    extract: (p) => ({
      sha: str(obj(p.check_suite).head_sha),
      conclusion: str(obj(p.check_suite).conclusion),
    }),
  },
  {
    event: 'status',
    kind: 'ci',
    fromBots: true,
    extract: (p) => ({ sha: str(p.sha), conclusion: str(p.state) }),
  },
  ...SCHEDULE_ROUTES,
  {
    event: 'workflow_run',
    actions: ['completed'],
    kind: 'ci',
    fromBots: true,
    extract: (p) => ({
      sha: str(obj(p.workflow_run).head_sha),
      conclusion: str(obj(p.workflow_run).conclusion),
    }),
  },
];

/** Events droidworks listens to at all (for the App manifest and quick rejects). */
export const ROUTED_EVENTS: ReadonlySet<string> = new Set(ROUTES.map((r) => r.event));

/**
 * Decides what a webhook becomes: an intake job, or ignored with a reason. Pure.
 * Senders that are bots (droidworks included) never start work: no loops. CI results are the
 * exception (`fromBots`): they only make waiting deploy gates read the checks again.
 */
export function routeEvent(event: string, payload: Payload, settings: RouteSettings): RouteResult {
  const candidates = ROUTES.filter((r) => r.event === event);
  if (candidates.length === 0) return { accepted: false, reason: `event ${event} is not routed` };
  const action = typeof payload.action === 'string' ? payload.action : undefined;
  const forAction = candidates.filter((r) =>
    r.actions ? action !== undefined && r.actions.includes(action) : true,
  );
  if (forAction.length === 0)
    return { accepted: false, reason: `action ${event}.${action ?? '(none)'} is not routed` };

  const repository = obj(payload.repository);
  // Installation events name an account, not one repository: they re-sync all of its repositories.
  const wholeAccount = forAction.every((r) => r.kind === 'sync') && !payload.repository;
  const owner = str(obj(repository.owner).login) || (wholeAccount ? accountOf(payload) : '');
  const name = str(repository.name) || (wholeAccount ? '*' : '');
  if (!owner || !name) return { accepted: false, reason: 'payload has no repository', malformed: true };

  const sender = obj(payload.sender);
  const login = str(sender.login);
  if (isBot(sender, settings) && !forAction.every((r) => r.fromBots))
    return { accepted: false, reason: `sender ${login || '(unknown)'} is a bot` };

  let lastReason = 'no route matched';
  for (const route of forAction) {
    const reason = route.when?.(payload, settings);
    if (reason !== undefined) {
      lastReason = reason;
      continue;
    }
    const installationId = num(obj(payload.installation).id);
    return {
      accepted: true,
      job: {
        kind: route.kind,
        event,
        action,
        repo: {
          owner,
          name,
          id: num(repository.id),
          defaultBranch: str(repository.default_branch) || undefined,
        },
        installationId,
        sender: { login, id: num(sender.id) },
        subject: subjectOf(payload),
        ...route.extract?.(payload, settings),
      },
    };
  }
  return { accepted: false, reason: lastReason };
}

function isBot(sender: Payload, settings: RouteSettings): boolean {
  const login = str(sender.login).toLowerCase();
  if (sender.type === 'Bot' || login.endsWith('[bot]')) return true;
  return settings.botLogin !== undefined && login === settings.botLogin.toLowerCase();
}

function subjectOf(p: Payload): SubjectRef | undefined {
  const pr = obj(p.pull_request);
  if (typeof pr.number === 'number') {
    return {
      type: 'pull',
      number: pr.number,
      headRef: str(obj(pr.head).ref) || undefined,
      title: str(pr.title).slice(0, 1024),
    };
  }
  const issue = obj(p.issue);
  if (typeof issue.number === 'number') {
    // An issue_comment on a pull request carries `issue.pull_request`.
    const type = issue.pull_request ? 'pull' : 'issue';
    return { type, number: issue.number, title: str(issue.title).slice(0, 1024) };
  }
  return undefined;
}

function commandLines(p: Payload, s: RouteSettings): string[] {
  return parseCommands(str(obj(p.comment).body), s.commandPrefix).map((c) => c.line);
}

function mentions(text: string, s: RouteSettings): boolean {
  if (s.botLogin && text.toLowerCase().includes(`@${s.botLogin.replace(/\[bot\]$/, '').toLowerCase()}`))
    return true;
  return text.toLowerCase().includes(s.commandPrefix.toLowerCase());
}

const labelName = (p: Payload): string => str(obj(p.label).name);
const accountOf = (p: Payload): string => str(obj(obj(p.installation).account).login);
const merged = (p: Payload): boolean => obj(p.pull_request).merged === true;
const headRef = (p: Payload): string => str(obj(obj(p.pull_request).head).ref);
const cap = (text: string): string => (text.length > 65_536 ? text.slice(0, 65_536) : text);

function obj(value: unknown): Payload {
  return value !== null && typeof value === 'object' ? (value as Payload) : {};
}
function str(value: unknown): string {
  return typeof value === 'string' ? value : '';
}
function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) ? value : undefined;
}
