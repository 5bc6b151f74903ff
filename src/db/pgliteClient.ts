import ClientPgLite from 'knex-pglite';

type PgliteConnection = {
  query(sql: string, params?: unknown[], options?: unknown): Promise<unknown>;
  exec(sql: string, options?: unknown): Promise<unknown[]>;
};
type QueryObject = { sql: string; bindings?: unknown[]; options?: unknown; response?: unknown };

const Base = ClientPgLite as unknown as new (config: unknown) => {
  _query(connection: PgliteConnection, obj: QueryObject): Promise<QueryObject>;
};

/**
 * knex-pglite sends everything through the extended protocol, which refuses several statements
 * in one string; node-postgres sends parameterless SQL through the simple protocol, which
 * allows it, and migrations rely on that. Do the same here.
 */
export class PgliteClient extends Base {
  override async _query(connection: PgliteConnection, obj: QueryObject): Promise<QueryObject> {
    if (obj.bindings && obj.bindings.length > 0) return super._query(connection, obj);
    if (!obj.sql) throw new Error('The query is empty');
    const results = (await connection.exec(obj.sql, obj.options)) as Array<{ rows: unknown[] }>;
    obj.response = results[results.length - 1] ?? { rows: [], fields: [], affectedRows: 0 };
    return obj;
  }
}
