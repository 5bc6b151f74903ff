import { defineCommand } from '../command.js';

/** A document's JSON Schema, always as JSON; without a name, the documents there are. */
export default defineCommand({
  path: 'json-schema',
  description:
    'the JSON Schema (draft 2020-12) of a document cos-db reads or writes; without a name, the list',
  args: ['[name]'],
  async run({ out, args: [name] }) {
    const { documentList, jsonSchema } = await import('../../contract/jsonSchema.js');
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
  },
});
