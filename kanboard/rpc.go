// Package kanboard is the Kanboard-compatible JSON-RPC surface: POST
// /jsonrpc.php speaks JSON-RPC 2.0 as Kanboard's server (its libs/jsonrpc)
// does, and its group, group-member and user procedures are translated into
// calls of the core stores (group.Store, user.Store) with the caller's
// principal. The package owns no table and decides no right: every refusal
// comes from the core, exactly as for the same change through /api/v1, and
// is put on the wire the way Kanboard puts it (HTTP 403, or the procedure's
// false or null). docs/kanboard.md is the user's description.
package kanboard

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/web"
)

// Path is where the endpoint is served, Kanboard's own.
const Path = "/jsonrpc.php"

// maxDepth is how deeply a request may nest: PHP's json_decode gives up
// beyond 512 levels (arrays and objects), and Kanboard answers Parse error.
const maxDepth = 512

// The JSON-RPC error codes of Kanboard's server.
const (
	codeParseError     = -32700
	codeInvalidRequest = -32600
	codeMethodNotFound = -32601
	codeInvalidParams  = -32602
	codeInternalError  = -32603
	codeUnauthorized   = 401
	codeForbidden      = 403
)

// rpcError is a JSON-RPC error object. Data is left out when empty, as
// Kanboard's ResponseBuilder does.
type rpcError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Data    string `json:"data,omitempty"`
}

// response is one answer, its keys in Kanboard's order.
type response struct {
	JSONRPC string           `json:"jsonrpc"`
	Result  *json.RawMessage `json:"result,omitempty"`
	Error   *rpcError        `json:"error,omitempty"`
	ID      json.RawMessage  `json:"id"`
}

var jsonNull = json.RawMessage("null")

// abort ends a whole HTTP exchange with one answer, as Kanboard does for an
// authentication failure (401) and a refused right (403), even in a batch:
// its server lets these two exceptions escape the call they happened in.
type abort struct {
	status int
	code   int
	msg    string
}

func (a *abort) Error() string { return a.msg }

var (
	errUnauthorized = &abort{status: http.StatusUnauthorized, code: codeUnauthorized, msg: "Unauthorized"}
	errForbidden    = &abort{status: http.StatusForbidden, code: codeForbidden, msg: "Forbidden"}
)

// serve answers one HTTP request to Path.
func (s *Service) serve(w http.ResponseWriter, r *http.Request) error {
	body, err := web.ReadBody(r)
	if err != nil {
		return err // a transport limit (size, rate): answered as everywhere in groupd
	}
	x := &exchange{s: s, r: r}
	payload, ok := decode(body)
	if !ok {
		return writeOne(w, http.StatusOK, errorResponse(jsonNull, codeParseError, "Parse error", ""))
	}
	var out []byte
	switch v := payload.(type) {
	case []any:
		if len(v) == 0 {
			// PHP cannot tell [] from {}: an empty batch is one invalid
			// request.
			out, err = x.one(payload)
			break
		}
		var parts [][]byte
		for _, item := range v {
			b, callErr := x.one(item)
			if callErr != nil {
				err = callErr
				break
			}
			if b != nil {
				parts = append(parts, b)
			}
		}
		if err == nil && len(parts) > 0 {
			out = append(append([]byte{'['}, bytes.Join(parts, []byte{','})...), ']')
		}
	case map[string]any:
		out, err = x.one(payload)
	default:
		// a JSON string, number, boolean or null is no request at all
		out = errorResponse(jsonNull, codeParseError, "Parse error", "")
	}
	var a *abort
	if errors.As(err, &a) {
		if a.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Basic realm="JsonRPC"`)
		}
		return writeOne(w, a.status, errorResponse(jsonNull, a.code, a.msg, ""))
	}
	if err != nil {
		return err
	}
	return writeOne(w, http.StatusOK, out)
}

// writeOne writes body (nil: an empty body, Kanboard's answer to
// notifications) as application/json.
func writeOne(w http.ResponseWriter, status int, body []byte) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	_, _ = w.Write(body)
	return nil
}

// decode reads the body as PHP's json_decode does for Kanboard: one JSON
// value, numbers kept as written (PHP reads one beyond float64 as INF, a
// bad argument of any procedure), at most maxDepth levels deep; ok is
// false for anything else (empty, malformed, trailing data, too deep).
func decode(body []byte) (any, bool) {
	if tooDeep(body, maxDepth) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false // trailing data
	}
	return v, true
}

// tooDeep reports whether the JSON text b nests arrays and objects deeper
// than max, without decoding it (strings are skipped, brackets inside them
// do not count).
func tooDeep(b []byte, max int) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			if depth++; depth > max {
				return true
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return false
}

// errorResponse encodes an error answer.
func errorResponse(id json.RawMessage, code int, message, data string) []byte {
	return encode(response{JSONRPC: "2.0", Error: &rpcError{Code: code, Message: message, Data: data}, ID: id})
}

// resultResponse encodes a result answer.
func resultResponse(id json.RawMessage, result any) ([]byte, error) {
	b, err := marshal(result)
	if err != nil {
		return nil, err
	}
	raw := json.RawMessage(b)
	return encode(response{JSONRPC: "2.0", Result: &raw, ID: id}), nil
}

// marshal encodes v as Kanboard's PHP does (JSON_UNESCAPED_SLASHES |
// JSON_UNESCAPED_UNICODE): no HTML escaping.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, errors.ServerGeneric(err)
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

func encode(r response) []byte {
	b, err := marshal(r)
	if err != nil { // strings, numbers and valid raw JSON only
		return []byte(`{"jsonrpc":"2.0","error":{"code":-32603,"message":"Internal error"},"id":null}`)
	}
	return b
}

// Error lets a procedure answer its own JSON-RPC error.
func (e *rpcError) Error() string { return e.Message }
