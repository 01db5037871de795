package main

import (
	"io"
	"os"
	"testing"
)

// TestRootPasswordLeavesEnvironment: root's password is read into the
// configuration and then gone from the environment that children inherit.
func TestRootPasswordLeavesEnvironment(t *testing.T) {
	t.Setenv("GROUPD_ROOT_PASSWORD", "first-start-secret")
	cfg, err := parseConfig(nil, os.Getenv, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	unsetRootPassword()
	if cfg.RootPassword != "first-start-secret" {
		t.Fatalf("root password %q", cfg.RootPassword)
	}
	if v, ok := os.LookupEnv("GROUPD_ROOT_PASSWORD"); ok {
		t.Fatalf("GROUPD_ROOT_PASSWORD is still set: %q", v)
	}
}

// TestLimitFlags: the new limits read their flags and environment variables.
func TestLimitFlags(t *testing.T) {
	env := map[string]string{"GROUPD_MAX_CONNS": "10", "GROUPD_BODY_MIN_RATE": "2048", "GROUPD_PPROF_ALLOW_REMOTE": "true"}
	cfg, err := parseConfig([]string{"-body-read-timeout", "5s"}, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MaxConns != 10 || cfg.BodyMinRate != 2048 || !cfg.PprofAllowRemote || cfg.BodyReadTimeout.String() != "5s" {
		t.Fatalf("config: %+v", cfg)
	}
	if _, err := parseConfig([]string{"-max-conns", "-1"}, func(string) string { return "" }, io.Discard); err == nil {
		t.Fatal("a negative -max-conns was accepted")
	}
}
