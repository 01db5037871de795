package openapi

import "testing"

func TestDocumentIsValid(t *testing.T) {
	d, b, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	if d.OpenAPI != "3.1.0" || len(b) == 0 {
		t.Fatalf("openapi %q, %d bytes", d.OpenAPI, len(b))
	}
	for _, p := range []string{"/api/v1/session", "/api/v1/session/authenticate", "/api/v1/session/deauthenticate",
		"/api/v1/group", "/api/v1/group/{id}", "/api/v1/events", "/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"} {
		if d.Paths.Find(p) == nil {
			t.Errorf("path %s is not documented", p)
		}
	}
}
