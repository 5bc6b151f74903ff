import type { TestProject } from 'vitest/node';
import { adminServer } from './postgresServer.js';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await adminServer(process.env);
  process.stderr.write(`tests use PostgreSQL: ${server.describe}\n`);
  project.provide('pgAdminUrl', server.url);
  return () => server.stop();
}
