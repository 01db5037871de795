// Package openapi is groupd's API contract: an OpenAPI 3.1 document,
// embedded, served at /api/v1/openapi.json, and used by the integration
// tests to validate every request and response they exchange, so that the
// document cannot drift from the server.
package openapi

import (
	"context"
	_ "embed"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/groupd/groupd/errors"
)

//go:embed openapi.yaml
var source []byte

var (
	once    sync.Once
	doc     *openapi3.T
	docJSON []byte
	loadErr error
)

// Load parses and validates the document (once).
func Load() (*openapi3.T, []byte, error) {
	once.Do(func() {
		loader := openapi3.NewLoader()
		doc, loadErr = loader.LoadFromData(source)
		if loadErr != nil {
			return
		}
		if loadErr = doc.Validate(context.Background()); loadErr != nil {
			return
		}
		docJSON, loadErr = json.Marshal(doc)
	})
	return doc, docJSON, loadErr
}

// Handler serves the document as JSON.
func Handler() (http.Handler, error) {
	_, b, err := Load()
	if err != nil {
		return nil, errors.Errorf("openapi document: %w", err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(b)
	}), nil
}

// Parse returns a fresh copy of the document, for callers that adjust it
// (tests point its servers at a test server).
func Parse() (*openapi3.T, error) {
	d, err := openapi3.NewLoader().LoadFromData(source)
	if err != nil {
		return nil, err
	}
	return d, d.Validate(context.Background())
}
