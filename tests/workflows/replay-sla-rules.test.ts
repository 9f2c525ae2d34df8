/**
 * Replay of the SLA-rules history shape (patch 'sla-rules'): a ticket matched to a rule at create,
 * re-matched by changes that carry their terms, one whose carried basis no longer holds (matched
 * again by the `matchSlaTerms` activity), the repair batch's `slaRetarget` Update, and the batch's
 * own workflow. RECORD_HISTORIES=1 saves both as fixtures (replay.test.ts then replays them on
 * every run, and mutation-plans-history.test.ts rebuilds the ticket's writes from them). Tickets
 * created through the API are ticketWorkflowV2 runs since that type: their fixtures are `*-v2-*`.
 */
import { randomUUID } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import proto from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { changeUpdate, ticketWorkflowId } from '../../workflows/definitions.js';
import { V2_IMPLIED_PATCHES } from '../../workflows/patches.js';
import { slaRepairWorkflowId } from '../../src/commands/sla/repairs.js';
import { eventually } from '../helpers/eventually.js';
import { createGroup, ensureSlaPolicies, signedIn } from '../helpers/factories.js';
import { call, startHarness, type Harness } from '../helpers/harness.js';

const FIXTURES = path.join(import.meta.dirname, 'histories');
const { History } = proto.temporal.api.history.v1;
let h: Harness;
let bundle: { code: string };
beforeAll(async () => {
  h = await startHarness({ scratch: 'replay_sla_rules' });
  await ensureSlaPolicies(h.db);
  bundle = { code: await readFile(inject('workflowBundlePath'), 'utf8') };
});
afterAll(() => h?.stop());

describe('replay: SLA rules', () => {
  it('replays a ticket matched, re-matched and repaired under rules, and the repair batch', async () => {
    const { token, user } = await signedIn(h, 'admin');
    const group = await createGroup(h.db);
    const targets = { medium: { assign_target_seconds: 600, resolve_target_seconds: 6_000 } };
    const rule = (
      await call(h, 'POST', '/api/v1/sla-rules', { token, body: { name: 'Replay', conditions: { groups: [group.id] }, targets } })
    ).body;
    const t = (await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Rules replay', assigned_group_id: group.id } })).body;
    expect(t.sla.policy.rule_id).toBe(rule.id);
    expect((await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, body: { tags: ['x'] } })).status).toBe(200);
    // a change whose carried basis no longer describes the ticket: matched again by an activity
    const handle = h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id));
    await handle.executeUpdate(changeUpdate, {
      args: [
        {
          requestId: `change-${randomUUID()}`,
          actor: { type: 'user', userId: user.id },
          expectedVersion: null,
          changes: { category: 'stale' },
          slaTerms: null,
          slaBasis: { priority: 'medium', groupId: null, category: 'stale', tags: [] },
        },
      ],
    });
    const edited = await call(h, 'PUT', `/api/v1/sla-rules/${rule.id}?apply_to_open=true`, {
      token,
      body: {
        name: 'Replay',
        conditions: { groups: [group.id] },
        targets: { medium: { assign_target_seconds: 500, resolve_target_seconds: 5_000 } },
      },
    });
    expect(edited.status).toBe(200);
    await eventually(
      async () => (await call(h, 'GET', `/api/v1/sla-repairs/${edited.body.sla_repair_id}`, { token })).body.status === 'completed',
    );
    expect((await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, body: { priority: 'low' } })).status).toBe(200);
    const sla = (await call(h, 'GET', `/api/v1/tickets/${t.id}/sla`, { token })).body;
    expect(sla.policy).toEqual({ rule_id: null, name: 'default (low)', version: 1 });

    const history = await handle.fetchHistory();
    const events = history.events ?? [];
    const activities = events.map((e) => e.activityTaskScheduledEventAttributes?.activityType?.name).filter(Boolean);
    expect(activities.filter((a) => a === 'matchSlaTerms')).toHaveLength(1); // only the stale one
    expect(activities).not.toContain('loadSlaTerms');
    const updates = events.map((e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name).filter(Boolean);
    expect(updates).toContain('slaRetarget');
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, ticketWorkflowId(t.id))).resolves.toBeUndefined();

    const repair = await h.temporal.client.workflow.getHandle(slaRepairWorkflowId(edited.body.sla_repair_id)).fetchHistory();
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, repair, 'sla-repair')).resolves.toBeUndefined();
    if (process.env.RECORD_HISTORIES) {
      const tag = randomUUID().slice(0, 8);
      await writeFile(path.join(FIXTURES, `sla-rules-v2-${tag}.history.pb`), History.encode(history).finish());
      await writeFile(path.join(FIXTURES, `sla-repair-${tag}.history.pb`), History.encode(repair).finish());
    }
  });

  it('replays a waiting ticket re-matched onto a rule with warning levels and pause statuses, then repaired to other ones', async () => {
    const { token } = await signedIn(h, 'admin');
    const body = (levels: unknown, pauses: unknown) => ({
      name: 'Levels replay',
      conditions: { tags_any: ['levels-replay'] },
      targets: { medium: { assign_target_seconds: 600, resolve_target_seconds: 6_000 } },
      warning_levels: levels,
      pause_statuses: pauses,
    });
    const rule = (
      await call(h, 'POST', '/api/v1/sla-rules', {
        token,
        body: body({ assign: [{ percent: 50 }, { minutes_before: 1 }] }, { assign: ['waiting_on_customer'] }),
      })
    ).body;
    const t = (await call(h, 'POST', '/api/v1/tickets', { token, body: { title: 'Levels replay' } })).body;
    expect(t.sla.policy.rule_id).toBeNull();
    const patch = async (change: Record<string, unknown>) =>
      expect((await call(h, 'PATCH', `/api/v1/tickets/${t.id}`, { token, body: change })).status).toBe(200);
    const sla = async () => (await call(h, 'GET', `/api/v1/tickets/${t.id}/sla`, { token })).body;
    await patch({ status: 'waiting_on_customer' });
    expect((await sla()).assign.state).toBe('running'); // the default policy leaves assign running
    await patch({ tags: ['levels-replay'] }); // re-matched: the rule's levels, and assign stops while waiting
    expect(await sla()).toMatchObject({ policy: { rule_id: rule.id }, assign: { state: 'paused' } });
    const edited = await call(h, 'PUT', `/api/v1/sla-rules/${rule.id}?apply_to_open=true`, {
      token,
      body: body({ assign: [{ percent: 25 }] }, null),
    });
    expect(edited.status).toBe(200);
    await eventually(
      async () => (await call(h, 'GET', `/api/v1/sla-repairs/${edited.body.sla_repair_id}`, { token })).body.status === 'completed',
    );
    // the repaired version's default pause statuses let assign run again while waiting
    const repaired = await sla();
    expect(repaired).toMatchObject({ policy: { rule_id: rule.id, version: 2 }, assign: { state: 'running' } });
    expect(repaired.warning_levels.assign.map((l: { level: unknown }) => l.level)).toEqual([{ percent: 25 }]);
    await patch({ status: 'open' });

    const history = await h.temporal.client.workflow.getHandle(ticketWorkflowId(t.id)).fetchHistory();
    const patches = (history.events ?? [])
      .map((e) => e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads?.[0]?.data)
      .filter((d): d is Uint8Array => d instanceof Uint8Array)
      .map((d) => JSON.parse(Buffer.from(d).toString()).id);
    // a ticketWorkflowV2 (POST /tickets): the patches this shape takes are implied, so no marker
    // (sla-rules-levels-5e226056 is the same shape from a ticketWorkflow, with its markers)
    expect(history.events![0]!.workflowExecutionStartedEventAttributes!.workflowType!.name).toBe('ticketWorkflowV2');
    expect(patches).toEqual([]);
    expect([...V2_IMPLIED_PATCHES]).toEqual(expect.arrayContaining(['sla-rules', 'sla-warning-levels', 'sla-pause-statuses']));
    await expect(Worker.runReplayHistory({ workflowBundle: bundle }, history, ticketWorkflowId(t.id))).resolves.toBeUndefined();
    if (process.env.RECORD_HISTORIES) {
      await writeFile(path.join(FIXTURES, `sla-rules-levels-v2-${randomUUID().slice(0, 8)}.history.pb`), History.encode(history).finish());
    }
  });
});
