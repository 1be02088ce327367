/** The command line was wrong: `crm` says why, prints its usage and exits 2. */
export class UsageError extends Error {}
