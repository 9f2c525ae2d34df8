/** User lookups shared by sign-in (REST and the OAuth consent page) and user administration. */
import type { Knex } from 'knex';
import { User } from '../models/index.js';

/** The user with this username, compared case-insensitively (as the unique index does). */
export async function userByName(db: Knex, username: string): Promise<User | undefined> {
  return User.query(db).whereRaw('lower(username) = lower(?)', [username]).first();
}
