package integration

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/groupd/groupd/openapi"
)

// contract validates exchanges against the OpenAPI document, so that the
// document and the server cannot drift apart: every response must be
// documented (status, headers, body schema, and for errors the code), and
// every request the server accepts must be one the document allows.
type contract struct {
	router routers.Router
}

var (
	contractMu    sync.Mutex
	contractDoc   *openapi3.T // parsed once: 0.4 s under -race
	contractByURL = map[string]*contract{}
)

func contractFor(tb testing.TB, baseURL string) *contract {
	contractMu.Lock()
	defer contractMu.Unlock()
	if c, ok := contractByURL[baseURL]; ok {
		return c
	}
	if contractDoc == nil {
		doc, err := openapi.Parse()
		if err != nil {
			tb.Fatalf("openapi: %v", err)
		}
		contractDoc = doc
	}
	// Every server shares the parsed document, which routing and validation
	// only read; each gets a router for its own URL.
	doc := *contractDoc
	doc.Servers = openapi3.Servers{{URL: baseURL}}
	router, err := gorillamux.NewRouter(&doc)
	if err != nil {
		tb.Fatalf("openapi router: %v", err)
	}
	c := &contract{router: router}
	contractByURL[baseURL] = c
	return c
}

// check validates one exchange; reqBody is what was sent.
func (c *contract) check(tb testing.TB, req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	tb.Helper()
	check := req.Clone(context.Background())
	check.Body = io.NopCloser(bytes.NewReader(reqBody))
	route, params, err := c.router.FindRoute(check)
	if err != nil {
		// Only an endpoint the server does not have may be undocumented,
		// and the server must say so.
		if resp.StatusCode == 400 && (bytes.Contains(respBody, []byte("error.api.invalid_api")) ||
			bytes.Contains(respBody, []byte("error.api.invalid_request_method"))) {
			return
		}
		tb.Fatalf("contract: %s %s is not in the OpenAPI document (%v), yet the server answered %d",
			req.Method, req.URL.Path, err, resp.StatusCode)
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		IncludeResponseStatus: true,
		MultiError:            false,
	}
	in := &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route, Options: opts}
	// A refused request may be anything (the hostile-input tests send
	// everything): only what the server accepted must be allowed, and
	// validating refused bodies of a MiB was most of those tests' time.
	if resp.StatusCode < 300 {
		if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
			tb.Fatalf("contract: the server accepted a request the document does not allow: %s %s: %v",
				req.Method, req.URL.Path, firstLine(err))
		}
	}
	out := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                opts,
	}
	if len(respBody) == 0 && emptyBodyAllowed(route, resp.StatusCode) {
		// An answer the document marks x-empty-body (Kanboard's answer to
		// notifications) may have no body: its headers are still checked.
		noBody := *opts
		noBody.ExcludeResponseBody = true
		out.Options = &noBody
	}
	if err := openapi3filter.ValidateResponse(context.Background(), out); err != nil {
		tb.Fatalf("contract: response of %s %s (%d) does not match the document: %v\nbody: %.600s",
			req.Method, req.URL.Path, resp.StatusCode, firstLine(err), respBody)
	}
}

// emptyBodyAllowed reports whether the document marks the response of
// route with status as one that may have an empty body (x-empty-body).
func emptyBodyAllowed(route *routers.Route, status int) bool {
	r := route.Operation.Responses.Status(status)
	if r == nil || r.Value == nil {
		return false
	}
	allowed, _ := r.Value.Extensions["x-empty-body"].(bool)
	return allowed
}

func firstLine(err error) string {
	s := err.Error()
	if i := strings.Index(s, "\nSchema:"); i > 0 {
		s = s[:i]
	}
	if len(s) > 800 {
		s = s[:800]
	}
	return s
}
