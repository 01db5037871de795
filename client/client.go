// Package client is a typed Go client of the groupd API (the easydb 5 group
// API with groupd's additions): sessions, groups, users and memberships.
//
// Every refusal comes back as an *Error carrying the easydb error body
// (realm, code, parameters); a failure to reach the server or to read its
// answer is a *TransportError. cmd/groupctl is built on this package, and any
// Go program may use it:
//
//	c := client.New("http://127.0.0.1:8080", "")
//	if _, err := c.Login(ctx, "root", password); err != nil { ... }
//	groups, total, err := c.ListGroups(ctx, client.GroupFilter{Name: "edit", Limit: 50})
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Client talks to one groupd server with one session token. It is safe for
// concurrent use once configured.
type Client struct {
	// BaseURL is the server's address, e.g. http://127.0.0.1:8080.
	BaseURL string
	// Token is the session token, sent as x-easydb-token ("" sends none).
	Token string
	// HTTP is the HTTP client used; nil means a client with sane timeouts.
	HTTP *http.Client
	// UserAgent is sent with every request when set.
	UserAgent string
	// Parallel is how many pages AllGroups and AllUsers read at once
	// (default 1).
	Parallel int
}

// New returns a client of the server at baseURL using token ("" for none).
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token}
}

var defaultHTTP = &http.Client{
	Timeout: 10 * time.Minute, // a bulk request of 10^4 items may take a while
	Transport: &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 10 * time.Minute,
	},
}

func (c *Client) http() *http.Client {
	if c.HTTP != nil {
		return c.HTTP
	}
	return defaultHTTP
}

// Error is an easydb error answered by the server: realm "api" or "user"
// (HTTP 400: the request was refused) or "server" (HTTP 500). Parameters
// values are strings; in a bulk request Parameters["index"] names the item
// (0-based) and nothing of the request was written.
type Error struct {
	Status      int               `json:"-"`
	Realm       string            `json:"realm"`
	Code        string            `json:"code"`
	Parameters  map[string]string `json:"parameters,omitempty"`
	Description string            `json:"description,omitempty"`
	UUID        string            `json:"uuid,omitempty"`
}

// Error is "code (k=v, ...): description", parameters sorted by name.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.Code)
	if e.Code == "" {
		b.WriteString("HTTP " + strconv.Itoa(e.Status))
	}
	if p := e.ParamString(); p != "" {
		b.WriteString(" (" + p + ")")
	}
	if e.Description != "" {
		b.WriteString(": " + e.Description)
	}
	if e.UUID != "" {
		b.WriteString(" [uuid " + e.UUID + "]")
	}
	return b.String()
}

// ParamString is the parameters as "k=v, k=v", sorted by name.
func (e *Error) ParamString() string {
	keys := make([]string, 0, len(e.Parameters))
	for k := range e.Parameters {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + e.Parameters[k]
	}
	return strings.Join(parts, ", ")
}

// Index is parameters.index of a bulk refusal, or -1 when there is none.
func (e *Error) Index() int {
	s, ok := e.Parameters["index"]
	if !ok {
		return -1
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// IsServer reports whether the server failed (realm server, or an answer
// that is no easydb error at all) rather than refused the request.
func (e *Error) IsServer() bool { return e.Realm == "server" || e.Realm == "" }

// TransportError is a request that got no usable answer: the server could not
// be reached, the connection broke, or the answer was not what the API sends.
type TransportError struct {
	Method, Path string
	Err          error
}

func (e *TransportError) Error() string { return e.Method + " " + e.Path + ": " + e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// CodeOf is the easydb code of err, or "" when err is no *Error.
func CodeOf(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// request is one API call.
type request struct {
	method string
	path   string
	query  url.Values
	body   any // nil: none; []byte: sent as is; else JSON-encoded
	out    any // decoded from a 200 answer when not nil
}

// do sends r and decodes its answer; it returns the response headers.
func (c *Client) do(ctx context.Context, r request) (http.Header, error) {
	u := c.BaseURL + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.body != nil {
		raw, ok := r.body.([]byte)
		if !ok {
			var err error
			if raw, err = json.Marshal(r.body); err != nil {
				return nil, fmt.Errorf("encode %s %s: %w", r.method, r.path, err)
			}
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return nil, &TransportError{r.method, r.path, err}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.Token != "" {
		req.Header.Set("x-easydb-token", c.Token)
	}
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	resp, err := c.http().Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &TransportError{r.method, r.path, err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(raw, e) != nil || e.Code == "" {
			// Not an easydb error (a proxy in between, a crash): say what came.
			e = &Error{Status: resp.StatusCode, Description: "unexpected answer: " + snippet(raw)}
		}
		e.Status = resp.StatusCode
		return resp.Header, e
	}
	if r.out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Header, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(r.out); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &TransportError{r.method, r.path, fmt.Errorf("reading the answer: %w", err)}
	}
	return resp.Header, nil
}

// get sends an idempotent request, retrying twice after a transport error.
func (c *Client) get(ctx context.Context, r request) (http.Header, error) {
	var h http.Header
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(attempt) * 300 * time.Millisecond):
			}
		}
		h, err = c.do(ctx, r)
		var te *TransportError
		if !errors.As(err, &te) {
			return h, err
		}
	}
	return h, err
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}

func totalCount(h http.Header) int {
	n, err := strconv.Atoi(h.Get("X-Total-Count"))
	if err != nil {
		return -1
	}
	return n
}

func idPath(prefix string, id int64) string { return prefix + "/" + strconv.FormatInt(id, 10) }
