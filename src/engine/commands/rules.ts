/** Rule commands (open and closed time), and the check that no live entry is left outside open time. */
import { AllotError, SqlState } from '../../errors.js';
import type { Batch } from '../batch.js';
import { conflictDetail, describeConflicts } from '../conflicts.js';
import { Limits } from '../limits.js';
import { closedConflicts, entryConflict, isLive } from '../placement.js';
import { formatRRule, parseRRule, zoneOf } from '../recurrence.js';
import { ruleExtent } from '../rule-series.js';
import type { Entry, ResourceNode } from '../state.js';
import type { CommandResult, Conflict, Ms, Rule, RulePatch, RuleRecurrence } from '../types.js';
import { checkRuleFields, unknown } from '../validate.js';

/** A recurrence as stored: the RRULE in its canonical text, the zone as the tz database names it, skipped starts in order. */
function normalised(r: RuleRecurrence): RuleRecurrence {
  return { rrule: formatRRule(parseRRule(r.rrule, r.tz)), tz: zoneOf(r.tz).name, exdates: [...new Set(r.exdates)].sort((a, b) => a - b) };
}

function withRecurrence(rule: Rule, recurrence: RuleRecurrence | null | undefined): Rule {
  const { recurrence: _, ...oneOff } = rule;
  return recurrence === null || recurrence === undefined ? oneOff : { ...oneOff, recurrence: normalised(recurrence) };
}

/** The recurrence a patch leaves: its RRULE (or the old one) with its zone and exdates (or the old ones). */
function patchedRecurrence(old: Rule, patch: RulePatch): RuleRecurrence | null {
  const rrule = patch.rrule !== undefined ? patch.rrule : (old.recurrence?.rrule ?? null);
  if (rrule === null) {
    if (patch.tz !== undefined || patch.exdates !== undefined) {
      throw new AllotError(SqlState.invalidParameterValue, `rule "${old.id}" does not recur: tz and exdates apply only to a rule with an rrule`);
    }
    return null;
  }
  return { rrule, tz: patch.tz ?? old.recurrence?.tz ?? 'UTC', exdates: patch.exdates ?? old.recurrence?.exdates ?? [] };
}

export function createRule(batch: Batch, input: Rule, now: Ms): CommandResult {
  checkRuleFields(input);
  const rule = withRecurrence(input, input.recurrence);
  if (batch.store.rules.has(rule.id)) {
    throw new AllotError(SqlState.uniqueViolation, `rule "${rule.id}" already exists`, { detail: `Key (id)=(${rule.id}) already exists.` });
  }
  const node = batch.store.node(rule.resourceId);
  if (node === undefined) throw unknown('resource', rule.resourceId, 'resource_id');
  if (rule.policyId !== null && !batch.store.policies.has(rule.policyId)) throw unknown('policy', rule.policyId, 'policy_id');
  if (node.ruleCount >= Limits.maxRulesPerResource) {
    throw new AllotError(SqlState.programLimitExceeded, `resource "${rule.resourceId}" already has ${Limits.maxRulesPerResource} rules, the limit`);
  }
  batch.emit({ type: 'RuleAdded', rule });
  checkRuleChange(batch, rule, now, `rule "${rule.id}"`);
  return { type: 'rules', rows: [rule] };
}

export function updateRule(batch: Batch, id: string, patch: RulePatch, now: Ms): CommandResult {
  const old = batch.store.rules.get(id);
  if (old === undefined) return { type: 'rules', rows: [] };
  const fields: Rule = {
    id,
    resourceId: patch.resourceId ?? old.resourceId,
    start: patch.start ?? old.start,
    end: patch.end ?? old.end,
    blocking: patch.blocking ?? old.blocking,
    policyId: patch.policyId !== undefined ? patch.policyId : old.policyId,
  };
  const recurrence = patchedRecurrence(old, patch);
  const unchecked = recurrence === null || recurrence === undefined ? fields : { ...fields, recurrence };
  checkRuleFields(unchecked);
  const next = withRecurrence(unchecked, recurrence);
  if (!batch.store.resources.has(next.resourceId)) throw unknown('resource', next.resourceId, 'resource_id');
  if (next.policyId !== null && !batch.store.policies.has(next.policyId)) throw unknown('policy', next.policyId, 'policy_id');
  batch.emit({ type: 'RuleUpdated', rule: next });
  const what = `changing rule "${id}"`;
  if (!old.blocking) checkRuleChange(batch, old, now, what);
  checkRuleChange(batch, next, now, what);
  return { type: 'rules', rows: [next] };
}

export function deleteRule(batch: Batch, id: string, now: Ms): CommandResult {
  const old = batch.store.rules.get(id);
  if (old === undefined) return { type: 'rules', rows: [] };
  batch.emit({ type: 'RuleRemoved', rule: old });
  if (!old.blocking) checkRuleChange(batch, old, now, `removing rule "${id}"`);
  return { type: 'rules', rows: [old] };
}

/**
 * After a rule was added, changed or removed: no live entry it could affect may be left
 * outside open time. A blocking rule affects entries overlapping it; a non-blocking one can
 * change which level's rules apply, so every entry below it under its policy is checked.
 */
function checkRuleChange(batch: Batch, rule: Rule, now: Ms, what: string): void {
  const scope = rule.blocking ? ruleExtent(rule) : 'all';
  checkStranded(batch, rule.resourceId, rule.policyId, scope, now, what);
}

/** Refuses (23P01) if any live entry at or below `rootId` now lies outside open time. */
export function checkStranded(batch: Batch, rootId: string, policyId: string | null, scope: 'all' | { start: Ms; end: Ms }, now: Ms, what: string): void {
  const stranded: Conflict[] = [];
  const visit = (node: ResourceNode): void => {
    const check = (e: Entry): void => {
      if (!isLive(e, now)) return;
      if (policyId !== null && e.policyId !== policyId) return;
      if (closedConflicts(batch.store, e.resourceId, e.policyId, e.start, e.end).length > 0) stranded.push(entryConflict(e));
    };
    if (scope === 'all') for (const e of node.entries) check(e);
    else node.entries.overlapping(scope.start, scope.end, check);
    for (const c of node.children) visit(batch.store.mustNode(c));
  };
  visit(batch.store.mustNode(rootId));
  if (stranded.length > 0) {
    throw new AllotError(SqlState.exclusionViolation, `${what} would leave ${describeConflicts(stranded)} outside open time`, {
      detail: conflictDetail(stranded),
    });
  }
}
