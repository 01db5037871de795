package console

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/gorilla/mux"
)

func serve(t *testing.T, h *Handler, method, path string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := mux.NewRouter()
	h.Register(r)
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, req)
	return w
}

func TestServe(t *testing.T) {
	h, err := New()
	if err != nil {
		t.Fatal(err)
	}
	w := serve(t, h, "GET", "/console")
	if w.Code != http.StatusMovedPermanently || w.Header().Get("Location") != "/console/" {
		t.Fatalf("/console: %d %v", w.Code, w.Header())
	}
	for path, ctype := range map[string]string{
		"/console/":           "text/html; charset=utf-8",
		"/console/index.html": "text/html; charset=utf-8",
		"/console/app.js":     "text/javascript; charset=utf-8",
		"/console/app.css":    "text/css; charset=utf-8",
	} {
		w := serve(t, h, "GET", path)
		if w.Code != 200 || w.Header().Get("Content-Type") != ctype || w.Body.Len() == 0 {
			t.Fatalf("%s: %d %q", path, w.Code, w.Header().Get("Content-Type"))
		}
		if w.Header().Get("Content-Security-Policy") != ContentSecurityPolicy || w.Header().Get("ETag") == "" {
			t.Fatalf("%s: headers %v", path, w.Header())
		}
		if revalidated := serve(t, h, "GET", path, "If-None-Match", w.Header().Get("ETag")); revalidated.Code != http.StatusNotModified {
			t.Fatalf("%s with its ETag: %d", path, revalidated.Code)
		}
		if w := serve(t, h, "HEAD", path); w.Code != 200 || w.Body.Len() != 0 {
			t.Fatalf("HEAD %s: %d, %d bytes", path, w.Code, w.Body.Len())
		}
	}
	if w := serve(t, h, "GET", "/console/missing.js"); w.Code != 400 || !strings.Contains(w.Body.String(), "error.api.invalid_api") {
		t.Fatalf("missing file: %d %s", w.Code, w.Body)
	}
}

// TestNoInlineCode: the Content-Security-Policy allows no inline script or
// style, and the page builds its DOM from server data as text only.
func TestNoInlineCode(t *testing.T) {
	html, err := static.ReadFile("static/index.html")
	if err != nil {
		t.Fatal(err)
	}
	for _, re := range []string{`<script(?:\s[^>]*)?>[^<]`, `\sstyle=`, `\son[a-z]+=`, `<style`} {
		if m := regexp.MustCompile(re).Find(html); m != nil {
			t.Errorf("index.html has inline code (%s): %q", re, m)
		}
	}
	js, err := static.ReadFile("static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "setAttribute('style'", "localStorage"} {
		if strings.Contains(string(js), bad) {
			t.Errorf("app.js uses %s", bad)
		}
	}
}
