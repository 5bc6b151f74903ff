import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

export type Reply = { status: number; type: string; text: string; json: unknown; headers: Headers };

type Operation = {
  responses?: Record<string, { content?: Record<string, { schema?: object }> }>;
};
type OpenApi = { paths: Record<string, Record<string, Operation>> };

/**
 * A client of the endpoint that checks every answer against the server's own OpenAPI document
 * with an independent validator (ajv): the status must be documented for the route, and a JSON
 * body must match the schema documented for that status.
 */
export class EndpointClient {
  private readonly ajv = new Ajv2020({ allErrors: true, strict: false });
  private doc: OpenApi | undefined;
  private readonly compiled = new Map<object, ReturnType<Ajv2020['compile']>>();
  /** Routes and statuses seen, for the test that every route was exercised. */
  readonly seen = new Set<string>();

  constructor(
    readonly url: string,
    private readonly adminToken: string,
  ) {
    addFormats.default(this.ajv);
  }

  async openApi(): Promise<OpenApi> {
    if (!this.doc) {
      const r = await fetch(`${this.url}/openapi.json`, {
        headers: { authorization: `Bearer ${this.adminToken}` },
      });
      this.doc = (await r.json()) as OpenApi;
    }
    return this.doc;
  }

  private async template(path: string): Promise<string> {
    const bare = path.split('?')[0] as string;
    const doc = await this.openApi();
    const found = Object.keys(doc.paths).find((t) =>
      new RegExp(`^${t.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(bare),
    );
    if (!found) throw new Error(`${bare} is not in the OpenAPI document`);
    return found;
  }

  async request(
    method: string,
    path: string,
    options: {
      token?: string | null;
      body?: string | Buffer;
      type?: string;
      headers?: Record<string, string>;
    } = {},
  ): Promise<Reply> {
    const token = options.token === undefined ? this.adminToken : options.token;
    const headers: Record<string, string> = { ...options.headers };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['content-type'] = options.type ?? 'application/json';
    const r = await fetch(`${this.url}${path}`, { method, headers, body: options.body ?? null });
    const text = await r.text();
    const type = r.headers.get('content-type') ?? '';
    const json =
      type.includes('json') && text.length > 0 ? (JSON.parse(text) as unknown) : undefined;
    await this.check(method, path, r.status, type, json);
    return { status: r.status, type, text, json, headers: r.headers };
  }

  private async check(method: string, path: string, status: number, type: string, json: unknown) {
    const template = await this.template(path);
    const operation = (await this.openApi()).paths[template]?.[method.toLowerCase()];
    if (!operation) throw new Error(`${method} ${template} is not in the OpenAPI document`);
    const responses = operation.responses ?? {};
    const documented = responses[String(status)] ?? responses[`${String(status)[0]}XX`];
    if (!documented)
      throw new Error(`${method} ${template} answered ${status}, which is not documented`);
    this.seen.add(`${method} ${template}`);
    if (json === undefined) return;
    if (!/json/.test(type)) throw new Error(`${method} ${template}: ${type} is not JSON`);
    const schema = Object.values(documented.content ?? {})[0]?.schema;
    if (!schema) throw new Error(`${method} ${template} ${status}: no schema documented`);
    let validate = this.compiled.get(schema);
    if (!validate) {
      validate = this.ajv.compile(schema);
      this.compiled.set(schema, validate);
    }
    if (!validate(json))
      throw new Error(
        `${method} ${path} ${status}: ${this.ajv.errorsText(validate.errors)}\n${JSON.stringify(json).slice(0, 1000)}`,
      );
  }
}
