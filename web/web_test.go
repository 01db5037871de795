package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/web"
	"github.com/prometheus/client_golang/prometheus"
)

type errBody struct {
	Realm       string            `json:"realm"`
	Code        string            `json:"code"`
	Parameters  map[string]string `json:"parameters"`
	Description string            `json:"description"`
	UUID        string            `json:"uuid"`
}

// newServer serves a router with the same middleware groupd uses.
func newServer(t *testing.T, maxBody int64, logs io.Writer) *httptest.Server {
	r := mux.NewRouter()
	r.Use(web.RouteTemplate)
	r.NotFoundHandler = web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return errors.InvalidAPI(r.URL.Path)
	})
	r.MethodNotAllowedHandler = web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return errors.InvalidRequestMethod(r.Method, r.URL.Path)
	})
	r.Handle("/echo", web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		var v any
		if err := web.DecodeJSON(r, &v); err != nil {
			return err
		}
		return web.JSON(w, v)
	})).Methods("POST")
	r.Handle("/panic", web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		panic("the secret cause")
	})).Methods("GET")
	r.Handle("/slow", web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		<-r.Context().Done() // the client gives up first
		return errors.Database(r.Context().Err())
	})).Methods("GET")
	r.Handle("/fail", web.Handle(func(w http.ResponseWriter, r *http.Request) error {
		return errors.Database(errors.New("connection refused to 10.1.2.3"))
	})).Methods("GET")
	log := slog.New(slog.NewTextHandler(logs, nil))
	srv := httptest.NewServer(web.Observe(log, web.NewMetrics(prometheus.NewRegistry()), maxBody)(r))
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, method, url, body string) (int, errBody, []byte, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e errBody
	_ = json.Unmarshal(b, &e)
	return resp.StatusCode, e, b, resp.Header
}

func TestErrorPaths(t *testing.T) {
	var logs bytes.Buffer
	srv := newServer(t, 1024, &logs)

	cases := []struct {
		name, method, path, body string
		status                   int
		realm, code              string
	}{
		{"unknown path", "GET", "/api/v1/nothing", "", 400, "api", "error.api.invalid_api"},
		{"wrong method", "DELETE", "/echo", "", 400, "api", "error.api.invalid_request_method"},
		{"not JSON", "POST", "/echo", "{not json", 400, "api", "error.api.invalid_content"},
		{"empty body", "POST", "/echo", "", 400, "api", "error.api.invalid_content"},
		{"too large", "POST", "/echo", `"` + strings.Repeat("x", 2000) + `"`, 400, "api", "error.api.invalid_content"},
		{"panic", "GET", "/panic", "", 500, "server", "error.server.generic"},
		{"server error", "GET", "/fail", "", 500, "server", "error.server.database"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, e, raw, h := do(t, c.method, srv.URL+c.path, c.body)
			if status != c.status || e.Realm != c.realm || e.Code != c.code {
				t.Fatalf("got %d %s", status, raw)
			}
			if h.Get("Content-Type") != "application/json; charset=utf-8" {
				t.Errorf("content type %q", h.Get("Content-Type"))
			}
			if h.Get("X-Easydb-API-Version") == "" {
				t.Error("no X-Easydb-API-Version")
			}
			var keys map[string]any
			_ = json.Unmarshal(raw, &keys)
			for k := range keys {
				switch k {
				case "realm", "code", "parameters", "description", "uuid":
				default:
					t.Errorf("unexpected key %q in %s", k, raw)
				}
			}
		})
	}

	t.Run("body limit parameter", func(t *testing.T) {
		_, e, raw, _ := do(t, "POST", srv.URL+"/echo", `"`+strings.Repeat("x", 2000)+`"`)
		if e.Parameters["limit"] != "1024" {
			t.Fatalf("want limit 1024: %s", raw)
		}
	})

	t.Run("server error cause is logged, not returned", func(t *testing.T) {
		for _, path := range []string{"/panic", "/fail"} {
			logs.Reset()
			_, e, raw, _ := do(t, "GET", srv.URL+path, "")
			if len(e.UUID) != 36 {
				t.Fatalf("want a uuid: %s", raw)
			}
			for _, secret := range []string{"secret cause", "10.1.2.3"} {
				if bytes.Contains(raw, []byte(secret)) {
					t.Fatalf("cause leaked to client: %s", raw)
				}
			}
			if !strings.Contains(logs.String(), e.UUID) {
				t.Fatalf("uuid %s not logged: %s", e.UUID, logs.String())
			}
			want := map[string]string{"/panic": "the secret cause", "/fail": "10.1.2.3"}[path]
			if !strings.Contains(logs.String(), want) {
				t.Fatalf("cause not logged: %s", logs.String())
			}
		}
	})

	t.Run("keeps serving after a panic", func(t *testing.T) {
		status, _, raw, _ := do(t, "POST", srv.URL+"/echo", `{"a":1}`)
		if status != 200 || strings.TrimSpace(string(raw)) != `{"a":1}` {
			t.Fatalf("got %d %s", status, raw)
		}
	})

	t.Run("one access line, no query string", func(t *testing.T) {
		logs.Reset()
		do(t, "POST", srv.URL+"/echo?token=SECRETTOKEN&password=hunter2", `{}`)
		if strings.Contains(logs.String(), "SECRETTOKEN") || strings.Contains(logs.String(), "hunter2") {
			t.Fatalf("query string logged: %s", logs.String())
		}
		if n := strings.Count(logs.String(), "msg=request "); n != 1 {
			t.Fatalf("want 1 access line, got %d: %s", n, logs.String())
		}
		if !strings.Contains(logs.String(), "route=/echo") || !strings.Contains(logs.String(), "status=200") {
			t.Fatalf("access line lacks route or status: %s", logs.String())
		}
	})
}

// TestClientGoneIsNotAServerError: a request its client abandons is logged as
// status 499, not as a server error with a uuid.
func TestClientGoneIsNotAServerError(t *testing.T) {
	var logs syncBuffer
	srv := newServer(t, 1024, &logs)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/slow", nil)
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("want the client's own timeout")
	}
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(logs.String(), "status=499") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "status=499") || strings.Contains(logs.String(), "server error") {
		t.Fatalf("want an access line with status 499 and no server error:\n%s", logs.String())
	}
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
