/**
 * get_ticket_sla's breach history through the official MCP client (the same command and presenter
 * as GET /tickets/{id}/sla), structuredContent checked against the tool's output schema.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ticket } from '../../src/models/index.js';
import { startSla } from '../../workflows/sla/clock.js';
import { createApiKey, createUser, ensureSlaPolicies } from '../helpers/factories.js';
import { startHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let client: Client;
let tools: Map<string, Tool>;
const ajv = new Ajv({ strict: false });

beforeAll(async () => {
  h = await startHarness({ worker: false, env: { RATE_LIMIT_PER_MINUTE: '100000' } });
  await ensureSlaPolicies(h.db);
  const admin = await createUser(h.db, { role: 'admin' });
  client = new Client({ name: 'servicemeow-tests', version: '1.0.0' });
  const key = (await createApiKey(h.db, admin)).plain;
  await client.connect(new StreamableHTTPClientTransport(new URL(`${h.baseUrl}/mcp`), { requestInit: { headers: { 'X-API-Key': key } } }));
  tools = new Map((await client.listTools()).tools.map((t) => [t.name, t]));
});
afterAll(async () => {
  await client?.close();
  await h?.stop();
});

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join(' ');

async function tool(name: string, args: Record<string, unknown>): Promise<CallToolResult & { structuredContent?: any }> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  if (!result.isError) {
    const validate = ajv.compile(tools.get(name)!.outputSchema!);
    expect(validate(result.structuredContent), `${name}: ${ajv.errorsText(validate.errors)}`).toBe(true);
  }
  return result as CallToolResult & { structuredContent?: any };
}

describe('get_ticket_sla', () => {
  it('carries the breach history per cycle', async () => {
    const created = Date.parse('2026-11-02T08:00:00Z');
    const sla = startSla({ assignTargetSeconds: 60, resolveTargetSeconds: 600, atRiskPercent: 80, calendar: null }, created, false).sla;
    const t = await Ticket.query(h.db).insertAndFetch({
      id: randomUUID(),
      title: 'Breached twice',
      priority: 'high',
      status: 'open',
      version: 1,
      createdAt: new Date(created),
      updatedAt: new Date(created),
      slaState: sla,
    } as Partial<Ticket>);
    for (const [metric, cycle, after] of [
      ['assign', 1, 60],
      ['resolve', 1, 600],
      ['resolve', 2, 1200],
    ] as const) {
      const id = `evt_${randomBytes(8).toString('hex')}`;
      const due = new Date(created + after * 1000).toISOString();
      await h.db('events').insert({
        id,
        type: 'ticket.sla_breached',
        ticket_id: t.id,
        payload: {
          id,
          type: 'ticket.sla_breached',
          timestamp: due,
          data: { sla: { metric, signal: 'breached', due_at: due, cycle, target_seconds: after > 60 ? 600 : 60 } },
        },
        dedupe_key: `${t.id}:${id}`,
        created_at: due,
      });
    }
    const res = await tool('get_ticket_sla', { ticket: t.ticketNumber });
    expect(res.isError, text(res)).toBeFalsy();
    expect(res.structuredContent.breaches.map((b: { metric: string; cycle: number }) => `${b.metric}#${b.cycle}`)).toEqual([
      'assign#1',
      'resolve#1',
      'resolve#2',
    ]);
    expect(text(res)).toContain('Breaches recorded: 3');
  });
});
