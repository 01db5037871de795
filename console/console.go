// Package console is groupd's admin console: a web page to manage groups,
// their members and their rights, served at /console/ from files embedded in
// the binary (plain HTML, CSS and JavaScript, no build step). The page is a
// client of the public API only (/api/v1/session, /api/v1/group,
// /api/v1/group/{id}/members, /api/v1/user, /api/v1/events): it has no
// routes of its own beyond its files, and the server decides every right.
package console

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"time"

	"github.com/gorilla/mux"
	"github.com/groupd/groupd/errors"
	"github.com/groupd/groupd/web"
)

//go:embed static
var static embed.FS

// Path is where the console is served.
const Path = "/console/"

// ContentSecurityPolicy allows the page nothing but its own files and the API
// of the same origin: no inline script or style, no framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"

type file struct {
	body        []byte
	contentType string
	etag        string
}

// Handler serves the embedded files.
type Handler struct {
	files map[string]file
}

// New reads the embedded files.
func New() (*Handler, error) {
	h := &Handler{files: map[string]file{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := static.ReadFile(p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		ct := mime.TypeByExtension(path.Ext(p))
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.files[path.Base(p)] = file{body: b, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, errors.Errorf("console: %w", err)
	}
	if _, ok := h.files["index.html"]; !ok {
		return nil, errors.Errorf("console: index.html is not embedded")
	}
	return h, nil
}

// Register mounts /console (a redirect), /console/ (the page) and
// /console/{file} (its scripts and styles). They need no session: the page
// logs in with the session API.
func (h *Handler) Register(r *mux.Router) {
	r.Handle("/console", http.RedirectHandler(Path, http.StatusMovedPermanently)).
		Methods(http.MethodGet, http.MethodHead)
	r.Handle(Path, web.Handle(h.serve)).Methods(http.MethodGet, http.MethodHead)
	r.Handle(Path+"{file}", web.Handle(h.serve)).Methods(http.MethodGet, http.MethodHead)
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["file"]
	if name == "" {
		name = "index.html"
	}
	f, ok := h.files[name]
	if !ok {
		return errors.InvalidAPI(r.URL.Path)
	}
	hd := w.Header()
	hd.Set("Content-Type", f.contentType)
	// Revalidated on every load (a 304 when unchanged), so that a new
	// groupd's console is used at once.
	hd.Set("Cache-Control", "no-cache")
	hd.Set("ETag", f.etag)
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Referrer-Policy", "no-referrer")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(f.body))
	return nil
}
