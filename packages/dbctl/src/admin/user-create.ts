import type {AccessProfile} from '../spec/schema.js';
import {type DeliveredPassword, type PasswordSinks, requireSink} from './credentials.js';
import type {ServerTarget} from './target.js';
import type {DatabaseAdmin} from './types.js';

export interface UserCreateInput {
  user: string;
  profile: AccessProfile;
  databases: string[];
  schemas?: string[] | undefined;
  sinks: PasswordSinks;
}

export interface UserCreateResult extends DeliveredPassword {
  user: string;
  profile: AccessProfile;
  databases: string[];
  /** PostgreSQL: the schemas the profile was applied to, per database. */
  schemas: Record<string, string[]>;
  /** False when the user existed: its access was set to the profile and its password left alone. */
  created: boolean;
}

export interface UserCreateIo {
  generatePassword(): string;
  /** Delivers the password to the sinks asked for (file, Secret, result). */
  deliver(user: string, password: string, server: ServerTarget, database: string | undefined): Promise<DeliveredPassword>;
  /** Keeps a password out of every output (except the result when --show-password asked for it). */
  redact(secret: string): void;
  warn(message: string): void;
}

/**
 * `dbctl user create` as one unit: a new user exists afterwards with exactly its profile on every
 * database and its password delivered, or not at all (a failed grant or delivery drops it again).
 * An existing user only gets its access set to the profile; its password is left alone.
 */
export async function createUserWithProfile(admin: DatabaseAdmin, server: ServerTarget, input: UserCreateInput, io: UserCreateIo): Promise<UserCreateResult> {
  const {user, profile, databases, schemas, sinks} = input;
  const applied: Record<string, string[]> = {};
  const applyAll = async () => {
    for (const database of databases) applied[database] = (await admin.applyProfile(user, profile, database, schemas)).schemas;
  };
  if (await admin.userExists(user)) {
    await applyAll();
    io.warn(`user ${user} already exists: its access is now the ${profile} profile; its password is unchanged (dbctl password rotate ${user} sets a new one)`);
    return {user, profile, databases, schemas: applied, created: false};
  }
  requireSink(sinks);
  const password = io.generatePassword();
  if (!sinks.showPassword) io.redact(password);
  await admin.createUser(user, password);
  try {
    await applyAll();
    const delivered = await io.deliver(user, password, server, databases[0]);
    return {user, profile, databases, schemas: applied, created: true, ...delivered};
  } catch (error) {
    // Nothing half-made: a user whose grants or password delivery failed is removed again.
    await admin.dropUser(user, {dropOwned: true}).catch(() => undefined);
    throw error;
  }
}
