// Writes every document's JSON Schema to dist/schemas/NAME.schema.json, shipped in the package
// (import 'cos-db/schemas/event.schema.json'); `cos-db json-schema NAME` prints the same.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { DOCUMENT_NAMES } from '../dist/src/contract/documents.js';
import { jsonSchema } from '../dist/src/contract/jsonSchema.js';

rmSync('dist/schemas', { recursive: true, force: true });
mkdirSync('dist/schemas', { recursive: true });
for (const name of DOCUMENT_NAMES)
  writeFileSync(
    `dist/schemas/${name}.schema.json`,
    `${JSON.stringify(jsonSchema(name), null, 2)}\n`,
  );
