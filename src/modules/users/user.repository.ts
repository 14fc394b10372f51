import { sql } from 'kysely';
import type { Db } from '../../db/database.ts';
import { lockName } from '../../db/locks.ts';
import { looksLikeId } from '../../lib/ids.ts';
import type { User } from '../../db/schema.ts';
import { slugify } from '../../lib/listing.ts';

export function userRepository(db: Db) {
  return {
    findByEmail(email: string): Promise<User | undefined> {
      return db.selectFrom('users').selectAll().where(sql`lower(email)`, '=', email.toLowerCase()).executeTakeFirst();
    },

    findById(id: string): Promise<User | undefined> {
      if (!looksLikeId('user', id)) return Promise.resolve(undefined);
      return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async count(): Promise<number> {
      const r = await db.selectFrom('users').select(sql<number>`count(*)::int`.as('n')).executeTakeFirstOrThrow();
      return r.n;
    },

    list(direction: 'asc' | 'desc', limit: number, offset: number): Promise<User[]> {
      return db.selectFrom('users').selectAll().orderBy('created_at', direction).orderBy('id', direction).limit(limit).offset(offset).execute();
    },

    /** Serialises user creation for one email, so concurrent invites create the user once. */
    lockEmail(email: string): Promise<void> {
      return lockName(db, `user-email:${email.toLowerCase()}`);
    },

    /** A username derived from the email's local part, suffixed until free. */
    async freeUsername(email: string): Promise<string> {
      const base = slugify(email.split('@')[0] ?? '', 'user').replaceAll('-', '_').slice(0, 30);
      await lockName(db, `username:${base}`);
      const taken = await db
        .selectFrom('users')
        .select('username')
        .where(sql`lower(username)`, 'like', `${base.replace(/[\\%_]/g, '\\$&')}%`)
        .execute();
      const set = new Set(taken.map((r) => r.username.toLowerCase()));
      if (!set.has(base)) return base;
      for (let i = 2; ; i++) if (!set.has(`${base}${i}`)) return `${base}${i}`;
    },

    insert(row: { id: string; email: string; username: string; name: string; is_instance_admin: boolean; created_at: Date; updated_at: Date }): Promise<User> {
      return db.insertInto('users').values(row).returningAll().executeTakeFirstOrThrow();
    },
  };
}
