/** Base error of every Reflex module: a stable `name` and `code`, and the `cause` it wraps. */
export class ReflexError extends Error {
  /** A stable, machine-readable identifier (e.g. `ERR_KUBECONFIG`). */
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = options.code ?? 'ERR_REFLEX';
  }
}

/** Message of an unknown thrown value, for logs and reports. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
