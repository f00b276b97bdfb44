/**
 * Outcome: what processing one (rule, object) key came to, and the classification of failures
 * into transient, forbidden and terminal with the client's predicates (never message text).
 * The controller maps an outcome to the queue in one place (OutcomeMapper.apply).
 */
import { errorMessage } from '../core/index.js';
import {
  isBadRequest,
  isConflict,
  isForbidden,
  isInvalid,
  isKubeApiError,
  isNetworkError,
  isServerError,
  isTooManyRequests,
  isUnknownKind,
  isUnsupportedMediaType,
  oneLine,
} from '../client/index.js';
import { RenderedValueError, RuleEvaluationError } from '../engine/index.js';
import { isAccessDenied } from './access-review.js';
import { isCacheNotSynced } from './cache-lister.js';

/** Why a key's processing failed, for logs, Events, metrics and a rule's status. */
export interface Failure {
  /** A stable word: the API's reason (`Invalid`, `Forbidden`, `ServiceUnavailable`…) or one of ours (`NetworkError`, `CacheNotSynced`, `KindNotServed`, `EvaluationFailed`, `InvalidAction`, `InvalidValue`, `Confined`, `Unexpected`). */
  reason: string;
  /** One line saying what failed: verb, resource, server and the server's message (never a whole body). */
  message: string;
  /** The action that failed (`patch`, `create`…), or undefined for an evaluation. */
  action?: string;
  cause: unknown;
}

/**
 * What one evaluation of a key came to (as controller-runtime's reconcile result):
 * - `done`: nothing left to do (no match, actions done, or the key no longer applies);
 * - `recheck`: done, and evaluate the key again at `at` (clock ms) with event `recheck`;
 * - `transient`: retry with the key's backoff, at least `retryAfterMs` when the server asked;
 * - `forbidden`: 403; retry at the slowest backoff (RBAC may be fixed), reported once;
 * - `terminal`: retrying the same evaluation cannot help; tried again when the object or rule changes;
 * - `skipped`: a limit held the key back (loop guard, a sweep's blast radius); not retried.
 */
export type ReconcileOutcome =
  | { kind: 'done' }
  | { kind: 'recheck'; at: number }
  | { kind: 'transient'; failure: Failure; retryAfterMs?: number }
  | { kind: 'forbidden'; failure: Failure }
  | { kind: 'terminal'; failure: Failure }
  | { kind: 'skipped'; limit: 'loop-guard' | 'max-actions-per-run' };

/** The failure outcomes. */
export type FailureOutcome = Extract<ReconcileOutcome, { failure: Failure }>;

const MAX_CAUSES = 8;

/** The errors `err` wraps (itself first), following `cause`. */
function chain(err: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = err; e !== undefined && out.length < MAX_CAUSES; e = e instanceof Error ? e.cause : undefined) out.push(e);
  return out;
}

/** A tenant rule's confinement refused a read (the engine's lister) or a write (the actions' check). */
const isConfined = (e: unknown): boolean => {
  const code = (e as { code?: unknown } | undefined)?.code;
  return code === 'ERR_TENANT_CONFINED' || code === 'ERR_ACTION_CONFINED';
};

/** Whether an error says of itself that retrying cannot help (`terminal: true`, as ActionError). */
const selfTerminal = (e: unknown): boolean => typeof e === 'object' && e !== null && (e as { terminal?: unknown }).terminal === true;

/** HTTP status of a webhook failure (ActionError `status`), if any. */
const webhookStatus = (e: unknown): number | undefined => {
  const s = typeof e === 'object' && e !== null ? (e as { status?: unknown; code?: unknown }) : undefined;
  return s?.code === 'ERR_WEBHOOK_STATUS' && typeof s.status === 'number' ? s.status : undefined;
};

/**
 * Classifies a failure of evaluation or of `action`:
 * - transient: network errors, 5xx, 429 (with its Retry-After), 409 Conflict, a cache not synced,
 *   discovery that did not answer, a webhook's 5xx/408/429 or no answer, anything unexpected;
 * - forbidden: 403, and a read its ServiceAccount may not make (access-review.ts);
 * - terminal: a tenant rule's read or write outside its namespace (`Confined`), 400, 415, 422 and other 4xx the request itself caused, a kind the server does not
 *   serve (after one discovery refresh), an action that cannot be sent as planned (an error marked
 *   `terminal`), a rendered value of the wrong type (`InvalidValue`, the failure of its action), a
 *   rule expression that failed.
 *
 * `scrub` takes out of the message what it may not say (the values a rule read from Secrets),
 * before it is made one line and cut.
 */
export function classify(err: unknown, action?: string, scrub: (text: string) => string = (t) => t): FailureOutcome {
  const causes = chain(err);
  const api = causes.find((e) => isKubeApiError(e));
  const failure = (reason: string, of = action): Failure => ({ reason, message: oneLine(scrub(errorMessage(err)), 600), ...(of ? { action: of } : {}), cause: err });
  // A rendered value of the wrong type is the failure of its action, found before anything was sent.
  const rendered = causes.find((e): e is RenderedValueError => e instanceof RenderedValueError);
  if (rendered) return { kind: 'terminal', failure: failure('InvalidValue', action ?? rendered.action) };
  const transient = (reason: string, retryAfterMs?: number): FailureOutcome =>
    retryAfterMs !== undefined ? { kind: 'transient', failure: failure(reason), retryAfterMs } : { kind: 'transient', failure: failure(reason) };
  const terminal = (reason: string): FailureOutcome => ({ kind: 'terminal', failure: failure(reason) });

  if (causes.some(isCacheNotSynced)) return transient('CacheNotSynced');
  // A rule running as a ServiceAccount read what that ServiceAccount may not (a SubjectAccessReview said so).
  if (causes.some(isAccessDenied)) return { kind: 'forbidden', failure: failure('Forbidden') };
  // A tenant rule's read or write outside its namespace, refused before anything was sent.
  if (causes.some(isConfined)) return terminal('Confined');
  if (causes.some(isUnknownKind)) return terminal('KindNotServed');
  if (api) {
    const retryAfterMs = api.retryAfterSeconds !== undefined ? api.retryAfterSeconds * 1000 : undefined;
    if (isForbidden(api)) return { kind: 'forbidden', failure: failure(api.reason) };
    if (isTooManyRequests(api) || isServerError(api)) return transient(api.reason, retryAfterMs);
    if (isConflict(api)) return transient(api.reason);
    if (isInvalid(api) || isBadRequest(api) || isUnsupportedMediaType(api)) return terminal(api.reason);
  }
  if (causes.some(isNetworkError)) return transient('NetworkError');
  if (causes.some((e) => (e as { code?: unknown } | undefined)?.code === 'ERR_WEBHOOK_NETWORK')) return transient('WebhookNetwork');
  const hook = causes.map(webhookStatus).find((s) => s !== undefined);
  if (hook !== undefined) return hook >= 500 || hook === 408 || hook === 429 ? transient('WebhookStatus') : terminal('WebhookStatus');
  if (causes.some(selfTerminal)) return terminal(api?.reason ?? 'InvalidAction');
  if (causes.some((e) => e instanceof RuleEvaluationError)) return terminal('EvaluationFailed');
  if (api) {
    // Other answers: 404 (a target not there yet), 401 (credentials may be renewed), 410… are worth
    // retrying; any other 4xx was caused by the request itself.
    const retryable = api.status === 401 || api.status === 404 || api.status === 408 || api.status === 410 || api.status === 425;
    return api.status >= 400 && api.status < 500 && !retryable ? terminal(api.reason) : transient(api.reason);
  }
  return transient('Unexpected');
}
