package integration

// The generated hostile-input test (issue 14): not a list of cases but a
// walk over the OpenAPI document. Every parameter of every operation, and
// every field of every request body (found by walking its schema), receives
// every hostile value: NUL, invalid UTF-8, a lone surrogate, 1 MiB, deep
// nesting, numbers beyond int64 and float64, timestamps out of range, wrong
// JSON types. The answer must be a success or a typed easydb 4xx, never a
// 5xx. An operation added to the document is covered from then on.
//
// A surface with its own wire format (Kanboard's JSON-RPC, Noko, Navixy)
// plugs in by listing its own hostileFields: what a field is called and how a
// request carries a value there; runHostile does the rest.

import (
	"bytes"
	"encoding/json"

	"fmt"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/navixy"
	"github.com/groupd/groupd/openapi"
	"github.com/groupd/groupd/server"
)

// hostileField is one place a client puts a value.
type hostileField struct {
	Operation string // "GET /api/v1/group"
	Name      string // "query name", "json [0].group.name", "form login"
	// JSON fields take JSON texts (hostileJSON); the others raw text
	// (hostileText), as a query string, a path or a form carries it.
	JSON bool
	// Request builds the request carrying value in this field.
	Request func(value []byte) hostileRequest
	// NonEmpty: the field cannot be empty (a path segment: empty, it
	// makes another URL, not another value).
	NonEmpty bool
	// Judge, when set, finds what else a 2xx answer must not be (a
	// surface that answers its server errors with 200, as JSON-RPC
	// does); "" is fine.
	Judge func(body []byte) string
	// Typed reports whether a 4xx body is the surface's typed error
	// (nil: an easydb error, typedError).
	Typed func(body []byte) bool
}

// values are the hostile values f receives.
func (f hostileField) values() []hostileValue {
	values := hostileText
	if f.JSON {
		values = hostileJSON
	}
	if !f.NonEmpty {
		return values
	}
	var out []hostileValue
	for _, v := range values {
		if len(v.Value) > 0 {
			out = append(out, v)
		}
	}
	return out
}

// hostileRequest is one request of the test.
type hostileRequest struct {
	Method, Path, ContentType string
	Body                      []byte
	Token                     string // sent as x-easydb-token (X-NokoToken under /noko/) when set
	// Header are more request headers (name, value pairs): a surface's
	// own credentials.
	Header []string
}

// hostileValue is a value with a name for the report.
type hostileValue struct {
	Name  string
	Value []byte
}

// deepNesting is how deep the nested values go: far beyond anything a
// client means, and beyond what the OpenAPI validator walks quickly (it is
// skipped for these; see hostileSend).
const deepNesting = 10000

// hostileText are the values sent as raw text: query and path parameters,
// form fields. A query string longer than the server's header limit
// (server.MaxHeaderBytes, 64 KiB) is refused by net/http itself, before
// groupd, with a 431 and a closed connection, so "long" is 16 KiB here: 48
// KiB once percent-encoded (6 bytes per "é").
// One value of each kind: every value costs a request per field.
var hostileText = []hostileValue{
	{"NUL", []byte("a\x00b")}, {"invalid UTF-8", []byte("\xff\xfe")}, {"lone surrogate (CESU-8)", []byte("\xed\xa0\x80")},
	{"16 KiB", bytes.Repeat([]byte("é"), 8<<10)},
	{"deep nesting", []byte(strings.Repeat("[", deepNesting/10) + strings.Repeat("]", deepNesting/10))},
	{"beyond int64", []byte("9223372036854775808")}, {"beyond float64", []byte("1e400")},
	{"year 0", []byte("0000-01-01T00:00:00Z")}, {"offset +24:00", []byte("2026-01-01T00:00:00+24:00")},
	{"negative", []byte("-1")}, {"object", []byte("{}")}, {"empty", nil}, {"filler", []byte("\u3164")},
}

// hostileJSON are the values sent as JSON texts into body fields.
var hostileJSON = []hostileValue{
	{"NUL", []byte(`"a\u0000b"`)}, {"raw invalid UTF-8", []byte("\"\xff\xfe\"")}, {"lone surrogate", []byte(`"\ud800"`)},
	{"1 MiB", []byte(`"` + strings.Repeat("x", 1<<20) + `"`)},
	{"deep nesting", []byte(strings.Repeat(`[{"a":`, deepNesting/2) + "1" + strings.Repeat("}]", deepNesting/2))},
	{"beyond int64", []byte("9223372036854775808")}, {"beyond float64", []byte("1e400")},
	{"float64 underflow", []byte("1e-400")},
	{"year 10000 by offset", []byte(`"9999-12-31T23:59:59-23:59"`)}, {"offset +24:00", []byte(`"2026-01-01T00:00:00+24:00"`)},
	{"true", []byte("true")}, {"fraction", []byte("1.5")}, {"array", []byte("[]")},
	{"NUL key", []byte(`{"a\u0000":"b"}`)}, {"filler", []byte(`"\u3164"`)},
}

// hostileResult counts what the server answered.
type hostileResult struct {
	sent, ok, refused atomic.Int64
	mu                sync.Mutex
	failures          []string
}

// runHostile sends every value of its kind into every field, workers at a
// time, and fails on anything but a 2xx or a typed easydb 4xx.
func runHostile(t *testing.T, s *Server, fields []hostileField, workers int) *hostileResult {
	res := &hostileResult{}
	type job struct {
		f hostileField
		v hostileValue
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				req := j.f.Request(j.v.Value)
				what := fmt.Sprintf("%s, %s = %s", j.f.Operation, j.f.Name, j.v.Name)
				status, body, contractErr := hostileSend(t, s, req)
				res.sent.Add(1)
				switch {
				case contractErr != "":
					res.mu.Lock()
					res.failures = append(res.failures, what+": "+contractErr)
					res.mu.Unlock()
				case status >= 200 && status < 300 && j.f.Judge != nil && j.f.Judge(body) != "":
					res.mu.Lock()
					res.failures = append(res.failures, fmt.Sprintf("%s: %d %s", what, status, j.f.Judge(body)))
					res.mu.Unlock()
				case status >= 200 && status < 300:
					res.ok.Add(1)
				case status >= 400 && status < 500 && j.f.typed(req.Path, body):
					res.refused.Add(1)
				default:
					res.mu.Lock()
					res.failures = append(res.failures, fmt.Sprintf("%s: %d %.200s", what, status, body))
					res.mu.Unlock()
				}
			}
		}()
	}
	for _, f := range fields {
		for _, v := range f.values() {
			jobs <- job{f, v}
		}
	}
	close(jobs)
	wg.Wait()
	sort.Strings(res.failures)
	for _, f := range res.failures {
		t.Error(f)
	}
	return res
}

// typed reports whether body is the typed error f's operation answers:
// f.Typed's when set, else that of path's surface (typedError).
func (f hostileField) typed(path string, body []byte) bool {
	if f.Typed != nil {
		return f.Typed(body)
	}
	return typedError(path, body)
}

// typedError reports whether body is the typed error of path's surface: a
// Noko error with a message under /noko/, else an easydb error of realm api
// or user.
func typedError(path string, body []byte) bool {
	if strings.HasPrefix(path, "/noko/") {
		var e struct{ Message string }
		return json.Unmarshal(body, &e) == nil && e.Message != ""
	}
	var e APIError
	return json.Unmarshal(body, &e) == nil && (e.Realm == "api" || e.Realm == "user") &&
		strings.HasPrefix(e.Code, "error."+e.Realm+".")
}

// hostileSend sends req from a worker goroutine, where a test may not
// stop: a failure of the exchange (transport, contract) is returned as text.
// Bodies nested deeper than the OpenAPI validator walks in reasonable time,
// and bodies of a MiB, skip the contract check (as hostileDo does: the
// validator spends seconds on either, the server milliseconds); every other
// exchange is validated against the document by Server.Do.
func hostileSend(tb testing.TB, s *Server, req hostileRequest) (status int, body []byte, failure string) {
	if bytes.Count(req.Body, []byte("[")) > 1000 || bytes.Count(req.Body, []byte("{")) > 1000 || len(req.Body) > 1<<20 {
		// only JSON bodies nest (forms and query strings escape brackets): rawDo sends JSON
		header := req.Header
		if req.Token != "" {
			header = append(append([]string{}, header...), "X-Easydb-Token", req.Token)
		}
		r := rawDoWith(http.DefaultClient, req.Method, s.URL()+req.Path, req.Body, header...)
		if r.Err != nil {
			return 0, nil, r.Err.Error()
		}
		return r.Status, r.Body, ""
	}
	w := &collectingTB{TB: tb}
	defer func() {
		if v := recover(); v != nil && v != errCollected {
			panic(v)
		}
		failure = w.failure
	}()
	var reqBody any
	if req.Body != nil {
		reqBody = req.Body
	}
	var header []string
	if req.ContentType != "" {
		header = append(header, "Content-Type", req.ContentType)
	}
	if req.Token != "" {
		tokenHeader := "x-easydb-token"
		if strings.HasPrefix(req.Path, "/noko/") {
			tokenHeader = "X-NokoToken"
		}
		header = append(header, tokenHeader, req.Token)
	}
	header = append(header, req.Header...)
	r := s.Do(w, req.Method, req.Path, reqBody, header...)
	return r.StatusCode, r.Body, ""
}

// collectingTB keeps the first failure instead of failing the test, and
// stops the exchange at a fatal one (errCollected, recovered by hostileSend).
type collectingTB struct {
	testing.TB
	failure string
}

var errCollected = errors.New("exchange failed")

func (c *collectingTB) Helper() {}

func (c *collectingTB) Errorf(format string, args ...any) {
	if c.failure == "" {
		c.failure = fmt.Sprintf(format, args...)
	}
}

func (c *collectingTB) Fatalf(format string, args ...any) {
	c.Errorf(format, args...)
	panic(errCollected)
}

func (c *collectingTB) Fatal(args ...any) { c.Fatalf("%s", fmt.Sprint(args...)) }

// --- the OpenAPI surface -------------------------------------------------

// openapiFields lists every parameter and body field of every operation of
// the document. tokenFor gives the token an operation is called with (a
// fresh session's for the session calls, so that none of them logs the
// caller out).
func openapiFields(tb testing.TB, doc *openapi3.T, tokenFor func(path string) string) []hostileField {
	tb.Helper()
	var fields []hostileField
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		if path == "/jsonrpc.php" {
			continue // its own wire format: kanboardHostileFields
		}
		item := doc.Paths.Value(path)
		methods := make([]string, 0)
		for m := range item.Operations() {
			methods = append(methods, m)
		}
		sort.Strings(methods)
		for _, method := range methods {
			op := item.Operations()[method]
			opName := method + " " + path
			token := tokenFor(path)
			params := append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...)
			pathValues := map[string]string{}
			for _, p := range params {
				if p.Value.In == openapi3.ParameterInPath {
					pathValues[p.Value.Name] = baseParam(p.Value)
				}
			}
			// the path with every path parameter at its base value but name's
			build := func(name string, value []byte) string {
				out := path
				for n, v := range pathValues {
					if n == name {
						v = url.PathEscape(string(value))
					}
					out = strings.ReplaceAll(out, "{"+n+"}", v)
				}
				return out
			}
			for _, p := range params {
				p := p.Value
				switch p.In {
				case openapi3.ParameterInPath:
					fields = append(fields, hostileField{Operation: opName, Name: "path " + p.Name, NonEmpty: true,
						Request: func(v []byte) hostileRequest {
							return hostileRequest{Method: method, Path: build(p.Name, v), Token: token}
						}})
				case openapi3.ParameterInQuery:
					fields = append(fields, hostileField{Operation: opName, Name: "query " + p.Name,
						Request: func(v []byte) hostileRequest {
							return hostileRequest{Method: method, Path: build("", nil) + "?" + p.Name + "=" + url.QueryEscape(string(v)),
								Token: token}
						}})
				default:
					tb.Fatalf("%s: parameter %s in %s: the generated test knows query and path parameters only", opName, p.Name, p.In)
				}
			}
			if op.RequestBody == nil {
				continue
			}
			for _, ct := range sortedKeys(op.RequestBody.Value.Content) {
				mt := op.RequestBody.Value.Content[ct]
				base := mt.Example
				switch ct {
				case "application/json":
					all := schemaFields(mt.Schema, nil, 0)
					var unique [][]any
					for _, bf := range all {
						if bf.unique {
							unique = append(unique, bf.path)
						}
					}
					for _, bf := range all {
						fields = append(fields, hostileField{Operation: opName, Name: "json " + bf.name, JSON: true,
							Request: func(v []byte) hostileRequest {
								return hostileRequest{Method: method, Path: build("", nil), ContentType: ct,
									Body: withJSON(tb, base, bf.path, v, unique), Token: token}
							}})
					}
				case "application/x-www-form-urlencoded":
					for _, name := range sortedKeys(mt.Schema.Value.Properties) {
						fields = append(fields, hostileField{Operation: opName, Name: "form " + name,
							Request: func(v []byte) hostileRequest {
								form := url.Values{}
								if m, ok := base.(map[string]any); ok {
									for k, x := range m {
										form.Set(k, fmt.Sprint(x))
									}
								}
								form.Set(name, string(v))
								return hostileRequest{Method: method, Path: build("", nil), ContentType: ct,
									Body: []byte(form.Encode()), Token: token}
							}})
					}
				case "*/*":
					// A surface's JSON body sent without a Content-Type (Noko): the
					// application/json entry covers its fields.
				default:
					tb.Fatalf("%s: request body %s: the generated test knows JSON and forms only", opName, ct)
				}
			}
		}
	}
	return fields
}

// baseParam is the value a path parameter has while another field is
// tested: its example, else 1.
func baseParam(p *openapi3.Parameter) string {
	if p.Example != nil {
		return fmt.Sprint(p.Example)
	}
	return "1"
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// bodyField is a place in a JSON body: a path of object keys and array
// indexes (int 0), and its name ("[0]._acl[0].when.from").
type bodyField struct {
	name string
	path []any
	// unique: no two objects may share the value (x-unique in the
	// document), so each request gets its own (uniquify).
	unique bool
}

// schemaFields walks a schema: the value itself and every property, array
// element and additional property below it, through allOf/oneOf/anyOf.
// Recursive schemas stop at depth 8.
func schemaFields(ref *openapi3.SchemaRef, path []any, depth int) []bodyField {
	if ref == nil || ref.Value == nil || depth > 8 {
		return nil
	}
	name := pathName(path)
	out := []bodyField{{name: name, path: path, unique: ref.Value.Extensions["x-unique"] == true}}
	var walk func(s *openapi3.Schema)
	seen := map[string]bool{name: true}
	add := func(fs []bodyField) {
		for _, f := range fs {
			if !seen[f.name] {
				seen[f.name] = true
				out = append(out, f)
			}
		}
	}
	walk = func(s *openapi3.Schema) {
		for _, k := range sortedKeys(s.Properties) {
			add(schemaFields(s.Properties[k], appendPath(path, k), depth+1))
		}
		if s.Items != nil {
			add(schemaFields(s.Items, appendPath(path, 0), depth+1))
		}
		if ap := s.AdditionalProperties.Schema; ap != nil {
			add(schemaFields(ap, appendPath(path, "x"), depth+1))
		}
		for _, group := range []openapi3.SchemaRefs{s.AllOf, s.OneOf, s.AnyOf} {
			for _, sub := range group {
				if sub.Value != nil {
					walk(sub.Value)
				}
			}
		}
	}
	walk(ref.Value)
	return out
}

func appendPath(path []any, step any) []any {
	return append(append([]any{}, path...), step)
}

func pathName(path []any) string {
	if len(path) == 0 {
		return "body"
	}
	var b strings.Builder
	for _, step := range path {
		switch x := step.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", x)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(x)
		}
	}
	return b.String()
}

// hostilePlaceholder marks where the value goes in the marshalled body.
const hostilePlaceholder = "\x01hostile value\x01"

// withJSON is base (an example body, or nothing) with value at path; the
// objects and arrays on the way are created where base has none. An
// additional property ("x" in the path) takes base's first key there, if it
// has one, so that a culture map keeps a valid culture. The values of base
// at the unique paths get a prefix of their own, so that a request that
// passes validation is written, instead of being refused as a duplicate of
// the one before, before it reaches the database.
func withJSON(tb testing.TB, base any, path []any, value []byte, unique [][]any) []byte {
	tb.Helper()
	var root any
	if base != nil {
		b, err := json.Marshal(base)
		if err != nil {
			tb.Fatal(err)
		}
		json.Unmarshal(b, &root) // a deep copy
	}
	prefix := fmt.Sprintf("h%d-", hostileSequence.Add(1))
	for _, u := range unique {
		uniquify(root, u, prefix)
	}
	root = setPath(root, path)
	b, err := json.Marshal(root)
	if err != nil {
		tb.Fatal(err)
	}
	placeholder, _ := json.Marshal(hostilePlaceholder)
	return bytes.Replace(b, placeholder, value, 1)
}

// hostileSequence numbers the requests (withJSON's unique prefixes).
var hostileSequence atomic.Int64

// uniquify prefixes the string at path in x, if there is one (an
// additional property, "x", is every key there).
func uniquify(x any, path []any, prefix string) {
	for i, step := range path {
		last := i == len(path)-1
		switch k := step.(type) {
		case int:
			a, _ := x.([]any)
			if len(a) == 0 {
				return
			}
			if s, ok := a[0].(string); ok && last {
				a[0] = prefix + s
				return
			}
			x = a[0]
		case string:
			m, _ := x.(map[string]any)
			if k == "x" {
				for key := range m {
					uniquify(m, append([]any{key}, path[i+1:]...), prefix)
				}
				return
			}
			if s, ok := m[k].(string); ok && last {
				m[k] = prefix + s
				return
			}
			x = m[k]
		}
	}
}

func setPath(x any, path []any) any {
	if len(path) == 0 {
		return hostilePlaceholder
	}
	switch step := path[0].(type) {
	case int:
		a, _ := x.([]any)
		if len(a) == 0 {
			a = []any{nil}
		}
		a[0] = setPath(a[0], path[1:])
		return a
	default:
		key := step.(string)
		m, _ := x.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		if key == "x" && len(m) > 0 {
			key = sortedKeys(m)[0]
		}
		m[key] = setPath(m[key], path[1:])
		return m
	}
}

// TestGeneratedHostileInput walks the OpenAPI document and sends every
// hostile value into every parameter and body field of every operation.
func TestGeneratedHostileInput(t *testing.T) {
	t.Parallel()
	// One failed login blocks a login: the password and method fields are
	// then answered without an argon2 hash each.
	s := MustStartServer(t, func(c *server.Config) { c.LoginMaxFailures = 1 })
	root := s.Root(t)
	doc, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	// The Navixy surface has its own hash and errors: TestNavixyHostileInput.
	for _, path := range doc.Paths.InMatchingOrder() {
		if strings.HasPrefix(path, navixy.Prefix) {
			doc.Paths.Delete(path)
		}
	}
	tokens := map[string]string{}
	fields := openapiFields(t, doc, func(path string) string {
		if !strings.HasPrefix(path, "/api/v1/session") {
			return root.Token
		}
		if tokens[path] == "" {
			tokens[path] = sessNew(t, s).Token
		}
		return tokens[path]
	})
	if only := os.Getenv("GROUPD_HOSTILE_ONLY"); only != "" { // while debugging: the fields whose operation or name contain it
		var some []hostileField
		for _, f := range fields {
			if strings.Contains(f.Operation+" "+f.Name, only) {
				some = append(some, f)
			}
		}
		fields = some
	}
	ops := map[string]bool{}
	triples := 0
	for _, f := range fields {
		ops[f.Operation] = true
		triples += len(f.values())
	}
	t.Logf("%d (operation, field, value) triples over %d operations and %d fields", triples, len(ops), len(fields))
	start := time.Now()
	res := runHostile(t, s, fields, 4)
	t.Logf("took %v", time.Since(start))
	t.Logf("%d (operation, field, value) triples over %d operations and %d fields: %d accepted, %d refused with a typed 4xx, %d failures (5xx or untyped)",
		res.sent.Load(), len(ops), len(fields), res.ok.Load(), res.refused.Load(), len(res.failures))
	if int(res.sent.Load()) != triples {
		t.Errorf("sent %d of %d", res.sent.Load(), triples)
	}
	// The server still answers: nothing above broke it.
	if r := root.Do(t, "GET", "/api/v1/group?limit=1", nil); r.StatusCode != 200 {
		t.Errorf("after the run: %d %s", r.StatusCode, r.Body)
	}
}

// --- Kanboard's JSON-RPC ---------------------------------------------------

// kanboardHostileFields are the places a JSON-RPC client puts a value: every
// parameter of every procedure, positional and named (the other parameters
// at valid values: group base, user baseUser), and the request's own
// members (method, id, params, jsonrpc). An answer must be HTTP 200 with a
// JSON-RPC answer that is not an Internal error (the JSON-RPC 5xx).
func kanboardHostileFields(t *testing.T, base, baseUser int64) []hostileField {
	t.Helper()
	auth := basicAuth("jsonrpc", kanboardToken)
	judge := func(body []byte) string {
		var one rpcResp
		if err := json.Unmarshal(body, &one); err != nil || one.JSONRPC != "2.0" {
			return fmt.Sprintf("not a JSON-RPC answer: %.200s", body)
		}
		if one.Error != nil && one.Error.Code == -32603 {
			return fmt.Sprintf("Internal error: %.200s", body)
		}
		return ""
	}
	request := func(v []byte) hostileRequest {
		return hostileRequest{Method: "POST", Path: "/jsonrpc.php", ContentType: "application/json", Body: v, Header: auth}
	}
	valid := func(name string) string {
		switch name {
		case "group_id":
			return fmt.Sprint(base)
		case "user_id", "id":
			return fmt.Sprint(baseUser)
		case "role":
			return `"app-user"`
		}
		return `"hostile-base"`
	}
	var fields []hostileField
	for _, m := range kanboardProcedures {
		for i, p := range m.params {
			fields = append(fields, hostileField{Operation: "POST /jsonrpc.php " + m.name, Name: "positional " + p,
				JSON: true, Judge: judge, Request: func(v []byte) hostileRequest {
					args := make([]string, len(m.params))
					for j, q := range m.params {
						args[j] = valid(q)
					}
					args[i] = string(v)
					return request([]byte(`{"jsonrpc":"2.0","method":"` + m.name + `","params":[` +
						strings.Join(args, ",") + `],"id":1}`))
				}})
			fields = append(fields, hostileField{Operation: "POST /jsonrpc.php " + m.name, Name: "named " + p,
				JSON: true, Judge: judge, Request: func(v []byte) hostileRequest {
					args := make([]string, len(m.params))
					for j, q := range m.params {
						value := valid(q)
						if j == i {
							value = string(v)
						}
						args[j] = fmt.Sprintf("%q:%s", q, value)
					}
					return request([]byte(`{"jsonrpc":"2.0","method":"` + m.name + `","params":{` +
						strings.Join(args, ",") + `},"id":1}`))
				}})
		}
	}
	for _, member := range []string{"jsonrpc", "method", "params", "id"} {
		fields = append(fields, hostileField{Operation: "POST /jsonrpc.php", Name: "request " + member, JSON: true,
			Judge: judge, Request: func(v []byte) hostileRequest {
				req := map[string]string{"jsonrpc": `"2.0"`, "method": `"getGroup"`, "params": fmt.Sprintf("[%d]", base), "id": "1"}
				req[member] = string(v)
				return request([]byte(`{"jsonrpc":` + req["jsonrpc"] + `,"method":` + req["method"] + `,"params":` +
					req["params"] + `,"id":` + req["id"] + `}`))
			}})
	}
	return fields
}

// kanboardProcedures are the procedures and their parameters, as
// docs/kanboard.md lists them.
var kanboardProcedures = []struct {
	name   string
	params []string
}{
	{"createGroup", []string{"name", "external_id"}}, {"updateGroup", []string{"group_id", "name", "external_id"}},
	{"removeGroup", []string{"group_id"}}, {"getGroup", []string{"group_id"}}, {"getAllGroups", nil},
	{"getMemberGroups", []string{"user_id"}}, {"getGroupMembers", []string{"group_id"}},
	{"addGroupMember", []string{"group_id", "user_id"}}, {"removeGroupMember", []string{"group_id", "user_id"}},
	{"isGroupMember", []string{"group_id", "user_id"}},
	{"createUser", []string{"username", "password", "name", "email", "role"}}, {"getUser", []string{"user_id"}},
	{"getUserByName", []string{"username"}}, {"getAllUsers", nil},
	{"updateUser", []string{"id", "username", "name", "email", "role"}}, {"removeUser", []string{"user_id"}},
	{"enableUser", []string{"user_id"}}, {"disableUser", []string{"user_id"}}, {"isActiveUser", []string{"user_id"}},
	{"getVersion", nil},
}

// TestKanboardHostileInput sends every hostile value into every parameter
// of every Kanboard procedure and into the request's members.
func TestKanboardHostileInput(t *testing.T) {
	t.Parallel()
	s := startKanboard(t)
	k := appClient(s)
	base := atoi(t, k.call(t, "createGroup", []any{"hostile-base-group"}))
	baseUser := atoi(t, k.call(t, "createUser", []any{"hostile-base-user", "hostile-password"}))
	fields := kanboardHostileFields(t, base, baseUser)
	if only := os.Getenv("GROUPD_HOSTILE_ONLY"); only != "" {
		var some []hostileField
		for _, f := range fields {
			if strings.Contains(f.Operation+" "+f.Name, only) {
				some = append(some, f)
			}
		}
		fields = some
	}
	res := runHostile(t, s, fields, 4)
	t.Logf("%d (procedure, parameter, value) triples: %d answered, %d refused with a typed 4xx, %d failures",
		res.sent.Load(), res.ok.Load(), res.refused.Load(), len(res.failures))
	// The server still answers: nothing above broke it.
	if got := k.call(t, "getGroup", []any{base}); !strings.Contains(got, fmt.Sprintf(`"id":%d`, base)) {
		t.Errorf("after the run: %s", got)
	}
}
