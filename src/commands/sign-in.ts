/** Checking a username and password: REST's login and the OAuth consent page sign in the same way. */
import { burnPasswordCheck, verifyPassword } from '../auth/passwords.js';
import type { Db } from '../db/index.js';
import type { User } from '../models/index.js';
import { userByName } from '../store/users.js';

/**
 * The active user these credentials name, or null. Same work and the same answer whichever part
 * was wrong (an unknown name still costs one password check), so timing reveals nothing.
 */
export async function checkCredentials(db: Db, username: string, password: string): Promise<User | null> {
  const user = username ? await userByName(db, username) : undefined;
  const ok = user ? (await verifyPassword(user.passwordHash, password)) && user.isActive : (await burnPasswordCheck(password), false);
  return ok && user ? user : null;
}
