import { documentList, jsonSchema } from '../../contract/jsonSchema.js';
import type { Handler } from '../context.js';

/** A document's JSON Schema, always as JSON; without a name, the documents there are. */
export const handler: Handler = async ({ out, invocation }) => {
  const name = invocation.args[0];
  if (name !== undefined) {
    out.document(jsonSchema(name));
    return;
  }
  const list = documentList();
  out.result(list, () =>
    out.table(
      ['document', 'what it is'],
      list.map((d) => [d.name, d.description]),
    ),
  );
};
