/**
 * redact: removes secrets from anything about to be logged — credential-like fields at any
 * depth, the data of Secret objects, bearer tokens and `key=value` credentials inside strings —
 * and turns errors into plain fields. Never mutates its input.
 */

/** What a redacted value is replaced with. */
export const REDACTED = '[REDACTED]';

/** What the rendered values of a rule that reads Secrets are replaced with. */
export const SENSITIVE = '[REDACTED: the rule reads Secrets; set spec.revealSecretValues to show]';

/**
 * Field names whose values are credentials: compared lowercased with `-` and `_` removed, by
 * suffix, so `adminToken`, `client-key-data`, `webhook_secret` match while `secretName` and
 * `tokenExpirationSeconds` (references and settings, not secrets) do not. The well-known keys of
 * Secret types are covered too: `tls.key`, `ca.key`, `.dockerconfigjson`, `.dockercfg`,
 * `ssh-privatekey`, `id_rsa`, `*.pem`, `.htpasswd`, `.netrc`, `.pgpass`.
 */
const SECRET_KEY =
  /(token|password|passwd|secret|authorization|bearer|apikey|privatekey|clientkeydata|keydata|cookie|credentials?|\.key|\.pem|\.p12|\.pfx|\.jks|dockerconfigjson|dockercfg|idrsa|iddsa|idecdsa|ided25519|htpasswd|netrc|pgpass|kubeconfig)$/;

const TEXT_KEYS = String.raw`((?:access_|id_|refresh_)?token|password|passwd|secret|client[-_]?key[-_]?data|api[-_]?key)`;

/**
 * Credentials inside free text: `Bearer x`, `Basic x`, `token=x`, `password: "x"`, `"secret":"x"`.
 * With a colon the value must be quoted: `rule pull-secret: refused` is a sentence, not a credential.
 */
const SECRET_TEXT: [RegExp, string][] = [
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{4,}/gi, `$1 ${REDACTED}`],
  [new RegExp(String.raw`\b${TEXT_KEYS}(["']?\s*=\s*["']?)[^\s"',&}]+`, 'gi'), `$1$2${REDACTED}`],
  [new RegExp(String.raw`\b${TEXT_KEYS}(["']?\s*:\s*)(["'])(?:\\.|(?!\3)[^\\])*\3`, 'gi'), `$1$2$3${REDACTED}$3`],
];

/** Whether a field of this name holds a credential. */
export function isSecretKey(key: string): boolean {
  return SECRET_KEY.test(key.toLowerCase().replace(/[-_]/g, ''));
}

/** `text` with bearer tokens and `key=value` credentials replaced. */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_TEXT) out = out.replace(pattern, replacement);
  return out;
}

/** A deep copy of `value` with every secret replaced by `[REDACTED]`; errors become `{name, code, message, cause}`. */
export function redact(value: unknown): unknown {
  return redactValue(value, new WeakSet(), 0);
}

const MAX_DEPTH = 32;

function redactValue(value: unknown, seen: WeakSet<object>, depth: number, secretItem = false): unknown {
  if (typeof value === 'string') return redactText(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === null) return value;
  if (seen.has(value)) return '[Circular]';
  if (depth > MAX_DEPTH) return '[Too deep]';
  seen.add(value);
  try {
    if (value instanceof Error) return redactError(value, seen, depth);
    if (value instanceof Date) return value.toISOString();
    if (Array.isArray(value)) return value.map((v) => redactValue(v, seen, depth + 1));
    if (value instanceof Map) return redactValue(Object.fromEntries(value), seen, depth);
    if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
    const record = value as Record<string, unknown>;
    // Items of a SecretList carry no kind of their own.
    const isSecret = record.kind === 'Secret' || (secretItem && record.kind === undefined);
    const isSecretList = record.kind === 'SecretList';
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(record)) {
      // A credential-named field holding an object (a Pod's `secret: {secretName}` volume) is a reference: walk into it.
      const credential = isSecretKey(k) && (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Error);
      if (credential || (isSecret && (k === 'data' || k === 'stringData'))) {
        out[k] = v === undefined || v === null ? v : REDACTED;
      } else if (isSecret && k === 'metadata') {
        out[k] = redactValue(withoutLastApplied(v), seen, depth + 1);
      } else if (isSecretList && k === 'items' && Array.isArray(v)) {
        out[k] = v.map((item) => redactValue(item, seen, depth + 1, true));
      } else {
        out[k] = redactValue(v, seen, depth + 1);
      }
    }
    return out;
  } finally {
    seen.delete(value);
  }
}

const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** A Secret's last-applied annotation repeats its data. */
function withoutLastApplied(metadata: unknown): unknown {
  const m = metadata as { annotations?: Record<string, unknown> } | null;
  if (!m || typeof m !== 'object' || !m.annotations || !(LAST_APPLIED in m.annotations)) return metadata;
  return { ...m, annotations: { ...m.annotations, [LAST_APPLIED]: REDACTED } };
}

function redactError(err: Error, seen: WeakSet<object>, depth: number): Record<string, unknown> {
  const out: Record<string, unknown> = { name: err.name, message: redactText(err.message) };
  const extra = err as Error & Record<string, unknown>;
  if (typeof extra.code === 'string') out.code = extra.code;
  if (typeof extra.status === 'number') out.status = extra.status;
  if (err.cause !== undefined) out.cause = redactValue(err.cause, seen, depth + 1);
  // A stack is kept for programming errors only; typed errors already say what failed.
  if (typeof extra.code !== 'string' && err.stack) out.stack = redactText(err.stack);
  return out;
}

/**
 * A planned action fit for logs and traces: when it writes to a Secret its body carries Secret
 * data without a `kind` of its own (a merge patch `{data: …}`, a JSON patch's values), so the body
 * is masked by position: `data`/`stringData` at any depth, and every JSON-patch `value`.
 */
export function redactPlanned<T extends { target: { kind: string }; body: unknown; sensitive?: boolean }>(planned: T): T {
  // A rule that reads Secrets may put their values anywhere in what it renders.
  if (planned.sensitive) return redact({ ...planned, body: planned.body === null || planned.body === undefined ? planned.body : SENSITIVE }) as T;
  if (planned.target.kind !== 'Secret') return redact(planned) as T;
  return redact({ ...planned, body: maskSecretBody(planned.body) }) as T;
}

function maskSecretBody(body: unknown): unknown {
  if (Array.isArray(body)) {
    return body.map((op) => (op !== null && typeof op === 'object' && 'value' in op ? { ...(op as object), value: REDACTED } : maskSecretBody(op)));
  }
  if (body === null || typeof body !== 'object') return body;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    out[k] = (k === 'data' || k === 'stringData') && v !== null && v !== undefined ? REDACTED : maskSecretBody(v);
  }
  return out;
}
