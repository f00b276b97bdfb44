/**
 * The shape of the protobuf schema table (schema.generated.ts): for every built-in kind the
 * API server can send in protobuf, the messages it is made of, each field with its protobuf
 * number, its JSON name and how the API server writes it in JSON. The decoder turns protobuf
 * into the same objects JSON.parse makes of the API server's JSON answer.
 */

/**
 * `s` string, `b` bytes (base64 in JSON), `B` bool, integers and floats by width, `m` a message,
 * `map` a map; the rest are types with their own JSON form: `time` (metav1.Time, RFC 3339 in
 * seconds), `mtime` (MicroTime), `dur` (metav1.Duration, Go's duration text), `qty`
 * (resource.Quantity), `ios` (IntOrString), `raw` (RawExtension and other embedded JSON), `fv1` (FieldsV1).
 */
export type FieldType = 's' | 'b' | 'B' | 'i32' | 'i64' | 'u32' | 'u64' | 'f32' | 'f64' | 'm' | 'map' | 'time' | 'mtime' | 'dur' | 'qty' | 'ios' | 'raw' | 'fv1';

/** A map's key type, value type and, for message values, the value's message. */
export type MapRef = [FieldType, FieldType, string?];

/** `[protobuf field number, JSON name, type, flags (F_*), message name for 'm' | MapRef for 'map']` */
export type Field = [number, string, FieldType, number, (string | MapRef)?];

export interface Message {
  fields: Field[];
  /** A named list type that is a message on the wire: its JSON value is field 1's array. */
  wrap?: true;
}

export interface ProtoSchema {
  /** The Kubernetes API version the table was generated from. */
  version: string;
  /** `apiVersion/kind` (`v1/ConfigMap`, `apps/v1/DeploymentList`) → message name. */
  kinds: Record<string, string>;
  /** Each message, or the JSON text of it (parsed when first needed: most lists need a few dozen of them). */
  messages: Record<string, Message | string>;
}

export const F_REPEATED = 1;
/** A Go pointer: written when set, whatever its value. */
export const F_POINTER = 2;
export const F_OMITEMPTY = 4;
export const F_OMITZERO = 8;
/** An embedded struct whose fields JSON writes into the parent object. */
export const F_INLINE = 16;
