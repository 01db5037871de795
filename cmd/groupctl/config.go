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

func loadConfig(e *env) (*config, error) {
	p, err := configPath(e)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return &config{}, nil
	}
	if err != nil {
		return nil, err
	}
	var c config
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %v", p, err)
	}
	return &c, nil
}

// save writes the config readable by its owner only (0600, directory 0700),
// through a temporary file so that a crash never leaves half a file.
func (c *config) save(e *env) error {
	p, err := configPath(e)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return err
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(p), ".config-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), p)
}
