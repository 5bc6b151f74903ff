import { z } from 'zod';
import { usageError } from '../errors.js';
import { DOCUMENT_NAMES, documents, type DocumentName } from './documents.js';

/** Where a published schema says it is from: the contract's major version and the document. */
export const schemaId = (name: string) => `urn:cos-db:schema:1:${name}`;

/**
 * A document's JSON Schema (draft 2020-12), generated from its zod schema: what it accepts as
 * input (`event`) or is given as output (the rest).
 */
export function jsonSchema(name: string): Record<string, unknown> {
  if (!(DOCUMENT_NAMES as string[]).includes(name))
    throw usageError(`no document "${name}"; see \`cos-db json-schema\` for the list`);
  const schema = documents[name as DocumentName];
  const generated = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io: name === 'event' ? 'input' : 'output',
    unrepresentable: 'any',
  });
  return { $id: schemaId(name), title: name, ...generated };
}

/** Every document's name and what it is. */
export function documentList(): Array<{ name: string; description: string }> {
  return DOCUMENT_NAMES.map((name) => ({ name, description: documents[name].description ?? '' }));
}
