/** The three environments of the L4 store and their conventional server targets. */
export const ENV_NAMES = ['prod', 'dev', 'test'] as const;
export type EnvName = (typeof ENV_NAMES)[number];

export const ENV_DEFAULTS: Record<EnvName, { port: number; database: string }> = {
  prod: { port: 5432, database: 'cos_db_prod' },
  dev: { port: 5433, database: 'cos_db_dev' },
  test: { port: 5434, database: 'cos_db_test' },
};

export function isEnvName(value: string): value is EnvName {
  return (ENV_NAMES as readonly string[]).includes(value);
}
