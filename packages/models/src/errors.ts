/**
 * The one error type this package throws on purpose. Every failure of a fit or
 * of a numerical routine is deterministic (same input, same failure), so
 * `retriable` is always false: trying again cannot help, the caller has to
 * change the input or the model.
 */
export const MODEL_ERROR_CODES = {
  INVALID_INPUT: 'an input row or argument is malformed (negative count, t_x > T, ...)',
  NO_DATA: 'there is nothing to fit (no customers, or none that the model uses)',
  NOT_IDENTIFIABLE: 'the data cannot determine the parameters (e.g. no repeat purchases at all)',
  INVALID_PARAMETERS: 'model parameters are outside the range where the requested quantity exists',
  LIKELIHOOD_NOT_FINITE: 'the log-likelihood is not a finite number at the starting point or the optimum',
  FIT_NOT_CONVERGED: 'the optimiser did not converge, or converged onto the boundary of the parameter space',
  NUMERIC_FAILURE: 'a special function (e.g. the hypergeometric series) could not be evaluated to full precision',
} as const;

export type ModelErrorCode = keyof typeof MODEL_ERROR_CODES;

export class ModelError extends Error {
  readonly code: ModelErrorCode;
  readonly retriable = false as const;

  constructor(code: ModelErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ModelError';
    this.code = code;
  }
}
