import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, requireConnections } from '../../src/config/env.js';
import { parseDuration, parseDurationList } from '../../src/config/duration.js';

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const c = loadConfig({});
    expect(c.port).toBe(8000);
    expect(c.temporal).toMatchObject({ namespace: 'default', taskQueue: 'tickets', address: undefined });
    expect(c.jwt).toMatchObject({ algorithm: 'HS256', accessTokenMinutes: 15, refreshTokenDays: 7 });
    expect(c.uploads.maxSizeMb).toBe(25);
    expect(c.rateLimitPerMinute).toBe(100);
    expect(c.slaDefaults).toEqual({
      critical: { assignSeconds: 900, resolveSeconds: 14_400 },
      high: { assignSeconds: 1_800, resolveSeconds: 28_800 },
      medium: { assignSeconds: 7_200, resolveSeconds: 86_400 },
      low: { assignSeconds: 28_800, resolveSeconds: 259_200 },
    });
    expect(c.webhooks.retryScheduleMs).toEqual([0, 5e3, 3e5, 18e5, 72e5, 18e6, 36e6, 504e5, 72e6, 864e5]);
    expect(c.webhooks.disableAfterMs).toBe(5 * 86_400_000);
    expect(c.webhooks.allowPrivateNetworks).toBe(false);
  });

  it('reads overrides and treats empty values as unset', () => {
    const c = loadConfig({
      PORT: '9000',
      SLA_HIGH_ASSIGN: '1',
      WEBHOOK_RETRY_SCHEDULE: '0s,2s',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      REDIS_URL: '',
    });
    expect(c.port).toBe(9000);
    expect(c.slaDefaults.high.assignSeconds).toBe(60);
    expect(c.webhooks.retryScheduleMs).toEqual([0, 2000]);
    expect(c.webhooks.allowPrivateNetworks).toBe(true);
    expect(c.redisUrl).toBeUndefined();
    expect(c.temporal.maxCachedWorkflows).toBeUndefined();
    // the first attempt is always at once: a leading 0s names it, SPEC §2's form leaves it implied
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: '5s,5m,30m,2h' }).webhooks.retryScheduleMs).toEqual([0, 5e3, 3e5, 1.8e6, 7.2e6]);
    expect(loadConfig({ TEMPORAL_MAX_CACHED_WORKFLOWS: '500' }).temporal.maxCachedWorkflows).toBe(500);
    expect(() => loadConfig({ TEMPORAL_MAX_CACHED_WORKFLOWS: '1' })).toThrow(/TEMPORAL_MAX_CACHED_WORKFLOWS/);
    expect(loadConfig({ WORKER_METRICS_ADDRESS: '0.0.0.0:9464' }).temporal.workerMetricsAddress).toBe('0.0.0.0:9464');
    expect(() => loadConfig({ WORKER_METRICS_ADDRESS: '9464' })).toThrow(/WORKER_METRICS_ADDRESS/);
  });

  it('lists every bad value with its variable, one per line', () => {
    try {
      loadConfig({
        PORT: 'eighty',
        DATABASE_URL: 'mysql://x',
        SLA_LOW_RESOLVE: '-5',
        WEBHOOK_DISABLE_AFTER: 'soon',
        WEBHOOK_RETRY_SCHEDULE: '5s,soon',
        TEMPORAL_ADDRESS: 'nohost',
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const problems = (err as ConfigError).problems.join('\n');
      for (const name of ['PORT', 'DATABASE_URL', 'SLA_LOW_RESOLVE', 'WEBHOOK_DISABLE_AFTER', 'WEBHOOK_RETRY_SCHEDULE', 'TEMPORAL_ADDRESS'])
        expect(problems).toContain(name);
      expect((err as ConfigError).problems).toHaveLength(6);
    }
  });

  it('refuses production with the example secret or the default admin password', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/JWT_SECRET[\s\S]*DEFAULT_ADMIN_PASSWORD/);
    expect(() =>
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'a-real-secret-of-enough-length', DEFAULT_ADMIN_PASSWORD: 'admin' }),
    ).toThrow(/DEFAULT_ADMIN_PASSWORD/);
    expect(
      loadConfig({ NODE_ENV: 'production', JWT_SECRET: 'a-real-secret-of-enough-length', DEFAULT_ADMIN_PASSWORD: 's3cret!' }).nodeEnv,
    ).toBe('production');
  });

  it('is frozen', () => {
    const c = loadConfig({});
    expect(Object.isFrozen(c) && Object.isFrozen(c.jwt)).toBe(true);
  });

  it('requireConnections names what the production processes lack', () => {
    expect(() => requireConnections(loadConfig({}))).toThrow(/DATABASE_URL[\s\S]*TEMPORAL_ADDRESS/);
    const ok = requireConnections(loadConfig({ DATABASE_URL: 'postgres://a@b/c', TEMPORAL_ADDRESS: 'temporal:7233' }));
    expect(ok.temporal.address).toBe('temporal:7233');
  });
});

describe('durations', () => {
  it('parses units', () => {
    expect(parseDuration('500ms')).toBe(500);
    expect(parseDuration('5s')).toBe(5_000);
    expect(parseDuration('1.5m')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('5d')).toBe(432_000_000);
    expect(parseDurationList('5s, 5m,30m')).toEqual([5_000, 300_000, 1_800_000]);
  });

  it('rejects anything else with the offending text', () => {
    for (const bad of ['', '5', 's', '-1s', '5 weeks', '1e3s']) expect(() => parseDuration(bad)).toThrow(/is not a duration/);
    expect(() => parseDurationList(',')).toThrow(/at least one/);
  });
});
