package kanboard

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"

	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/policy"
	"github.com/groupd/groupd/web"
)

// exchange is one HTTP request to the endpoint: its calls share the
// credentials, checked once, at the first call that needs them.
type exchange struct {
	s *Service
	r *http.Request

	authed    bool
	principal *policy.Principal
	app       bool // the application user (jsonrpc:<token>)
	readOnly  bool // a read-only API token
}

// call is one procedure call of an exchange.
type call struct {
	x      *exchange
	method string
	id     json.RawMessage
}

// one answers one request object of the payload: its encoded response, or
// nil for a notification (whose errors Kanboard drops too, but for the
// malformed request itself). An *abort error ends the whole exchange.
func (x *exchange) one(v any) ([]byte, error) {
	req, ok := v.(map[string]any)
	if !ok {
		if _, isArray := v.([]any); isArray {
			return errorResponse(jsonNull, codeInvalidRequest, "Invalid Request", ""), nil
		}
		return errorResponse(jsonNull, codeParseError, "Parse error", ""), nil
	}
	version, _ := req["jsonrpc"].(string)
	method, methodOK := req["method"].(string)
	params := req["params"]
	switch params.(type) {
	case nil, []any, map[string]any:
	default:
		methodOK = false // scalar params: an invalid request
	}
	if version != "2.0" || !methodOK {
		return errorResponse(jsonNull, codeInvalidRequest, "Invalid Request", ""), nil
	}
	c := &call{x: x, method: method, id: jsonNull}
	notification := req["id"] == nil
	if !notification {
		raw, err := json.Marshal(req["id"])
		if err != nil {
			return nil, errors.ServerGeneric(err)
		}
		c.id = raw
	}
	result, rpcErr, err := c.run(params)
	if err != nil {
		return nil, err
	}
	if notification {
		return nil, nil
	}
	if rpcErr != nil {
		return errorResponse(c.id, rpcErr.Code, rpcErr.Message, rpcErr.Data), nil
	}
	b, err := resultResponse(c.id, result)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// run authenticates (once per exchange), finds the procedure, binds its
// arguments and runs it, in Kanboard's order: credentials, then the
// method, then the procedure's own access rule, then the arguments.
func (c *call) run(params any) (any, *rpcError, error) {
	if err := c.x.authenticate(); err != nil {
		return nil, nil, err
	}
	proc, ok := procedures[c.method]
	if !ok {
		return nil, &rpcError{Code: codeMethodNotFound, Message: "Method not found"}, nil
	}
	if proc.userOnly && c.x.app {
		// ProcedureAuthorization: the "Me" procedures need a user.
		c.log().Info("kanboard: refused", slog.String("procedure", c.method),
			slog.String("cause", "not available with the application credentials"))
		return nil, nil, errForbidden
	}
	if proc.write && c.x.readOnly {
		c.log().Info("kanboard: refused", slog.String("procedure", c.method),
			slog.String("cause", "read-only API token"))
		return nil, nil, errForbidden
	}
	args, msg := bind(proc.params, params)
	if msg != "" {
		return nil, &rpcError{Code: codeInvalidParams, Message: "Invalid params", Data: msg}, nil
	}
	result, err := proc.run(c, args)
	if err == nil {
		return result, nil, nil
	}
	var a *abort
	if errors.As(err, &a) {
		return nil, nil, err
	}
	var own *rpcError
	if errors.As(err, &own) {
		return nil, own, nil
	}
	if e := errors.From(err); e.Realm == errors.RealmServer {
		e = errors.Logged(c.x.r.Context(), c.log(), e)
		return nil, &rpcError{Code: codeInternalError, Message: "Internal error", Data: e.UUID}, nil
	}
	// A procedure returns its refusals as Kanboard's answers; any other
	// typed error here is one of its own arguments' (proc.run says so).
	return nil, &rpcError{Code: codeInvalidParams, Message: "Invalid params", Data: err.Error()}, nil
}

func (c *call) log() *slog.Logger { return web.Logger(c.x.r.Context()) }

// param is one parameter of a procedure, as its PHP signature declares it.
type param struct {
	name     string
	required bool
	def      any // the default of an optional parameter (nil: PHP's null)
}

// bind turns the request's params into the procedure's arguments in
// declaration order, as Kanboard's ProcedureHandler does: first the count
// (fewer than the required ones: "Wrong number of arguments", more than
// declared: "Too many arguments"), then positional params as they are, or
// named params by name, taking defaults and ignoring unknown names
// ("Missing argument: NAME" for a required one that is absent). A JSON
// object whose keys are "0", "1", ... in order is positional, as PHP reads
// it. The message is "" on success.
func bind(decl []param, params any) ([]any, string) {
	required := 0
	for _, p := range decl {
		if p.required {
			required++
		}
	}
	var positional []any
	var named map[string]any
	n := 0
	switch v := params.(type) {
	case []any:
		positional, n = v, len(v)
	case map[string]any:
		named, n = v, len(v)
		if seq, ok := sequential(v); ok {
			positional, named = seq, nil
		}
	}
	if n < required {
		return nil, "Wrong number of arguments"
	}
	if n > len(decl) {
		return nil, "Too many arguments"
	}
	args := make([]any, len(decl))
	for i, p := range decl {
		switch {
		case positional != nil && i < len(positional):
			args[i] = positional[i]
		case named != nil:
			if v, ok := named[p.name]; ok {
				args[i] = v
			} else if p.required {
				return nil, "Missing argument: " + p.name
			} else {
				args[i] = p.def
			}
		default:
			args[i] = p.def
		}
	}
	return args, ""
}

// sequential returns the values of m in key order when its keys are
// exactly "0" ... "len-1" (PHP turns such an object into a list).
func sequential(m map[string]any) ([]any, bool) {
	if len(m) == 0 {
		return nil, false
	}
	keys := make([]int, 0, len(m))
	for k := range m {
		i, err := strconv.Atoi(k)
		if err != nil || strconv.Itoa(i) != k {
			return nil, false
		}
		keys = append(keys, i)
	}
	slices.Sort(keys)
	out := make([]any, len(keys))
	for j, i := range keys {
		if i != j {
			return nil, false
		}
		out[j] = m[strconv.Itoa(i)]
	}
	return out, true
}
