import type { Knex } from 'knex';
import { createHash, randomBytes } from 'node:crypto';
import { CosError, ExitCode, notFoundError, usageError } from '../errors.js';
import { appendToChain, lockChain, withLedgerTransaction } from '../integrity/ledger.js';
import { uuidv7 } from '../uuidv7.js';

export const TOKENS_TABLE = { schema: 'cc', table: 'api_tokens' } as const;
const TOKENS_CHAIN = 'tokens';
/** What a token looks like, so a leaked one is recognised (by people and secret scanners). */
export const TOKEN_PREFIX = 'cosdb_';
const TOKEN_SHAPE = /^cosdb_[A-Za-z0-9_-]{43}$/;

export type TokenScope = 'read' | 'append';
export const SCOPES: readonly TokenScope[] = ['read', 'append'];

/** The agent a request speaks for, as its token says. */
export type Identity = { token_id: string; agent: string; scope: TokenScope };

export type TokenRow = {
  token_id: string;
  agent: string;
  scope: TokenScope;
  state: 'active' | 'expired' | 'revoked';
  created_by: string;
  created_at: string;
  expires_at: string | null;
  revoked_by: string | null;
  revoked_at: string | null;
};

/** Refuses a read token the work of an append one (exit 9; 403 on the endpoint). */
export function requireAppend(identity: Identity): void {
  if (identity.scope !== 'append')
    throw new CosError(
      ExitCode.permission,
      `token of agent "${identity.agent}" may read but not append`,
    );
}

const digestOf = (token: string) => createHash('sha256').update(token).digest();

/** `--expires`: an age from now (30d, 12h, 2w) or an ISO time in the future; as an ISO string. */
export function expiryOf(value: string | undefined, now = Date.now()): string | null {
  if (value === undefined) return null;
  const age = /^(\d+)([mhdw])$/.exec(value);
  const seconds = age && { m: 60, h: 3600, d: 86400, w: 604800 }[age[2] as 'm' | 'h' | 'd' | 'w'];
  const at = age && seconds ? now + Number(age[1]) * seconds * 1000 : new Date(value).getTime();
  if (!Number.isFinite(at) || at <= now || at > Date.UTC(9999, 0))
    throw usageError(`--expires: "${value}" is not a time in the future`, {
      hint: 'an age such as 30d, 12h or 2w, or an ISO time (2027-06-30T00:00Z)',
    });
  return new Date(at).toISOString();
}

/**
 * Makes a token for an agent: random, shown once (the return value), only its SHA-256 stored,
 * on the tokens chain with who made it.
 */
export async function createToken(
  knex: Knex,
  input: { agent: string; scope: string; expiresAt: string | null; by: string },
): Promise<Omit<TokenRow, 'state' | 'revoked_by' | 'revoked_at'> & { token: string }> {
  const agent = input.agent.trim();
  if (agent.length === 0 || agent.length > 200)
    throw usageError('--agent must be 1 to 200 characters: the actor its records will carry');
  if (!(SCOPES as readonly string[]).includes(input.scope))
    throw usageError(`unknown --scope "${input.scope}"; valid: ${SCOPES.join(', ')}`);
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const row = {
    token_id: uuidv7(),
    action: 'create',
    agent,
    scope: input.scope,
    token_sha256: `\\x${digestOf(token).toString('hex')}`,
    expires_at: input.expiresAt,
    done_by: input.by,
    done_at: new Date().toISOString(),
  };
  await withLedgerTransaction(knex, async (trx) => {
    await lockChain(trx, TOKENS_TABLE, TOKENS_CHAIN);
    await appendToChain(trx, TOKENS_TABLE, TOKENS_CHAIN, [row]);
  });
  return {
    token,
    token_id: row.token_id,
    agent,
    scope: input.scope as TokenScope,
    created_by: row.done_by,
    created_at: row.done_at,
    expires_at: row.expires_at,
  };
}

const LIST_SQL = `
  select c.token_id, c.agent, c.scope, c.done_by as created_by,
         to_char(c.done_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as created_at,
         to_char(c.expires_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as expires_at,
         r.done_by as revoked_by,
         to_char(r.done_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') as revoked_at,
         case when r.token_id is not null then 'revoked'
              when c.expires_at <= now() then 'expired' else 'active' end as state
    from cc.api_tokens c
    left join cc.api_tokens r on r.token_id = c.token_id and r.action = 'revoke'
   where c.action = 'create'`;

/** Every token ever made, oldest first, with its state; never the token itself. */
export async function listTokens(knex: Knex, agent?: string): Promise<TokenRow[]> {
  return (
    await knex.raw<{ rows: TokenRow[] }>(
      `${LIST_SQL} ${agent === undefined ? '' : 'and c.agent = ?'} order by c.done_at, c.token_id`,
      agent === undefined ? [] : [agent],
    )
  ).rows;
}

/** Ends a token for good (a revocation is a row on the tokens chain). Revoking twice is a no-op. */
export async function revokeToken(
  knex: Knex,
  tokenId: string,
  by: string,
): Promise<TokenRow & { already_revoked: boolean }> {
  return withLedgerTransaction(knex, async (trx) => {
    await lockChain(trx, TOKENS_TABLE, TOKENS_CHAIN);
    const [found] = (
      await trx.raw<{ rows: TokenRow[] }>(`${LIST_SQL} and c.token_id = ?`, [tokenId])
    ).rows;
    if (!found)
      throw notFoundError(`no token with id "${tokenId}"`, {
        hint: 'list them with `cos-db token list`',
      });
    if (found.state === 'revoked') return { ...found, already_revoked: true };
    const at = new Date().toISOString();
    await appendToChain(trx, TOKENS_TABLE, TOKENS_CHAIN, [
      {
        token_id: tokenId,
        action: 'revoke',
        agent: found.agent,
        scope: null,
        token_sha256: null,
        expires_at: null,
        done_by: by,
        done_at: at,
      },
    ]);
    return { ...found, state: 'revoked', revoked_by: by, revoked_at: at, already_revoked: false };
  });
}

/**
 * The identities presented tokens give, by token; a token with none is absent: unknown,
 * malformed, expired and revoked tokens are all just "no identity", so a caller cannot tell them
 * apart. Looked up on every request (one index probe each, many tokens in one statement), so a
 * revocation takes effect at once on every server.
 */
export async function authenticateAll(
  knex: Knex,
  tokens: string[],
): Promise<Map<string, Identity>> {
  const wellFormed = [...new Set(tokens.filter((t) => TOKEN_SHAPE.test(t)))];
  const found = new Map<string, Identity>();
  if (wellFormed.length === 0) return found;
  const byDigest = new Map(wellFormed.map((t) => [digestOf(t).toString('hex'), t]));
  const rows = (
    await knex.raw<{ rows: Array<Identity & { digest: string }> }>(
      `select c.token_id, c.agent, c.scope, encode(c.token_sha256, 'hex') as digest
         from cc.api_tokens c
        where c.token_sha256 in (select decode(d, 'hex') from unnest(?::text[]) as u (d))
          and c.action = 'create'
          and (c.expires_at is null or c.expires_at > now())
          and not exists (select 1 from cc.api_tokens r
                           where r.token_id = c.token_id and r.action = 'revoke')`,
      [[...byDigest.keys()]],
    )
  ).rows;
  for (const { digest, ...identity } of rows) found.set(byDigest.get(digest) as string, identity);
  return found;
}

/** The identity one presented token gives, or null (see authenticateAll). */
export async function authenticate(knex: Knex, token: string): Promise<Identity | null> {
  return (await authenticateAll(knex, [token])).get(token) ?? null;
}
