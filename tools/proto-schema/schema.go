package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apiextensionsv1beta1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1beta1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/kubernetes/scheme"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

// Field flags (same values as in src/client/proto/schema.ts).
const (
	FRepeated  = 1
	FPointer   = 2
	FOmitEmpty = 4
	FOmitZero  = 8
	FInline    = 16
)

// Field is one protobuf field of a message: [number, JSON name, type, flags, ref].
type Field struct {
	Num    int
	JSON   string
	Type   string
	Flags  int
	Ref    string // message name, for Type "m"
	MapKey string // for Type "map"
	MapVal string
	MapRef string // message name of the map value, for MapVal "m"
	GoName string // struct field name (not emitted)
	Proto  string // protobuf field name from the tag (not emitted)
}

// Message is one Go struct type (or a named slice type that is a protobuf message: Wrap).
type Message struct {
	Name   string
	Go     reflect.Type
	Fields []Field
	Wrap   bool
	deps   []string // names of the messages its fields refer to
	bad    []string // why the type cannot be expressed in the table (directly, not through deps)
}

// Schema is the whole table.
type Schema struct {
	Kinds    map[string]string   // apiVersion/kind -> message name
	Messages map[string]*Message // only the messages reachable from Kinds
	LeftOut  map[string][]string // apiVersion/kind -> reasons it is not in Kinds
	// JSONOnly lists struct fields that the JSON form has but the protobuf form has no field for (type.field).
	JSONOnly []string
}

// special types have a fixed encoding the decoder knows; no Message is generated for them.
var special = map[reflect.Type]string{
	reflect.TypeFor[metav1.Time]():               "time",
	reflect.TypeFor[metav1.MicroTime]():          "mtime",
	reflect.TypeFor[metav1.Duration]():           "dur",
	reflect.TypeFor[resource.Quantity]():         "qty",
	reflect.TypeFor[intstr.IntOrString]():        "ios",
	reflect.TypeFor[runtime.RawExtension]():      "raw",
	reflect.TypeFor[metav1.FieldsV1]():           "fv1",
	reflect.TypeFor[apiextensionsv1.JSON]():      "raw", // message JSON { optional bytes raw = 1; }, JSON form: the raw bytes
	reflect.TypeFor[apiextensionsv1beta1.JSON](): "raw",
}

var (
	jsonMarshaler = reflect.TypeFor[json.Marshaler]()
	// generated protobuf types have Unmarshal (ProtoMessage is no longer generated in this version)
	protoUnmarshaler = reflect.TypeFor[interface{ Unmarshal([]byte) error }]()
	typeMeta         = reflect.TypeFor[metav1.TypeMeta]()
	metaPkg          = reflect.TypeFor[metav1.Status]().PkgPath()
)

// pkgPrefixes are stripped from Go package paths to form message names.
var pkgPrefixes = []string{
	"k8s.io/api/",
	"k8s.io/apimachinery/pkg/apis/",
	"k8s.io/apiextensions-apiserver/pkg/apis/",
	"k8s.io/kube-aggregator/pkg/apis/",
	"k8s.io/apimachinery/pkg/",
}

func messageName(t reflect.Type) string {
	p := t.PkgPath()
	for _, pre := range pkgPrefixes {
		if strings.HasPrefix(p, pre) {
			p = strings.TrimPrefix(p, pre)
			break
		}
	}
	return p + "." + t.Name()
}

// NewScheme holds every kind the table covers.
func NewScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		scheme.AddToScheme,
		apiextensionsv1.AddToScheme,
		apiextensionsv1beta1.AddToScheme,
		apiregistrationv1.AddToScheme,
	} {
		if err := add(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

type builder struct {
	msgs   map[string]*Message
	byType map[reflect.Type]string
	errs   []string
	json   []string
}

// Build walks every kind of NewScheme and returns the table.
func Build() (*Schema, error) {
	sch, err := NewScheme()
	if err != nil {
		return nil, err
	}
	b := &builder{msgs: map[string]*Message{}, byType: map[reflect.Type]string{}}
	roots := map[string]string{}
	for gvk, t := range sch.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal || t.Kind() != reflect.Struct {
			continue
		}
		if t.PkgPath() == metaPkg { // the unversioned meta types every group version registers
			continue
		}
		roots[gvk.GroupVersion().String()+"/"+gvk.Kind] = b.message(t)
	}
	roots["v1/Status"] = b.message(reflect.TypeFor[metav1.Status]())
	if len(b.errs) > 0 {
		sort.Strings(b.errs)
		return nil, fmt.Errorf("%d problems:\n  %s", len(b.errs), strings.Join(b.errs, "\n  "))
	}

	out := &Schema{Kinds: map[string]string{}, Messages: map[string]*Message{}, LeftOut: map[string][]string{}}
	for kind, root := range roots {
		if why := b.unsupported(root); len(why) > 0 {
			out.LeftOut[kind] = why
			continue
		}
		out.Kinds[kind] = root
		b.collect(root, out.Messages)
	}
	if err := check(out); err != nil {
		return nil, err
	}
	for _, f := range b.json {
		if _, ok := out.Messages[f[:strings.LastIndex(f, ".")]]; ok {
			out.JSONOnly = append(out.JSONOnly, f)
		}
	}
	sort.Strings(out.JSONOnly)
	return out, nil
}

// unsupported lists the reasons (types with a JSON form the table cannot express) reachable from a message.
func (b *builder) unsupported(root string) []string {
	var why []string
	seen := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if seen[n] {
			return
		}
		seen[n] = true
		m := b.msgs[n]
		why = append(why, m.bad...)
		for _, d := range m.deps {
			walk(d)
		}
	}
	walk(root)
	sort.Strings(why)
	return dedup(why)
}

func (b *builder) collect(n string, into map[string]*Message) {
	if _, ok := into[n]; ok {
		return
	}
	m := b.msgs[n]
	into[n] = m
	for _, d := range m.deps {
		b.collect(d, into)
	}
}

func dedup(s []string) []string {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func hasCustomJSON(t reflect.Type) bool {
	return t.Implements(jsonMarshaler) || reflect.PointerTo(t).Implements(jsonMarshaler)
}

func isWrap(t reflect.Type) bool {
	return t.Kind() == reflect.Slice && t.Name() != "" &&
		(t.Implements(protoUnmarshaler) || reflect.PointerTo(t).Implements(protoUnmarshaler))
}

// message returns the name of the Message for struct (or wrapper slice) type t, building it on first use.
func (b *builder) message(t reflect.Type) string {
	if n, ok := b.byType[t]; ok {
		return n
	}
	n := messageName(t)
	if other, ok := b.msgs[n]; ok {
		b.errs = append(b.errs, fmt.Sprintf("message name %s used by %s and %s", n, other.Go, t))
		return n
	}
	m := &Message{Name: n, Go: t}
	b.byType[t] = n
	b.msgs[n] = m
	if hasCustomJSON(t) {
		m.bad = append(m.bad, n+" (custom MarshalJSON)")
	}
	if t.Kind() == reflect.Slice { // wrapper: message X { repeated T items = 1; }
		m.Wrap = true
		f := Field{Num: 1, JSON: "items", Flags: FRepeated, GoName: "items", Proto: "items"}
		f.Type, f.Ref = b.elem(m, t.Elem(), n+".items")
		m.Fields = []Field{f}
		return n
	}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		jsonTag := sf.Tag.Get("json")
		jparts := strings.Split(jsonTag, ",")
		pb, hasPB := sf.Tag.Lookup("protobuf")
		if jparts[0] == "-" && len(jparts) == 1 {
			if hasPB {
				b.errs = append(b.errs, fmt.Sprintf("%s.%s: protobuf field with json:\"-\"", n, sf.Name))
			}
			continue
		}
		if !hasPB {
			if sf.Type != typeMeta && sf.IsExported() {
				b.json = append(b.json, n+"."+sf.Name)
			}
			continue
		}
		f := Field{GoName: sf.Name}
		pp := strings.Split(pb, ",")
		// The label (opt/rep) in the tag is not reliable (some repeated fields say opt); the Go type decides.
		if len(pp) < 2 {
			b.errs = append(b.errs, fmt.Sprintf("%s.%s: bad protobuf tag %q", n, sf.Name, pb))
			continue
		}
		num, err := strconv.Atoi(pp[1])
		if err != nil || num <= 0 {
			b.errs = append(b.errs, fmt.Sprintf("%s.%s: bad protobuf field number in %q", n, sf.Name, pb))
			continue
		}
		f.Num = num
		f.Proto = strings.ToLower(sf.Name[:1]) + sf.Name[1:] // the default when the tag has no name=
		for _, p := range pp[2:] {
			if v, ok := strings.CutPrefix(p, "name="); ok {
				f.Proto = v
			}
		}
		f.JSON = jparts[0]
		inline := false
		for _, o := range jparts[1:] {
			switch o {
			case "omitempty":
				f.Flags |= FOmitEmpty
			case "omitzero":
				f.Flags |= FOmitZero
			case "inline":
				inline = true
			}
		}
		ft := sf.Type
		if f.JSON == "" {
			base := ft
			if base.Kind() == reflect.Pointer {
				base = base.Elem()
			}
			if inline || (sf.Anonymous && base.Kind() == reflect.Struct) {
				f.Flags |= FInline
			} else {
				f.JSON = sf.Name
			}
		}
		where := n + "." + sf.Name
		if ft.Kind() == reflect.Pointer {
			f.Flags |= FPointer
			ft = ft.Elem()
		}
		switch {
		case ft.Kind() == reflect.Map:
			f.Type = "map"
			f.MapKey, _ = b.elem(m, ft.Key(), where+"[key]")
			if f.MapKey != "s" {
				m.bad = append(m.bad, where+" (map key "+ft.Key().String()+")")
			}
			f.MapVal, f.MapRef = b.elem(m, ft.Elem(), where+"[value]")
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() != reflect.Uint8 && !isWrap(ft) && special[ft] == "":
			f.Flags |= FRepeated
			f.Type, f.Ref = b.elem(m, ft.Elem(), where)
		default:
			f.Type, f.Ref = b.elem(m, ft, where)
		}
		if f.Flags&FInline != 0 && f.Type != "m" {
			m.bad = append(m.bad, where+" (inline field of type "+f.Type+")")
		}
		m.Fields = append(m.Fields, f)
	}
	return n
}

// elem maps one value type (a field's, a slice element's or a map value's) to a table type and ref.
func (b *builder) elem(m *Message, t reflect.Type, where string) (string, string) {
	if s, ok := special[t]; ok {
		return s, ""
	}
	switch t.Kind() {
	case reflect.String:
		if hasCustomJSON(t) {
			m.bad = append(m.bad, where+" ("+t.String()+" has custom MarshalJSON)")
		}
		return "s", ""
	case reflect.Bool:
		return "B", ""
	case reflect.Int32:
		return "i32", ""
	case reflect.Int64, reflect.Int:
		return "i64", ""
	case reflect.Uint32:
		return "u32", ""
	case reflect.Uint64:
		return "u64", ""
	case reflect.Float32:
		return "f32", ""
	case reflect.Float64:
		return "f64", ""
	case reflect.Struct:
		r := b.message(t)
		m.deps = append(m.deps, r)
		return "m", r
	case reflect.Slice:
		if t.Elem().Kind() == reflect.Uint8 {
			return "b", ""
		}
		if isWrap(t) {
			r := b.message(t)
			m.deps = append(m.deps, r)
			return "m", r
		}
	case reflect.Pointer:
		if t.Elem().Kind() == reflect.Struct { // []*T: the decoder treats elements like []T
			return b.elem(m, t.Elem(), where)
		}
	}
	m.bad = append(m.bad, where+" (Go type "+t.String()+")")
	return "?", ""
}

// check verifies that every protobuf-tagged field of every emitted struct is in its message, with unique numbers.
func check(s *Schema) error {
	var errs []string
	for n, m := range s.Messages {
		if m.Wrap {
			continue
		}
		tagged := 0
		for i := 0; i < m.Go.NumField(); i++ {
			if _, ok := m.Go.Field(i).Tag.Lookup("protobuf"); ok {
				tagged++
			}
		}
		if tagged != len(m.Fields) {
			errs = append(errs, fmt.Sprintf("%s: %d protobuf-tagged fields, %d mapped", n, tagged, len(m.Fields)))
		}
		nums := map[int]bool{}
		for _, f := range m.Fields {
			if nums[f.Num] {
				errs = append(errs, fmt.Sprintf("%s: field number %d used twice", n, f.Num))
			}
			nums[f.Num] = true
			if f.Type == "?" || f.MapVal == "?" {
				errs = append(errs, fmt.Sprintf("%s.%s: unmapped type", n, f.GoName))
			}
		}
	}
	for k, n := range s.Kinds {
		if s.Messages[n] == nil {
			errs = append(errs, k+": no message "+n)
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return fmt.Errorf("check failed:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}
