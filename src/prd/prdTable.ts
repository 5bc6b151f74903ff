export const PRD_TABLE = { schema: 'cc', table: 'prd_versions' } as const;
/** All PRD versions form one chain: removing a whole PRD still breaks it. */
export const PRD_CHAIN = 'prd';
