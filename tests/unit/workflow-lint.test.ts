import path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(import.meta.dirname, '../..');
const eslint = new ESLint({ cwd: repo });

async function ruleErrors(code: string, file = 'workflows/probe.workflow.ts'): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repo, file) });
  return result!.messages.filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports').map((m) => m.message);
}

describe('the workflow sandbox lint rule', () => {
  it('refuses Node built-ins, application code and value imports of activities in workflows/', async () => {
    expect(await ruleErrors(`import fs from 'node:fs';\nexport const x = fs;\n`)).toHaveLength(1);
    expect(await ruleErrors(`import { randomUUID } from 'crypto';\nexport const x = randomUUID;\n`)).toHaveLength(1);
    expect(await ruleErrors(`import { loadConfig } from '../src/config/env.js';\nexport const x = loadConfig;\n`)).toHaveLength(1);
    expect(
      await ruleErrors(`import { createActivities } from '../activities/index.js';\nexport const x = createActivities;\n`),
    ).toHaveLength(1);
  });

  it('allows the SDK, shared definitions and `import type` of activities', async () => {
    const ok = `import { proxyActivities } from '@temporalio/workflow';\nimport type { Activities } from '../activities/index.js';\nimport { ticketWorkflowId } from './definitions.js';\nexport const a = proxyActivities<Activities>({ startToCloseTimeout: '1s' });\nexport const b = ticketWorkflowId;\n`;
    expect(await ruleErrors(ok)).toEqual([]);
  });

  it('applies only to workflows/', async () => {
    expect(await ruleErrors(`import fs from 'node:fs';\nexport const x = fs;\n`, 'src/probe.ts')).toEqual([]);
  });
});
