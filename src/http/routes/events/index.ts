import jwt from 'jsonwebtoken';
import { z } from 'zod';
import { findVisibleTicket } from '../../../commands/tickets/read.js';
import { groupIdsOf } from '../../../store/tickets.js';
import { AppError, forbidden } from '../../../errors/index.js';
import type { EventHub } from '../../../events/hub.js';
import { SseStream } from '../../../events/sse.js';
import { countAfter, positionOfEvent, readSettled } from '../../../events/store.js';
import { canReadTickets } from '../../../policies/tickets.js';
import type { ApiRouter } from '../../api-router.js';
import type { Db } from '../../../db/index.js';
import type { RouteDeps } from '../../context.js';
import { EVENT_TYPES, TICKET_REF_PATTERN } from '../../../../workflows/vocabulary.js';
import { csvEnum } from '../common.js';
import { registerEventWebhooks } from './schema.js';

const StreamQuery = z.object({
  ticket_id: z.string().regex(TICKET_REF_PATTERN, 'must be a ticket UUID or number').optional(),
  types: csvEnum(EVENT_TYPES).optional().openapi({ description: 'comma-separated event types' }),
  last_event_id: z.string().max(100).optional().openapi({ description: 'as the Last-Event-ID header, for clients that cannot set it' }),
});

export function eventRoutes(api: ApiRouter, deps: RouteDeps, hub: EventHub): void {
  const bufferLimit = deps.tuning?.stream?.bufferLimitBytes ?? 1024 * 1024;
  const maxBacklog = deps.tuning?.stream?.maxBacklog ?? 1_000;

  registerEventWebhooks(api.registry);
  api.route({
    method: 'get',
    path: '/events/stream',
    operationId: 'streamEvents',
    summary: 'Live ticket events (Server-Sent Events): filters, Last-Event-ID resume, only tickets you may see',
    tags: ['events'],
    secured: true,
    before: deps.guard,
    query: StreamQuery,
    responses: {
      200: {
        description:
          'Server-Sent Events: `id` = event id, `event` = type, `data` = the event envelope (see `webhooks`); `: keep-alive` comments every 15 s',
        mediaType: 'text/event-stream',
        rawSchema: { type: 'string' },
      },
      403: { description: 'This API key may not read tickets' },
      404: { description: 'No such ticket (ticket_id), or not visible to you' },
    },
    handler: async (ctx, { query }) => {
      const principal = ctx.state.principal!;
      if (!canReadTickets(principal)) throw forbidden('This API key may not read tickets.');
      const ticketId = query.ticket_id ? (await findVisibleTicket({ db: deps.db, principal }, query.ticket_id)).id : undefined;
      const groups = principal.role === 'agent' ? await groupIdsOf(deps.db, principal.user.id) : [];
      const resumeFrom = ctx.get('Last-Event-ID') || query.last_event_id;

      const credential = { principal, expiresAt: principal.actorType === 'user' ? jwtExpiry(ctx.get('Authorization')) : null };
      const res = ctx.res;
      const stream = new SseStream(res, credential, groups, { ticketId, types: query.types }, bufferLimit);
      // Subscribed before the 200 goes out: a client that has the response headers gets every event
      // committed from then on. Live events queue up while we replay.
      let unsubscribe: (() => void) | null = null;
      stream.onClose = () => unsubscribe?.();
      try {
        unsubscribe = await hub.subscribe(stream);
      } catch (err) {
        ctx.state.log.warn({ err }, 'event stream unavailable');
        throw new AppError(503, 'stream_unavailable', 'The event stream is unavailable; retry shortly.', null, { 'Retry-After': '5' });
      }
      if (stream.ended) return unsubscribe(); // the client left meanwhile

      // From here on the response is ours: Koa must not write it.
      ctx.status = 200; // what the access log and metrics record
      ctx.respond = false;
      ctx.req.socket.setTimeout(0);
      ctx.req.socket.setNoDelay(true);
      res.writeHead(200, {
        ...(ctx.response.headers as Record<string, string>),
        'Content-Type': 'text/event-stream; charset=utf-8',
        'Cache-Control': 'no-cache, no-transform',
        Connection: 'keep-alive',
        'X-Accel-Buffering': 'no',
      });
      res.write('retry: 3000\n\n');
      if (resumeFrom) await replay(deps.db, stream, resumeFrom, { ticketId, types: query.types }, maxBacklog);
      stream.goLive();
    },
  });
}

/**
 * The events after `lastEventId` that the stream order has settled (events/store.ts), then live:
 * the hub's cursor is never past what this read settled, and the stream sends each position once.
 */
async function replay(
  db: Db,
  stream: SseStream,
  lastEventId: string,
  filter: { ticketId?: string; types?: string[] },
  maxBacklog: number,
): Promise<void> {
  const from = await positionOfEvent(db, lastEventId);
  if (!from) {
    stream.notice('resync', {
      code: 'unknown_event_id',
      message: `No stored event ${lastEventId}: reload current state through the REST API; live events follow.`,
    });
    return;
  }
  const { events: backlog, held } = await readSettled(db, from, maxBacklog + 1, filter);
  // Events not yet settled (a transaction open anywhere on the cluster holds the horizon) count
  // too: the bound is on what the client missed, not on what this read could already order.
  const missed = held && backlog.length <= maxBacklog ? await countAfter(db, from, maxBacklog + 1, filter) : backlog.length;
  if (missed > maxBacklog) {
    stream.notice('resync', {
      code: 'backlog_too_large',
      message: `More than ${maxBacklog} events since ${lastEventId}: reload current state through the REST API; live events follow.`,
    });
    return;
  }
  for (const e of backlog) stream.replay(e);
}

/** When the (already verified) access token expires, in ms; the stream ends then. */
function jwtExpiry(authorization: string): number | null {
  const token = /^Bearer\s+(\S+)$/i.exec(authorization)?.[1];
  const claims = token ? jwt.decode(token) : null;
  return claims && typeof claims === 'object' && typeof claims.exp === 'number' ? claims.exp * 1000 : null;
}
