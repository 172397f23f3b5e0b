// The checker that holds requests to the API's description (testdata/openapi.json).

package loyalty

import (
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// spec is the vendor's OpenAPI description (testdata/openapi.json), the authority on paths,
// field names, JSON types, required fields and limits.
type spec struct {
	doc map[string]any
}

func loadSpec(t testing.TB) *spec {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal(fixtureBytes(t, "openapi.json"), &doc))
	return &spec{doc: doc}
}

// operations lists "METHOD path" for every operation in the description.
func (s *spec) operations() []string {
	var out []string
	for path, ops := range s.doc["paths"].(map[string]any) {
		for method := range ops.(map[string]any) {
			if method != "parameters" {
				out = append(out, strings.ToUpper(method)+" "+path)
			}
		}
	}
	sort.Strings(out)
	return out
}

func (s *spec) operation(method, path string) map[string]any {
	ops, _ := s.doc["paths"].(map[string]any)[path].(map[string]any)
	op, _ := ops[strings.ToLower(method)].(map[string]any)
	return op
}

// resolve follows a $ref such as #/components/schemas/Card.
func (s *spec) resolve(node map[string]any) map[string]any {
	for {
		ref, ok := node["$ref"].(string)
		if !ok {
			return node
		}
		var cur any = s.doc
		for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			cur = cur.(map[string]any)[part]
		}
		node = cur.(map[string]any)
	}
}

// requestSchema is the JSON body schema of an operation, or nil when it takes none.
func (s *spec) requestSchema(op map[string]any) map[string]any {
	rb, _ := op["requestBody"].(map[string]any)
	content, _ := rb["content"].(map[string]any)
	mt, _ := content["application/json"].(map[string]any)
	schema, _ := mt["schema"].(map[string]any)
	return schema
}

// queryParams are the names of an operation's query parameters.
func (s *spec) queryParams(op map[string]any) []string {
	var names []string
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		p := s.resolve(p.(map[string]any))
		if p["in"] == "query" {
			names = append(names, p["name"].(string))
		}
	}
	return names
}

// checkQuery reports query keys the operation does not declare.
func (s *spec) checkQuery(op map[string]any, rawQuery string) []string {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	declared := s.queryParams(op)
	for key := range q {
		if !slices.Contains(declared, key) {
			problems = append(problems, "query parameter "+key+" is not in the description")
		}
	}
	return problems
}

// check validates a decoded JSON value against a schema: types, required members, no member
// the schema does not name, enums, and numeric, length and item limits.
func (s *spec) check(schema map[string]any, v any, at string) []string {
	schema = s.resolve(schema)
	if all, ok := schema["allOf"].([]any); ok {
		merged := map[string]any{"type": "object", "properties": map[string]any{}, "required": []any{}}
		for _, part := range all {
			part := s.resolve(part.(map[string]any))
			for k, p := range part["properties"].(map[string]any) {
				merged["properties"].(map[string]any)[k] = p
			}
			if req, ok := part["required"].([]any); ok {
				merged["required"] = append(merged["required"].([]any), req...)
			}
		}
		schema = merged
	}
	if v == nil {
		if schema["nullable"] == true {
			return nil
		}
		return []string{at + ": null where the description does not allow it"}
	}
	if one, ok := schema["oneOf"].([]any); ok {
		return s.check(one[0].(map[string]any), v, at)
	}
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, at+": "+fmt.Sprintf(format, args...)) }
	typ, _ := schema["type"].(string)
	if typ == "" && schema["properties"] != nil {
		typ = "object"
	}
	switch typ {
	case "integer":
		n, ok := v.(float64)
		if !ok || n != math.Trunc(n) {
			bad("want a JSON integer, have %v", v)
		}
	case "number":
		if _, ok := v.(float64); !ok {
			bad("want a JSON number, have %v", v)
		}
	case "string", "uuid":
		str, ok := v.(string)
		if !ok {
			bad("want a JSON string, have %v", v)
		}
		if min, ok := schema["minLength"].(float64); ok && float64(len([]rune(str))) < min {
			bad("shorter than %v", min)
		}
		if max, ok := schema["maxLength"].(float64); ok && float64(len([]rune(str))) > max {
			bad("longer than %v", max)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("want a JSON boolean, have %v", v)
		}
	case "array":
		items, ok := v.([]any)
		if !ok {
			bad("want a JSON array, have %v", v)
			break
		}
		if min, ok := schema["minItems"].(float64); ok && float64(len(items)) < min {
			bad("fewer than %v items", min)
		}
		if itemSchema, ok := schema["items"].(map[string]any); ok {
			for i, item := range items {
				problems = append(problems, s.check(itemSchema, item, fmt.Sprintf("%s[%d]", at, i))...)
			}
		}
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			bad("want a JSON object, have %v", v)
			break
		}
		props, _ := schema["properties"].(map[string]any)
		for k, pv := range obj {
			ps, ok := props[k].(map[string]any)
			if !ok {
				bad("member %q is not in the description", k)
				continue
			}
			problems = append(problems, s.check(ps, pv, at+"."+k)...)
		}
		req, _ := schema["required"].([]any)
		for _, r := range req {
			if _, ok := obj[r.(string)]; !ok {
				bad("required member %q is missing", r)
			}
		}
	}
	if n, ok := v.(float64); ok {
		if min, ok := schema["minimum"].(float64); ok {
			if n < min || (schema["exclusiveMinimum"] == true && n == min) {
				bad("%v is below the minimum %v", n, min)
			}
		}
		if max, ok := schema["maximum"].(float64); ok && n > max {
			bad("%v is above the maximum %v", n, max)
		}
	}
	if enum, ok := schema["enum"].([]any); ok && !slices.Contains(enum, v) {
		bad("%v is not one of %v", v, enum)
	}
	return problems
}

// checkBody validates a request body against the operation's schema.
func (s *spec) checkBody(op map[string]any, body []byte) []string {
	schema := s.requestSchema(op)
	if schema == nil {
		if len(body) > 0 {
			return []string{"a body was sent to an operation that takes none"}
		}
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return []string{"body is not JSON: " + err.Error()}
	}
	return s.check(schema, v, "body")
}

func TestSpecCheckerCatchesMistakes(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	op := s.operation("POST", "/api/v2/cards/{id}/add-stamp")
	require.NotNil(t, op)
	for body, want := range map[string]string{
		`{"stamps":1}`:                 "",
		`{"stamps":1.5}`:               "integer",
		`{"stamps":0}`:                 "minimum",
		`{"stamp":1}`:                  "not in the description",
		`{"comment":"x"}`:              "required",
		`{"stamps":"1"}`:               "integer",
		`{"stamps":2,"purchaseSum":1}`: "",
	} {
		problems := strings.Join(s.checkBody(op, []byte(body)), "; ")
		if want == "" {
			require.Empty(t, problems, body)
		} else {
			require.Contains(t, problems, want, body)
		}
	}
	require.NotEmpty(t, s.checkQuery(s.operation("GET", "/api/v2/cards"), "customer=1"))
	require.Empty(t, s.checkQuery(s.operation("GET", "/api/v2/cards"), "customerId=1&page=2"))
}

func TestSpecFileIsTheVendors(t *testing.T) {
	t.Parallel()
	s := loadSpec(t)
	require.Len(t, s.operations(), 53)
	if shared, err := os.ReadFile("../shared/api/openapi.json"); err == nil {
		require.Equal(t, string(shared), string(fixtureBytes(t, "openapi.json")), "testdata/openapi.json is a copy of the shared description")
	}
}
