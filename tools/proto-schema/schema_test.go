package main

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// protoField is one field of a message in a package's generated.proto.
type protoField struct {
	label, typ, name string
}

var (
	reMessage = regexp.MustCompile(`^message (\w+) \{`)
	reField   = regexp.MustCompile(`^\s*(optional|repeated)?\s*(map<\s*[\w.]+\s*,\s*[\w.]+\s*>|[\w.]+)\s+(\w+)\s*=\s*(\d+)\s*;`)
	rePackage = regexp.MustCompile(`^package ([\w.]+);`)
)

// parseProto reads a generated.proto: its package and message -> field number -> field.
func parseProto(path string) (string, map[string]map[int]protoField, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	pkg := ""
	msgs := map[string]map[int]protoField{}
	var cur map[int]protoField
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if m := rePackage.FindStringSubmatch(line); m != nil {
			pkg = m[1]
		} else if m := reMessage.FindStringSubmatch(line); m != nil {
			cur = map[int]protoField{}
			msgs[m[1]] = cur
		} else if line == "}" {
			cur = nil
		} else if m := reField.FindStringSubmatch(line); m != nil && cur != nil {
			n, _ := strconv.Atoi(m[4])
			cur[n] = protoField{label: m[1], typ: strings.ReplaceAll(m[2], " ", ""), name: m[3]}
		}
	}
	return pkg, msgs, sc.Err()
}

var scalarProto = map[string]string{
	"s": "string", "b": "bytes", "B": "bool", "i32": "int32", "i64": "int64", "u32": "uint32", "u64": "uint64",
	"f32": "float", "f64": "double",
}

var specialProto = map[string][]string{
	"time":  {"k8s.io.apimachinery.pkg.apis.meta.v1.Time"},
	"mtime": {"k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime"},
	"dur":   {"k8s.io.apimachinery.pkg.apis.meta.v1.Duration"},
	"qty":   {"k8s.io.apimachinery.pkg.api.resource.Quantity"},
	"ios":   {"k8s.io.apimachinery.pkg.util.intstr.IntOrString"},
	"raw":   {"k8s.io.apimachinery.pkg.runtime.RawExtension", "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1.JSON", "k8s.io.apiextensions_apiserver.pkg.apis.apiextensions.v1beta1.JSON"},
	"fv1":   {"k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1"},
}

// TestAgainstGeneratedProto compares every field of every emitted message with the generated.proto of its package:
// same field numbers (none missing, none extra), names, repeated-ness, scalar types and message types.
func TestAgainstGeneratedProto(t *testing.T) {
	s, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]bool{}
	for _, m := range s.Messages {
		pkgs[m.Go.PkgPath()] = true
	}
	list := make([]string, 0, len(pkgs))
	for p := range pkgs {
		list = append(list, p)
	}
	sort.Strings(list)
	out, err := exec.Command("go", append([]string{"list", "-f", "{{.ImportPath}} {{.Dir}}"}, list...)...).Output()
	if err != nil {
		t.Fatal(err)
	}
	type protoPkg struct {
		name string
		msgs map[string]map[int]protoField
	}
	protos := map[string]protoPkg{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		ip, dir, _ := strings.Cut(line, " ")
		name, msgs, err := parseProto(filepath.Join(dir, "generated.proto"))
		if err != nil {
			t.Fatal(err)
		}
		protos[ip] = protoPkg{name, msgs}
	}
	// qualify resolves a proto type name used in package pkg to its full name.
	qualify := func(pkg, typ string) string {
		if strings.Contains(typ, ".") {
			return strings.TrimPrefix(typ, ".")
		}
		return pkg + "." + typ
	}
	// want is the full proto name of a table type with ref.
	want := func(typ, ref string) []string {
		if p, ok := scalarProto[typ]; ok {
			return []string{p}
		}
		if typ == "m" {
			g := s.Messages[ref].Go
			return []string{protos[g.PkgPath()].name + "." + g.Name()}
		}
		return specialProto[typ]
	}
	match := func(pkg, got string, w []string) bool {
		for _, x := range w {
			if x == got || qualify(pkg, got) == x {
				return true
			}
		}
		return false
	}
	checked := 0
	var errs []string
	for _, n := range sortedKeys(s.Messages) {
		m := s.Messages[n]
		pp := protos[m.Go.PkgPath()]
		pm, ok := pp.msgs[m.Go.Name()]
		if !ok {
			errs = append(errs, n+": no message "+m.Go.Name()+" in generated.proto")
			continue
		}
		if len(pm) != len(m.Fields) {
			errs = append(errs, fmt.Sprintf("%s: %d fields in generated.proto, %d in the table", n, len(pm), len(m.Fields)))
		}
		for _, f := range m.Fields {
			p, ok := pm[f.Num]
			where := fmt.Sprintf("%s field %d (%s)", n, f.Num, f.GoName)
			if !ok {
				errs = append(errs, where+": not in generated.proto")
				continue
			}
			checked++
			if p.name != f.Proto {
				errs = append(errs, fmt.Sprintf("%s: proto name %s, tag name %s", where, p.name, f.Proto))
			}
			if f.Type == "map" {
				kv := strings.TrimSuffix(strings.TrimPrefix(p.typ, "map<"), ">")
				k, v, _ := strings.Cut(kv, ",")
				if !strings.HasPrefix(p.typ, "map<") || !match(pp.name, k, want(f.MapKey, "")) || !match(pp.name, v, want(f.MapVal, f.MapRef)) {
					errs = append(errs, fmt.Sprintf("%s: proto %s, table map %s->%s %s", where, p.typ, f.MapKey, f.MapVal, f.MapRef))
				}
				continue
			}
			if (p.label == "repeated") != (f.Flags&FRepeated != 0) {
				errs = append(errs, fmt.Sprintf("%s: proto label %q, table flags %d", where, p.label, f.Flags))
			}
			if !match(pp.name, p.typ, want(f.Type, f.Ref)) {
				errs = append(errs, fmt.Sprintf("%s: proto type %s, table %s %s", where, p.typ, f.Type, f.Ref))
			}
		}
	}
	for _, e := range errs {
		t.Error(e)
	}
	t.Logf("%d messages, %d fields checked against generated.proto", len(s.Messages), checked)
}

// TestKnownFields pins a few fields whose number, type and flags the decoder depends on.
func TestKnownFields(t *testing.T) {
	s, err := Build()
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]string{
		"meta/v1.ObjectMeta.8":           "[8, 'creationTimestamp', 'time', 12]",
		"meta/v1.ObjectMeta.11":          "[11, 'labels', 'map', 4, ['s', 's']]",
		"meta/v1.ObjectMeta.17":          "[17, 'managedFields', 'm', 5, 'meta/v1.ManagedFieldsEntry']",
		"core/v1.Secret.2":               "[2, 'data', 'map', 4, ['s', 'b']]",
		"core/v1.ResourceRequirements.1": "[1, 'limits', 'map', 4, ['s', 'qty']]",
		"core/v1.Volume.2":               "[2, '', 'm', 16, 'core/v1.VolumeSource']",
		"core/v1.PodSpec.2":              "[2, 'containers', 'm', 1, 'core/v1.Container']",
		"core/v1.ContainerPort.3":        "[3, 'containerPort', 'i32', 0]",
		"authentication/v1.UserInfo.4":   "[4, 'extra', 'map', 4, ['s', 'm', 'authentication/v1.ExtraValue']]",
		"authentication/v1.ExtraValue.1": "[1, 'items', 's', 1]",
		"core/v1.ServicePort.4":          "[4, 'targetPort', 'ios', 4]",
		"apps/v1.ControllerRevision.2":   "[2, 'data', 'raw', 0]",
		"meta/v1.ManagedFieldsEntry.7":   "[7, 'fieldsV1', 'fv1', 6]",
		"core/v1.ConfigMap.4":            "[4, 'immutable', 'B', 6]",
		"meta/v1.Status.6":               "[6, 'code', 'i32', 4]",
	}
	for k, w := range cases {
		i := strings.LastIndex(k, ".")
		m := s.Messages[k[:i]]
		if m == nil {
			t.Errorf("%s: no message", k)
			continue
		}
		num, _ := strconv.Atoi(k[i+1:])
		got := "(none)"
		for _, f := range m.Fields {
			if f.Num == num {
				got = f.render()
			}
		}
		if got != w {
			t.Errorf("%s: got %s, want %s", k, got, w)
		}
	}
	for _, k := range []string{"v1/ConfigMap", "v1/ConfigMapList", "apps/v1/Deployment", "apps/v1/DeploymentList", "v1/Status",
		"apiregistration.k8s.io/v1/APIService", "authentication.k8s.io/v1/TokenReview"} {
		if s.Kinds[k] == "" {
			t.Errorf("kind %s missing", k)
		}
	}
	for _, k := range []string{"v1/WatchEvent", "v1/ListOptions", "apps/v1/Status", "apps/v1/DeleteOptions"} {
		if s.Kinds[k] != "" {
			t.Errorf("kind %s should not be in the table", k)
		}
	}
}
