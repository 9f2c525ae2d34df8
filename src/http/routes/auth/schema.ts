import { z } from 'zod';
import { Timestamp } from '../common.js';
import { ROLES } from '../../../../workflows/vocabulary.js';

export const AuthLoginSchema = z
  .object({
    username: z.string().trim().min(1).max(150),
    password: z.string().min(1).max(1024),
  })
  .strict();
export type AuthLogin = z.infer<typeof AuthLoginSchema>;

export const TokenSchema = z
  .object({ access_token: z.string(), token_type: z.literal('bearer'), expires_in: z.number().int() })
  .openapi('Token');

export const UserSchema = z
  .object({
    id: z.uuid(),
    username: z.string(),
    email: z.string(),
    full_name: z.string(),
    role: z.enum(ROLES),
    is_active: z.boolean(),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .openapi('User');
