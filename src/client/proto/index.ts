/**
 * Protobuf for built-in kinds: the API server encodes a list of built-in objects in protobuf
 * faster than in JSON, so lists of the kinds in the schema table are asked for in protobuf
 * (with JSON as the fallback the server picks for everything else) and decoded into the same
 * objects as JSON. The table is loaded on the first such list.
 */
import type { KubeObject } from '../../core/index.js';
import { decodeMessage, ProtoDecodeError, ProtoTypes, readTypeMeta, Reader } from './decode.js';
import { PROTO_CONTENT_TYPE, PROTO_MAGIC } from './list.js';

export { ProtoTypes, ProtoDecodeError, goDuration } from './decode.js';
export { ProtoListDecoder, PROTO_CONTENT_TYPE, PROTO_MAGIC } from './list.js';

/** The Accept header of a list that may come in protobuf. */
export const PROTO_OR_JSON_ACCEPT = `${PROTO_CONTENT_TYPE}, application/json`;

let loading: Promise<ProtoTypes> | undefined;
let loaded: ProtoTypes | undefined;

/** The compiled schema table, loaded once. */
export function loadProtoTypes(): Promise<ProtoTypes> {
  loading ??= import('./schema.generated.js').then((m) => (loaded = new ProtoTypes(m.SCHEMA)));
  return loading;
}

/** The table if it has been loaded (an answer in protobuf implies it has). */
export function protoTypesIfLoaded(): ProtoTypes | undefined {
  return loaded;
}

/** Whether a Content-Type header names Kubernetes protobuf. */
export function isProtobuf(contentType: string | string[] | undefined): boolean {
  const ct = Array.isArray(contentType) ? contentType[0] : contentType;
  return ct !== undefined && ct.startsWith(PROTO_CONTENT_TYPE);
}

/** One whole object in protobuf (`k8s\0` and a runtime.Unknown), e.g. an error's Status. */
export function decodeProtoObject<T extends KubeObject = KubeObject>(types: ProtoTypes, bytes: Buffer): T {
  if (bytes.length < 4 || !bytes.subarray(0, 4).equals(PROTO_MAGIC)) throw new ProtoDecodeError('not a Kubernetes protobuf object');
  const r = new Reader(bytes, 4);
  let type = { apiVersion: '', kind: '' };
  let raw: [number, number] | undefined;
  while (r.pos < bytes.length) {
    const tag = r.varint();
    const wt = tag & 7;
    if (wt !== 2) {
      r.skip(wt);
      continue;
    }
    const end = r.lengthEnd();
    if (tag >>> 3 === 1) type = readTypeMeta(bytes, r.pos, end);
    else if (tag >>> 3 === 2) raw = [r.pos, end];
    r.pos = end;
  }
  const { apiVersion, kind } = type;
  const msg = types.kind(apiVersion, kind);
  if (!msg) throw new ProtoDecodeError(`a ${apiVersion} ${kind} cannot be decoded from protobuf`);
  const obj = raw ? decodeMessage(new Reader(bytes, raw[0], raw[1]), raw[1], msg, {}) : {};
  return { apiVersion, kind, ...obj } as T;
}
