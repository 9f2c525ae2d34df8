/**
 * Idempotency-Key support for POSTs: the first request with a key claims it (with a hash of its
 * body) and a resource id; a retry gets the stored response, or — if the first attempt never
 * finished — the same resource id, so it resumes the same work instead of starting new work.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError } from '../errors/index.js';
import { IdempotencyKey } from '../models/index.js';

const TTL_HOURS = 24;

export interface IdempotencyClaim {
  resourceId: string;
  /** the stored response of a request that already completed */
  replay: { status: number; body: unknown } | null;
  complete(status: number, body: unknown): Promise<void>;
}

export function hashRequest(body: unknown): string {
  return createHash('sha256')
    .update(JSON.stringify(body ?? null))
    .digest('hex');
}

export async function claimIdempotencyKey(
  db: Knex,
  claim: { principal: string; key: string; method: string; path: string; body: unknown },
): Promise<IdempotencyClaim> {
  const requestHash = hashRequest(claim.body);
  await IdempotencyKey.query(db).delete().where('expires_at', '<', new Date()).where({ principal: claim.principal, key: claim.key });
  await IdempotencyKey.query(db)
    .insert({
      principal: claim.principal,
      key: claim.key,
      method: claim.method,
      path: claim.path,
      requestHash,
      resourceId: randomUUID(),
      expiresAt: new Date(Date.now() + TTL_HOURS * 3_600_000),
    } as Partial<IdempotencyKey>)
    .onConflict(['principal', 'key'])
    .ignore();
  const row = await IdempotencyKey.query(db).findOne({ principal: claim.principal, key: claim.key });
  if (!row) throw new Error('idempotency key vanished after insert');
  if (row.requestHash !== requestHash || row.method !== claim.method || row.path !== claim.path) {
    throw new AppError(
      422,
      'idempotency_key_reused',
      'This idempotency key was already used for a different request; nothing was applied.',
    );
  }
  return {
    resourceId: row.resourceId!,
    replay: row.responseStatus ? { status: row.responseStatus, body: row.responseBody } : null,
    complete: async (status, body) => {
      await IdempotencyKey.query(db)
        .patch({ responseStatus: status, responseBody: body } as Partial<IdempotencyKey>)
        .where('id', row.id);
    },
  };
}
