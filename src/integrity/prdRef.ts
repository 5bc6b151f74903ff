/** A PRD version as a lineage node or an event input: prd:ID@VERSION. */
export const PRD_REF = /^prd:([a-z0-9][a-z0-9._-]{0,199})@([1-9][0-9]{0,8})$/;
