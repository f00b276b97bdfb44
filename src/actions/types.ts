/** The outcome of executing one planned action, its typed causes, and the executor's options. */
import { ReflexError, type Clock, type KubeObject, type Logger } from '../core/index.js';
import type { KubeClient } from '../client/index.js';
import type { ActionKind, PlannedAction, PlannedRef } from '../engine/index.js';
import type { WebhookPolicy } from './webhook-guard.js';

/**
 * What happened:
 * - `done`: the action ran (in audit mode: it was only logged; `audit` is true);
 * - `skipped-noop`: it would have changed nothing, so nothing was sent (or the object already existed for `create ifExists: skip`);
 * - `skipped-missing`: its target is gone (or was replaced by a namesake) and the action tolerates that;
 * - `failed`: see `cause`.
 */
export type ActionStatus = 'done' | 'skipped-noop' | 'skipped-missing' | 'failed';

export interface ActionResult {
  status: ActionStatus;
  action: ActionKind;
  target: PlannedRef;
  /** Audit mode: nothing was written. */
  audit?: boolean;
  /** Sent with dryRun=All. */
  dryRun?: boolean;
  /** For writes: whether the server's resourceVersion changed (an identical apply leaves it). */
  changed?: boolean;
  /** What the server returned, when it returned an object. */
  object?: KubeObject;
  /** Set when `failed`. */
  cause?: ActionError;
}

/** Codes of ActionError: what kind of failure, for the daemon to decide on retries. */
export const ActionErrorCode = {
  /** The API server refused or failed the request (see `cause`, a KubeApiError or KubeNetworkError). */
  api: 'ERR_ACTION_API',
  /** `create` with `ifExists: fail` met an existing object. */
  exists: 'ERR_ACTION_EXISTS',
  /** `update` kept conflicting after its retries. */
  conflict: 'ERR_ACTION_CONFLICT',
  /** The target is missing and the action does not ignore that. */
  missing: 'ERR_ACTION_MISSING',
  /** The planned action cannot be executed as is (bad patch, no body…): retrying will not help. */
  invalid: 'ERR_ACTION_INVALID',
  /** A webhook answered outside 2xx. */
  webhookStatus: 'ERR_WEBHOOK_STATUS',
  /** A webhook could not be reached or timed out. */
  webhookNetwork: 'ERR_WEBHOOK_NETWORK',
  /** A webhook URL outside webhooks.allowedHosts, or at a link-local or metadata address. */
  webhookRefused: 'ERR_WEBHOOK_REFUSED',
  /** A tenant rule's write outside its namespace (or of a cluster-scoped or RBAC kind) was refused. */
  confined: 'ERR_ACTION_CONFINED',
} as const;

/** Why an action failed; wraps the underlying error. `terminal` means retrying cannot help. */
export class ActionError extends ReflexError {
  constructor(
    message: string,
    readonly action: ActionKind,
    readonly target: PlannedRef,
    options: { code: string; cause?: unknown; terminal?: boolean; status?: number },
  ) {
    super(message, { code: options.code, cause: options.cause });
    this.terminal = options.terminal ?? false;
    this.status = options.status;
  }
  readonly terminal: boolean;
  /** HTTP status, for webhook failures. */
  readonly status: number | undefined;
}

/** Options of one execution. */
export interface ExecuteOptions {
  client: KubeClient;
  /** `audit`: log what would be done and write nothing. Default `enforce`. */
  mode?: 'enforce' | 'audit';
  /** Server-side dry run: every write is sent with dryRun=All. Default false. */
  dryRun?: boolean;
  /** The object that triggered the rule: a delete of it carries its uid as precondition. */
  trigger?: KubeObject;
  /** The cached state of the target, for patch no-op detection; fetched when absent. */
  current?: KubeObject;
  /** Looks a target up in a cache (used when `current` is not given), e.g. the informers' store. */
  lookup?: (target: PlannedRef) => KubeObject | undefined;
  /** Renders an `update`'s object against the freshly fetched target (the engine's `renderUpdate`). Default: the planned body. */
  renderUpdate?: (planned: PlannedAction, current: KubeObject) => Promise<KubeObject>;
  /** Where `log` actions and audit lines go. Default: nowhere. */
  logger?: Logger;
  /** Timestamps of Events. Default the real clock. */
  clock?: Clock;
  /** Attempts of an update on conflicts. Default 5 (conflicts clear within a read-modify-write or two; more means a fight). */
  updateAttempts?: number;
  /** Webhook timeout when the action gives none, ms. Default 10 000. */
  webhookTimeoutMs?: number;
  /** Where webhooks may go (webhook-guard.ts). Default: anywhere but link-local and metadata addresses. */
  webhooks?: WebhookPolicy;
  /** `reportingInstance` of Events. Default `reflex`. */
  instance?: string;
  signal?: AbortSignal;
}
