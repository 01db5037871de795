package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// config is what login keeps: the server, the session token and who it is.
type config struct {
	URL    string `json:"url,omitempty"`
	Token  string `json:"token,omitempty"`
	Login  string `json:"login,omitempty"`
	UserID int64  `json:"user_id,omitempty"`
}

// configPath is $GROUPCTL_CONFIG, else $XDG_CONFIG_HOME/groupctl/config.json,
// else ~/.config/groupctl/config.json.
func configPath(e *env) (string, error) {
	if p := e.getenv("GROUPCTL_CONFIG"); p != "" {
		return p, nil
	}
	dir := e.getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home := e.getenv("HOME")
		if home == "" {
			var err error
			if home, err = os.UserHomeDir(); err != nil {
				return "", fmt.Errorf("no config directory: set XDG_CONFIG_HOME or HOME")
			}
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "groupctl", "config.json"), nil
}

// configFile is what the config file holds: saved servers ("contexts",
// like kubectl's) by name, and which one commands use when --context is not
// given. The current context is also written at the top level, as older
// groupctl versions wrote their single server.
type configFile struct {
	config
	Current  string             `json:"current_context,omitempty"`
	Contexts map[string]*config `json:"contexts,omitempty"`
}

// defaultContext is the name of the context a login without --context
// saves when there is no current one (and of a pre-context config file's).
const defaultContext = "default"

func readConfigFile(e *env) (*configFile, string, error) {
	p, err := configPath(e)
	if err != nil {
		return nil, "", err
	}
	f := &configFile{}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		b, err = nil, nil
	}
	if err != nil {
		return nil, "", err
	}
	if b != nil {
		if err := json.Unmarshal(b, f); err != nil {
			return nil, "", fmt.Errorf("%s: %v", p, err)
		}
	}
	if f.Contexts == nil {
		f.Contexts = map[string]*config{}
	}
	if len(f.Contexts) == 0 && f.URL != "" {
		c := f.config
		f.Contexts[defaultContext] = &c
		f.Current = defaultContext
	}
	return f, p, nil
}

// contextName is the context this invocation uses: --context, else
// GROUPCTL_CONTEXT, else the current one, else "default".
func (a *app) contextName(f *configFile) string {
	return firstNonEmpty(a.context, a.getenv("GROUPCTL_CONTEXT"), f.Current, defaultContext)
}

// loadConfig is the selected context (empty when nothing is saved under its
// name); its name, and whether it was named explicitly.
func (a *app) loadConfig() (*config, string, error) {
	f, _, err := readConfigFile(a.env)
	if err != nil {
		return nil, "", err
	}
	name := a.contextName(f)
	if c := f.Contexts[name]; c != nil {
		cp := *c
		return &cp, name, nil
	}
	return &config{}, name, nil
}

// currentChoice says whether saveConfig makes the context it saves the
// current one.
type currentChoice int

const (
	keepCurrent currentChoice = iota // the current context stays (unless there is none yet)
	makeCurrent
)

// saveConfig stores c as the context name, and makes it the current one when
// choice is makeCurrent or there is no current context yet.
func (a *app) saveConfig(name string, c *config, choice currentChoice) error {
	f, _, err := readConfigFile(a.env)
	if err != nil {
		return err
	}
	f.Contexts[name] = c
	if choice == makeCurrent || f.Current == "" {
		f.Current = name
	}
	return f.write(a.env)
}

// write saves the file readable by its owner only (0600, directory 0700),
// through a temporary file so that a crash never leaves half a file.
func (f *configFile) write(e *env) error {
	f.config = config{}
	if c := f.Contexts[f.Current]; c != nil {
		f.config = *c
	}
	p, err := configPath(e)
	if err != nil {
		return err
	}
	if mkdirAllErr := os.MkdirAll(filepath.Dir(p), 0o700); mkdirAllErr != nil {
		return mkdirAllErr
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".config-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), p)
}
