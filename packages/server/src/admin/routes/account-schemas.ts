import { Type, type Static } from '@sinclair/typebox';

import type { ServerContext } from '../../core/context.js';
import { AVATAR_TYPES, MAX_AVATAR_BYTES, type AccountInput } from '../../provisioning/account-input.js';
import { ApiProblem, invalidField, notFound } from '../problem.js';
import { Timestamp, timestamp } from '../schemas.js';

const NullableText = (description: string) => Type.Union([Type.String({ maxLength: 1024 }), Type.Null()], { description });

/** An account as the API returns it. */
export const AccountSchema = Type.Object({
  username: Type.String(),
  jid: Type.String({ description: 'The bare JID' }),
  external_id: Type.Union([Type.String(), Type.Null()], { description: "The account's id in the organisation's own system" }),
  display_name: Type.Union([Type.String(), Type.Null()]),
  email: Type.Union([Type.String(), Type.Null()]),
  phone: Type.Union([Type.String(), Type.Null()]),
  title: Type.Union([Type.String(), Type.Null()]),
  department: Type.Union([Type.String(), Type.Null()], { description: 'Id of the department' }),
  groups: Type.Array(Type.String(), { description: 'Ids of the groups (kind group) the account is in' }),
  avatar_sha1: Type.Union([Type.String(), Type.Null()], { description: 'Hex SHA-1 of the avatar image; GET /accounts/{username}/avatar returns it' }),
  disabled: Type.Boolean(),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export type AccountView = Static<typeof AccountSchema>;

const AvatarBody = Type.Object(
  {
    type: Type.Union(AVATAR_TYPES.map((type) => Type.Literal(type))),
    data: Type.String({ description: `Base64 of the image, at most ${MAX_AVATAR_BYTES} bytes decoded`, maxLength: Math.ceil(MAX_AVATAR_BYTES / 3) * 4 + 4 }),
  },
  { additionalProperties: false },
);

/** Writable account fields; absent fields stay as they are and null clears a field. */
const writableFields = {
  external_id: Type.Optional(NullableText("The account's id in the organisation's own system, unique per domain")),
  display_name: Type.Optional(NullableText('Full name')),
  email: Type.Optional(NullableText('Email address')),
  phone: Type.Optional(NullableText('Phone number: digits, spaces, ( ) . / - and an optional leading +')),
  title: Type.Optional(NullableText('Job title')),
  department: Type.Optional(NullableText('Department id; an unknown id creates the department')),
  department_name: Type.Optional(Type.String({ maxLength: 1024, description: 'Name for a department that the request creates or renames' })),
  groups: Type.Optional(Type.Array(Type.String({ maxLength: 1024 }), { description: 'Ids of existing groups; replaces the memberships in groups', maxItems: 1000 })),
  avatar: Type.Optional(Type.Union([AvatarBody, Type.Null()])),
  password: Type.Optional(Type.String({ maxLength: 4096, description: 'New password, stored as SCRAM keys' })),
  password_hash: Type.Optional(Type.String({ maxLength: 4096, description: 'Password hash from another system: bcrypt, argon2id, PBKDF2-SHA256 or salted SHA-256' })),
  disabled: Type.Optional(Type.Boolean()),
};

/** Body of POST /accounts and PUT /accounts:upsert. */
export const AccountCreateBody = Type.Object(
  { username: Type.Optional(Type.String({ maxLength: 3072, description: 'Required unless external_id is a valid username; cannot change later' })), ...writableFields },
  { additionalProperties: false },
);
export type AccountCreateBody = Static<typeof AccountCreateBody>;

/** Body of PATCH /accounts/{username}. */
export const AccountPatchBody = Type.Object(writableFields, { additionalProperties: false });
export type AccountPatchBody = Static<typeof AccountPatchBody>;

/** Path parameter of the routes of one account. */
export const UsernameParams = Type.Object({ username: Type.String({ minLength: 1, maxLength: 3072, description: 'The username (localpart)' }) });

/** Input keys of the account service by the API's field names. */
const INPUT_KEYS: Record<string, keyof AccountInput> = {
  username: 'username',
  external_id: 'externalId',
  display_name: 'displayName',
  email: 'email',
  phone: 'phone',
  title: 'title',
  department: 'department',
  department_name: 'departmentName',
  groups: 'groups',
  password: 'password',
  password_hash: 'passwordHash',
  disabled: 'disabled',
};

/** Converts a request body to account service input; the avatar's base64 is decoded here. */
export function toAccountInput(body: AccountCreateBody | AccountPatchBody): AccountInput {
  const input: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(body)) {
    const key = INPUT_KEYS[name];
    if (key !== undefined && value !== undefined) input[key] = value;
  }
  if (body.avatar !== undefined) input.avatar = body.avatar === null ? null : { type: body.avatar.type, data: decodeBase64('/avatar/data', body.avatar.data) };
  return input as AccountInput;
}

/** Rewrites a problem whose `field` is an account service input key to the body's JSON Pointer. */
export function asBodyProblem(err: unknown): unknown {
  if (!(err instanceof ApiProblem) || typeof err.extra.field !== 'string' || err.extra.field.startsWith('/')) return err;
  const pointer = '/' + err.extra.field.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
  return new ApiProblem(err.status, err.title, err.detail, { ...err.extra, field: pointer });
}

/** Loads an account with its profile and groups, or throws a 404 problem. */
export async function loadAccountView(server: ServerContext, username: string): Promise<AccountView> {
  const host = server.config.domain;
  const account = await server.storage.accounts.get(host, username);
  if (account === null) throw notFound(`The account ${username}`);

  const profile = await server.storage.profiles.get(host, username);
  const groups = await server.storage.orgGroups.groupsOf(host, username);
  return {
    username,
    jid: `${username}@${host}`,
    external_id: profile?.externalId ?? null,
    display_name: profile?.displayName ?? null,
    email: profile?.email ?? null,
    phone: profile?.phone ?? null,
    title: profile?.title ?? null,
    department: profile?.department ?? null,
    groups: groups.filter((group) => group.kind === 'group').map((group) => group.id),
    avatar_sha1: profile?.avatarSha1 ?? null,
    disabled: account.disabled,
    created_at: timestamp(account.createdAt),
    updated_at: timestamp(profile?.updatedAt ?? account.createdAt),
  };
}

function decodeBase64(field: string, text: string): Buffer {
  const compact = text.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact) || compact.length % 4 !== 0) throw invalidField(field, 'Must be base64 (RFC 4648 section 4).');
  return Buffer.from(compact, 'base64');
}
