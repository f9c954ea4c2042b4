import type { CommandVerb } from '../gateway/parse-command.js';
import { TRIGGER_LABEL_PLACEHOLDER, type EventCondition, type WorkflowDefinition } from './parse-workflow.js';

export type SubjectType = 'issue' | 'pull';

/** What happened, as the worker sees it after routing and authorization. */
export type TriggerInput =
  | { readonly kind: 'label'; readonly label: string; readonly subjectType: SubjectType }
  | { readonly kind: 'command'; readonly verb: CommandVerb; readonly subjectType: SubjectType }
  | {
      readonly kind: 'event';
      /** `event.action`, e.g. `pull_request_review.submitted`. */
      readonly event: string;
      readonly subjectType: SubjectType;
      /** Which {@link EventCondition}s hold for the subject (merged, droid branch). @defaultValue `[]` */
      readonly conditions?: readonly EventCondition[];
    }
  | { readonly kind: 'schedule'; readonly name: string };

export interface MatchOptions {
  /** What `$triggerLabel` in a definition stands for (`DROIDWORKS_TRIGGER_LABEL`). */
  readonly triggerLabel: string;
}

/**
 * The workflow a trigger starts: the first in `workflows` order (see `loadWorkflows`) whose trigger
 * and subject type fit, or undefined when none does. Labels compare case-insensitively, as GitHub's do.
 * A schedule names its workflow directly. Pure.
 */
export function matchWorkflow(
  workflows: ReadonlyMap<string, WorkflowDefinition>,
  trigger: TriggerInput,
  options: MatchOptions,
): WorkflowDefinition | undefined {
  if (trigger.kind === 'schedule') {
    const def = workflows.get(trigger.name);
    return def?.trigger.schedule !== undefined ? def : undefined;
  }
  for (const def of workflows.values()) {
    if (def.on !== 'any' && def.on !== trigger.subjectType) continue;
    if (fits(def, trigger, options)) return def;
  }
  return undefined;
}

function fits(
  def: WorkflowDefinition,
  trigger: Exclude<TriggerInput, { kind: 'schedule' }>,
  options: MatchOptions,
): boolean {
  const t = def.trigger;
  switch (trigger.kind) {
    case 'label': {
      if (t.label === undefined) return false;
      const wanted = t.label === TRIGGER_LABEL_PLACEHOLDER ? options.triggerLabel : t.label;
      return wanted.toLowerCase() === trigger.label.toLowerCase();
    }
    case 'command':
      return t.command?.includes(trigger.verb) ?? false;
    case 'event': {
      if (!t.event?.includes(trigger.event)) return false;
      const holds = new Set(trigger.conditions ?? []);
      return t.when.every((c) => holds.has(c));
    }
  }
}
